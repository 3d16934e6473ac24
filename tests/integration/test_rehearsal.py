"""The README's runbook 004 rehearsal, run exactly as written there.

The block under "Rehearse the catering launch (runbook 004) locally" is taken from README.md (so
the documentation cannot rot) and run line by line in one bash session, in a fresh copy of the
project with its own git commit and free ports, as a newcomer would run it from a clean checkout.
Each line's exit code must be the one its `# exit N` comment says (0 otherwise), and each step's
output must show the runbook's acceptance check. Nothing may leave 127.0.0.1: every proxy variable
points at a closed loopback port.

The whole rehearsal's wall time and API writes are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.pulumi_cli import ROOT
from tests.support.sandbox import sandbox_copy

pytestmark = pytest.mark.integration

HEADING = "### Rehearse the catering launch (runbook 004) locally"
HEROKU_CLI = ROOT / "tools" / "heroku-cli" / "node_modules" / ".bin" / "heroku"
MARK = "@@launchplan-step"
LOG = ".sandbox/emulators/requests.jsonl"


@dataclass
class Step:
    command: str
    expect: int
    code: int = -1
    output: str = ""
    seconds: float = 0.0
    logged: int = 0  # lines in the emulators' request log when the step ended


def readme_block() -> list[Step]:
    """The rehearsal's commands, with the exit code each is documented to give."""
    text = (ROOT / "README.md").read_text()
    assert HEADING in text, f"README.md lost its section {HEADING!r}"
    section = text.split(HEADING, 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the rehearsal section has no ```sh block"
    steps = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        expect = re.search(r"#\s*exit (\d+)", line)
        steps.append(Step(line.strip(), int(expect.group(1)) if expect else 0))
    return steps


def test_the_readme_block_is_the_runbook() -> None:
    """The block covers every step the issue lists, in the runbook's order."""
    commands = [s.command for s in readme_block()]
    order = [
        "sandbox up staging",
        "sandbox psql staging",
        "sandbox env",
        "clone staging production --yes",
        "gate production",
        "gate staging",
        "sandbox up production",
        "clone staging production --data",
        "verify production",
        "heroku config:set",
        "drift production",
        "destroy --stack production",
    ]
    at = [next(i for i, c in enumerate(commands) if needle in c) for needle in order]
    assert at == sorted(at), f"steps out of the runbook's order: {list(zip(order, at, strict=True))}"


@pytest.fixture
def project() -> Iterator[Path]:
    """A fresh copy of the project: program, stack files, clone rules, sample data and policy pack,
    committed in a git repository of its own (the gate judges clean commits only)."""
    if not HEROKU_CLI.exists():
        pytest.fail(f"{HEROKU_CLI} is missing: run `make heroku-cli`")
    where = Path(tempfile.mkdtemp(prefix="launchplan-rehearsal-"))  # outside pytest's tmp root: PostgreSQL runs as nobody
    try:
        copy, _ = sandbox_copy(where)
        for name in ("Pulumi.staging.yaml", "Pulumi.production.yaml", "clone-rules.yaml", ".gitignore"):
            shutil.copy(ROOT / name, copy / name)
        (copy / "examples").mkdir()
        shutil.copy(ROOT / "examples" / "catering-sample-data.sql", copy / "examples")
        (copy / "policy").symlink_to(ROOT / "policy")
        git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
        git |= {"GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(where)}
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "rehearsal"]):
            subprocess.run(["git", *args], cwd=copy, check=True, env={**os.environ, **git})
        yield copy
        subprocess.run(  # whatever a failed step left running
            [str(ROOT / ".venv" / "bin" / "launchplan"), "sandbox", "down", "--destroy-protected"],
            cwd=copy, capture_output=True, timeout=600, env=_env(where),
        )  # fmt: skip
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _env(where: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PULUMI_", "HEROKU_", "LAUNCHPLAN_")) and "proxy" not in k.lower()
    }
    closed = "http://127.0.0.1:9"  # anything that tried to leave this machine fails loudly
    return env | {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(where / "home"),  # the Heroku CLI writes its cache and ~/.gitconfig here
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "http_proxy": closed,
        "https_proxy": closed,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",  # gRPC between the engine and its plugins reads the lower-case ones
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }


def run_block(project: Path, steps: list[Step]) -> None:
    """Every step in one bash session (so `eval "$(launchplan sandbox env)"` carries on), each
    followed by a marker with its exit code and time."""
    script = []
    for i, step in enumerate(steps):
        command = step.command.split("  #")[0].strip()  # the README's comment would swallow the closing brace
        script += [
            f"echo '{MARK} start {i}' $(date +%s.%N)",
            f"{{ {command} ; }} 2>&1",  # each step's own error text lands in its output
            f"echo '{MARK} end {i}' $? $(date +%s.%N) $(cat {LOG} 2>/dev/null | wc -l)",
            # what the Heroku emulator holds after each step, for the checks (the last step removes it all)
            f"cp .sandbox/emulators/heroku.json ../heroku-after-{i}.json 2>/dev/null || true",
        ]
    (project.parent / "home").mkdir(exist_ok=True)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=project, env=_env(project.parent), capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    current, started = None, 0.0
    for line in (done.stdout + "\n").splitlines():
        if line.startswith(f"{MARK} start "):
            current, started = int(line.split()[2]), float(line.split()[3])
        elif line.startswith(f"{MARK} end "):
            _, _, index, code, stamp, logged = line.split()
            steps[int(index)].code, steps[int(index)].seconds = int(code), float(stamp) - started
            steps[int(index)].logged = int(logged)
            current = None
        elif current is not None:
            steps[current].output += line + "\n"
    unreached = [s.command for s in steps if s.code < 0]
    assert not unreached, f"steps never reached: {unreached}\nstderr:\n{done.stderr[-3000:]}"
    wrong = [(s.command, s.code, s.expect, s.output[-1500:]) for s in steps if s.code != s.expect]
    assert not wrong, "steps whose exit code is not the README's:\n" + "\n".join(map(str, wrong)) + done.stderr[-3000:]


def step(steps: list[Step], needle: str, nth: int = 0) -> Step:
    return [s for s in steps if needle in s.command][nth]


def test_the_runbook_004_rehearsal_runs_as_the_readme_says(project: Path) -> None:
    steps = readme_block()
    started = time.monotonic()
    run_block(project, steps)
    wall = time.monotonic() - started

    gate_refused = step(steps, "gate production", 0).output
    assert "no passing gate of 'staging' is recorded" in gate_refused, gate_refused
    assert "Blocking" in gate_refused

    data = step(steps, "--data").output
    rows = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in re.finditer(r"(public\.\w+)\s+(\d+)\s+(\d+)", data)}
    assert rows == {"public.events": (12, 12), "public.shifts": (96, 96), "public.staff": (40, 40)}, data
    assert "safety backup" in data

    verified = step(steps, "verify production").output
    assert "02:00 America/Los_Angeles" in verified and "-> 200" in verified, verified

    config = step(steps, "heroku config -a").output
    keys = {line.split(":", 1)[0].strip() for line in config.splitlines() if ":" in line}
    assert {"NODE_ENV", "RAILS_ENV", "SECRET_KEY_BASE", "DATABASE_URL"} <= keys, config
    assert not keys & {"LANG", "RACK_ENV"}, config
    live = _config_vars(project, steps.index(step(steps, "heroku config -a")))
    # production's database vars are its own add-on's (Heroku sets DATABASE_URL and HEROKU_POSTGRESQL_<COLOR>_URL
    # to the same URL); none of staging's database URLs reached production
    prod, staging = live["sc-mvp-production"], live["sc-mvp-staging"]
    databases = {k: v for k, v in prod.items() if k == "DATABASE_URL" or k.startswith("HEROKU_POSTGRESQL_")}
    assert len(databases) == 2 and len(set(databases.values())) == 1, sorted(databases)
    staging_urls = {v for k, v in staging.items() if k == "DATABASE_URL" or k.startswith("HEROKU_POSTGRESQL_")}
    assert staging_urls and not staging_urls & set(prod.values()), "a staging database URL was copied into production"

    drift = step(steps, "drift production").output
    assert "FEATURE_FLAG" in drift, drift
    destroy = step(steps, "destroy --stack production").output
    assert "protected" in destroy, destroy

    writes = _api_writes(project)
    print(f"\nrunbook 004 rehearsal: {len(steps)} steps, {wall:.1f} s wall, {sum(writes)} API writes")
    for s, (start, end) in zip(steps, itertools.pairwise([0, *(s.logged for s in steps)]), strict=True):
        print(f"  {s.seconds:6.1f} s  exit {s.code}  {sum(writes[start:end]):3d} writes  {s.command.split('  #')[0].strip()}")


def _config_vars(project: Path, after: int) -> dict[str, dict[str, str]]:
    """Each app's config vars as the Heroku emulator held them after step `after`."""
    heroku = json.loads((project.parent / f"heroku-after-{after}.json").read_text())
    return {app["name"]: heroku["config_vars"][app_id] for app_id, app in heroku["apps"].items()}


def _api_writes(project: Path) -> list[int]:
    """1 for each write in the emulators' request log, 0 for each read, in the order they came."""
    lines = (project / LOG).read_text().splitlines()
    return [int(json.loads(line)["method"] != "GET") for line in lines if line.strip()]
