"""Engine runs leave nothing behind, and failures are named by their cause."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from scripts.pulumi_cli import RUN_MARKER, failure_cause, run_engine, stop_orphaned_runs

# A "CLI" that starts a grandchild in a session of its own (as the engine does with plugins) and exits.
SPAWNER = (
    "import subprocess, sys; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); "
    "print(p.pid)"
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_run_stops_what_it_started_even_in_another_session(tmp_path: Path) -> None:
    run = run_engine([sys.executable, "-c", SPAWNER], cwd=tmp_path, env=dict(os.environ))
    grandchild = int(run.stdout.strip())
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_a_timed_out_run_is_stopped_with_everything_it_started(tmp_path: Path) -> None:
    script = SPAWNER + "; sys.stdout.flush(); import time; time.sleep(60)"
    started = time.monotonic()
    with pytest.raises(Exception, match="timed out"):
        run_engine([sys.executable, "-c", script], cwd=tmp_path, env=dict(os.environ), timeout=1)
    assert time.monotonic() - started < 30


def test_orphans_of_a_dead_owner_are_stopped_and_live_owners_runs_kept(tmp_path: Path) -> None:
    import subprocess

    dead_owner = subprocess.Popen(["true"])
    dead_owner.wait()
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={**os.environ, RUN_MARKER: f"{dead_owner.pid}.0.x", "PULUMI_BACKEND_URL": f"file://{tmp_path}/state"},
    )
    own = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env={
            **os.environ,
            RUN_MARKER: f"{os.getpid()}.{Path(f'/proc/{os.getpid()}/stat').read_text().rsplit(')', 1)[-1].split()[19]}.y",
        },
    )
    try:
        time.sleep(0.2)
        assert stop_orphaned_runs(where=f"{tmp_path}/elsewhere") == []
        assert stop_orphaned_runs(where=str(tmp_path)) == [orphan.pid]
        orphan.wait(timeout=5)
        assert own.poll() is None
    finally:
        for proc in (orphan, own):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        ("error: unable to delete resource x as it is currently marked for protection", "protected"),
        ("error: Policy Violations: mandatory policy ...", "policy"),
        ("Could not create project: conflict - Project 'x' already exists", "conflict"),
        ("unavailable - Service temporarily unavailable (503)", "network"),
        ("dial tcp: lookup api.vercel.com: no such host", "network"),
        ("error: could not load plugin for vercel provider", "engine"),
        ("error: no stack named 'sandbox' found", "engine"),
        ("something odd", "error"),
    ],
)
def test_failures_are_named_by_their_cause(output: str, kind: str) -> None:
    assert failure_cause(output)[0] == kind


def test_a_json_previews_failure_is_named_by_its_error_diagnostics_not_its_last_brace() -> None:
    """`pulumi preview --json` prints its failure inside the JSON document: the reason is the
    engine's error diagnostic (here the vercel provider refusing a token), not the closing `}`."""
    import json

    reason = "Invalid api_token: api_token (VERCEL_API_TOKEN) must be 24 characters"
    doc = {
        "steps": [{"op": "create", "urn": "urn:pulumi:s::p::vercel:index/project:Project::x"}],
        "diagnostics": [
            {"urn": "urn:x", "message": "a warning first\n", "severity": "warning"},
            {"urn": "urn:x", "message": reason + "\n", "severity": "error"},
        ],
    }
    kind, line = failure_cause(json.dumps(doc, indent=4) + "\n")
    assert (kind, line) == ("error", reason)
    kind, line = failure_cause(json.dumps(doc, indent=4) + "\nerror: could not load plugin for vercel provider\n")
    assert kind == "engine" and "could not load plugin" in line
    assert failure_cause("not json {\n}")[1] == "}"  # text that merely holds a brace is read as text
