"""`launchplan sandbox up / status / down` as a user runs them, in a copy of the project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from scripts.clone_data import psql
from scripts.pulumi_cli import ROOT
from tests.support.sandbox import launchplan, sandbox_copy

pytestmark = pytest.mark.integration


def _psql(database_url: str, sql: str) -> list[str]:
    proc = subprocess.run([psql(), "-X", "-A", "-t", "-c", sql, database_url], capture_output=True, text=True, check=True)
    return proc.stdout.split()


def test_sandbox_up_again_status_down(tmp_path: Path) -> None:
    project, base = sandbox_copy(tmp_path)
    port = f"--port={base}"
    try:
        first = launchplan(project, "sandbox", "up", port)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "Calendly webhook" in first.stdout and "calendly-bookings" in first.stdout
        # Both apps' stand-ins are deployed and healthy: declared env keys present, the database connects.
        assert "sandbox-bookings: pass" in first.stdout and "rep-dashboard: pass" in first.stdout, first.stdout
        assert "not served by the sandbox" not in first.stdout

        state = json.loads((project / ".sandbox" / "emulators" / "vercel.json").read_text())
        assert [p["name"] for p in state["projects"].values()] == ["rep-dashboard"]
        assert len(state["envs"]) == 8  # 5 declared + NEXT_PUBLIC_APP_ENV + 2 webhook signing secrets
        calendly = json.loads((project / ".sandbox" / "emulators" / "calendly.json").read_text())
        [key] = calendly["signing_keys"].values()
        receiver = next(e for e in state["envs"].values() if e["key"] == "CALENDLY_WEBHOOK_SIGNING_KEY")
        assert receiver["value"] == key and receiver["type"] == "sensitive"

        # The Heroku app, through launchplan's own heroku and postgresql plugins.
        heroku = json.loads((project / ".sandbox" / "emulators" / "heroku.json").read_text())
        [app] = heroku["apps"].values()
        assert app["name"] == "sandbox-bookings" and app["region"]["name"] == "us"
        [addon] = heroku["addons"].values()
        assert addon["plan"]["name"] == "heroku-postgresql:essential-0" and addon["state"] == "provisioned"
        assert [(f["type"], f["size"].lower(), f["quantity"]) for f in heroku["formation"][app["id"]].values()] == [
            ("web", "basic", 1)
        ]
        assert [d["hostname"] for d in heroku["domains"].values()] == ["bookings.sandbox.example.com"]
        config = heroku["config_vars"][app["id"]]
        assert {"NODE_ENV", "LOG_LEVEL", "SMTP_PASS", "SECRET_KEY_BASE", "DATABASE_URL"} <= set(config)
        assert config["SMTP_PASS"] == "sandbox-smtp-password" and len(config["SECRET_KEY_BASE"]) == 64
        schedules = json.loads((project / ".sandbox" / "emulators" / "heroku-data.json").read_text())["schedules"]
        assert [(int(s["hour"]), s["timezone"]) for s in schedules[addon["id"]]] == [(2, "America/Los_Angeles")]
        extensions = _psql(config["DATABASE_URL"], "SELECT extname FROM pg_extension ORDER BY 1")
        assert {"citext", "pg_trgm"} <= set(extensions)
        assert _psql(config["DATABASE_URL"], "SELECT nspname FROM pg_namespace WHERE nspname = 'reporting'") == ["reporting"]

        log = project / ".sandbox" / "emulators" / "requests.jsonl"
        writes_before = sum(1 for line in log.read_text().splitlines() if json.loads(line)["method"] != "GET")
        again = launchplan(project, "sandbox", "up", port)
        assert again.returncode == 0 and "Nothing to change" in again.stdout
        writes_after = sum(1 for line in log.read_text().splitlines() if json.loads(line)["method"] != "GET")
        assert writes_after == writes_before, "a second up with nothing changed writes nothing"

        report = json.loads(launchplan(project, "sandbox", "status", port, "--json").stdout)
        declared = json.loads(launchplan(project, "plan", "sandbox", "--json").stdout)["resources"]
        assert report["emulators"]["running"]
        assert report["stack"]["resources"] == sum(1 for r in declared if not r["type"].startswith("pulumi:"))

        stack_text = (project / "Pulumi.sandbox.yaml").read_text()
        state = "".join(p.read_text() for p in (project / ".sandbox" / "pulumi-state").rglob("*.json"))
        fakes = ("5a4db0c0ffee5a4db0c0ffee", "sandbox-calendly-token", "sandbox-arrivy-key", "sandbox-arrivy-token")
        for fake in (*fakes, "sandbox-heroku-key-0000", "sandbox-smtp-password"):
            assert fake not in first.stdout + again.stdout + stack_text + log.read_text() + state
    finally:
        down = launchplan(project, "sandbox", "down", port)
    assert down.returncode == 0, down.stdout + down.stderr
    report = json.loads(launchplan(project, "sandbox", "status", port, "--json").stdout)
    assert not report["emulators"]["running"] and report["stack"]["resources"] == 0


def test_sandbox_converges_through_rate_limits(tmp_path: Path) -> None:
    project, base = sandbox_copy(tmp_path)
    port = f"--port={base}"
    try:
        # Every 2nd request of each API answers 429. launchplan's providers wait Retry-After and go on;
        # the upstream vercel provider gives up on some of them, so an `up` may fail and a re-run
        # picks up where it stopped: it must converge, never duplicate.
        for _attempt in range(4):
            faulty = launchplan(project, "sandbox", "up", port, "--rate-limit-every=2", "--retry-after=1")
            if faulty.returncode == 0:
                break
        assert faulty.returncode == 0, faulty.stdout + faulty.stderr
        log = [json.loads(line) for line in (project / ".sandbox" / "emulators" / "requests.jsonl").read_text().splitlines()]
        limited = {e["service"] for e in log if e["status"] == 429}
        assert {"vercel", "calendly"} <= limited, limited  # both the plugin and our provider were throttled
        again = launchplan(project, "sandbox", "up", port)
        assert again.returncode == 0 and "Nothing to change" in again.stdout
        state = json.loads((project / ".sandbox" / "emulators" / "vercel.json").read_text())
        keys = [e["key"] for e in state["envs"].values()]
        assert len(keys) == len(set(keys)) == 8  # nothing created twice
        calendly = json.loads((project / ".sandbox" / "emulators" / "calendly.json").read_text())
        assert len(calendly["subscriptions"]) == 1
    finally:
        launchplan(project, "sandbox", "down", port)


@pytest.mark.parametrize("writes_before_kill", [4, 9])
def test_an_up_killed_half_way_converges_on_the_next_run(tmp_path: Path, writes_before_kill: int) -> None:
    project, base = sandbox_copy(tmp_path)
    port = f"--port={base}"
    log = project / ".sandbox" / "emulators" / "requests.jsonl"
    exe = str(ROOT / ".venv" / "bin" / "launchplan")
    # Latency keeps the run slow enough to be killed in the middle of its creates.
    run = subprocess.Popen(
        [exe, "sandbox", "up", port, "--latency-ms=150"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            lines = log.read_text().splitlines() if log.exists() else []
            if sum(1 for line in lines if json.loads(line)["method"] != "GET") >= writes_before_kill:
                break
            time.sleep(0.02)
        os.killpg(run.pid, signal.SIGKILL)  # pulumi, its plugins and the program: no clean-up at all
        run.wait()

        again = launchplan(project, "sandbox", "up", port)
        assert again.returncode == 0, again.stdout + again.stderr
        settled = launchplan(project, "sandbox", "up", port)
        assert settled.returncode == 0 and "Nothing to change" in settled.stdout
        vercel = json.loads((project / ".sandbox" / "emulators" / "vercel.json").read_text())
        keys = [e["key"] for e in vercel["envs"].values()]
        assert len(vercel["projects"]) == 1 and len(keys) == len(set(keys)) == 8  # no duplicate
        calendly = json.loads((project / ".sandbox" / "emulators" / "calendly.json").read_text())
        assert len(calendly["subscriptions"]) == 1
    finally:
        launchplan(project, "sandbox", "down", port)
