"""Every example stack file rehearsed by its path (`launchplan sandbox up examples/Pulumi.<name>.yaml`),
unchanged, in one sandbox: each applies, a second `up` has nothing to change, the example files
are never written, and `sandbox down --destroy-protected` removes every rehearsed stack."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.pulumi_cli import ROOT
from tests.support.sandbox import launchplan, sandbox_copy

pytestmark = pytest.mark.integration

EXAMPLES = sorted((ROOT / "examples").glob("Pulumi.*.yaml"))


@pytest.fixture
def project() -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="launchplan-examples-"))  # outside pytest's tmp root: PostgreSQL runs as nobody
    try:
        copy, _ = sandbox_copy(where)
        (copy / "examples").mkdir()
        for example in EXAMPLES:
            shutil.copy(example, copy / "examples" / example.name)
        yield copy
        launchplan(copy, "sandbox", "down", "--destroy-protected")  # whatever a failed step left running
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_every_example_is_rehearsed_by_its_path(project: Path) -> None:
    assert len(EXAMPLES) >= 4, "the examples folder lost its stack files"
    originals = {p: p.read_text() for p in (project / "examples").glob("*.yaml")}
    names = []
    for example in EXAMPLES:
        name = example.name.removeprefix("Pulumi.").removesuffix(".yaml")
        names.append(name)
        path = f"examples/{example.name}"
        up = launchplan(project, "sandbox", "up", path)
        assert up.returncode == 0, f"{path}:\n{up.stdout}{up.stderr}"
        assert f"{name} stack" in up.stdout, up.stdout
        again = launchplan(project, "sandbox", "up", path)
        assert again.returncode == 0 and "Nothing to change" in again.stdout, again.stdout + again.stderr

    status = launchplan(project, "sandbox", "status", "--json")
    rehearsals = json.loads(status.stdout)["rehearsals"]
    assert sorted(rehearsals) == sorted(names) and all(count > 0 for count in rehearsals.values()), rehearsals
    assert {p: p.read_text() for p in originals} == originals, "an example file was written"

    down = launchplan(project, "sandbox", "down", "--destroy-protected")
    assert down.returncode == 0, down.stdout + down.stderr
    heroku = json.loads((project / ".sandbox" / "emulators" / "heroku.json").read_text())
    vercel = json.loads((project / ".sandbox" / "emulators" / "vercel.json").read_text())
    assert not heroku["apps"] and not heroku["addons"] and not vercel["projects"]
