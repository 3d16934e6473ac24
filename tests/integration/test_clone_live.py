"""clone refuses to touch a stack that has live resources unless told --yes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace

pytestmark = pytest.mark.integration


def test_clone_onto_live_stack_needs_yes(tmp_path: Path) -> None:
    files = {n: ROOT / n for n in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml", "clone-rules.yaml")}
    ws = Workspace(tmp_path, files)
    ws.pulumi("stack", "init", "production")
    state = json.loads(ws.pulumi("stack", "export").stdout)
    stack_urn = "urn:pulumi:production::launchplan::pulumi:pulumi:Stack::launchplan-production"
    state["deployment"]["resources"] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack"},
        {
            "urn": "urn:pulumi:production::launchplan::launchplan:heroku:App::sc-mvp-production",
            "custom": False,
            "type": "launchplan:heroku:App",
            "parent": stack_urn,
        },
    ]
    (tmp_path / "live.json").write_text(json.dumps(state))
    ws.pulumi("stack", "import", "--file", str(tmp_path / "live.json"))

    env = {**os.environ, **ws.env}
    env.pop("PULUMI_HOME")  # launchplan picks the engine and its plugins itself
    before = (ws.dir / "Pulumi.production.yaml").read_text()
    run = [str(ROOT / ".venv" / "bin" / "launchplan"), "clone", "staging", "production"]
    dry = subprocess.run(run, cwd=ws.dir, env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 2 and "production has 1 live resources" in dry.stderr and "--yes" in dry.stderr
    assert (ws.dir / "Pulumi.production.yaml").read_text() == before
    applied = subprocess.run([*run, "--yes"], cwd=ws.dir, env=env, capture_output=True, text=True, timeout=120)
    assert applied.returncode == 0, applied.stderr
