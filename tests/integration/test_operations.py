"""`launchplan verify` and `launchplan drift` against a running sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.sandbox import launchplan, sandbox_copy

pytestmark = pytest.mark.integration
TOKEN = "5a4db0c0ffee5a4db0c0ffee"  # the sandbox stack's fake Vercel token


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    project, base = sandbox_copy(tmp_path_factory.mktemp("ops"))
    up = launchplan(project, "sandbox", "up", f"--port={base}")
    assert up.returncode == 0, up.stdout + up.stderr
    yield project, base
    launchplan(project, "sandbox", "down", f"--port={base}")


def test_verify_reports_every_check_with_evidence(sandbox: tuple[Path, int]) -> None:
    project, _ = sandbox
    result = launchplan(project, "verify", "sandbox", "--json")
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["env rep-dashboard"]["status"] == "pass" and "all 8 declared keys" in checks["env rep-dashboard"]["evidence"]
    assert checks["webhook calendly-bookings"]["status"] == "pass"
    assert "active, events invitee.canceled, invitee.created" in checks["webhook calendly-bookings"]["evidence"]
    arrivy = checks["webhook arrivy-field-tracking"]
    assert arrivy["status"] == "pending" and "TASK_RATING" in arrivy["evidence"] and "webhookSecrets" in arrivy["evidence"]
    # The apps are served by the sandbox's stand-ins, reached by their real host names.
    for app, host in (("rep-dashboard", "rep-dashboard.vercel.app"), ("sandbox-bookings", "herokuapp.com")):
        health = checks[f"health {app}"]
        assert health["status"] == "pass" and host in health["evidence"] and "-> 200" in health["evidence"], health
    # The Heroku app, through launchplan's heroku plugin: its env keys and its backup schedule as declared.
    assert (
        checks["env sandbox-bookings"]["status"] == "pass" and "all 4 declared keys" in checks["env sandbox-bookings"]["evidence"]
    )
    schedule = checks["backup schedule sandbox-bookings"]
    assert schedule["status"] == "pass" and "02:00 America/Los_Angeles" in schedule["evidence"]
    assert checks["latest backup sandbox-bookings"]["status"] == "pending"  # none taken yet: the schedule is new
    assert result.returncode == 0 and report["passed"] is True  # nothing failed; pending is not a failure


def test_drift_is_clean_then_sees_changes_made_by_hand(sandbox: tuple[Path, int]) -> None:
    project, base = sandbox
    clean = launchplan(project, "drift", "sandbox", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["drift"] == []

    with httpx.Client(base_url=f"http://127.0.0.1:{base + 1}", headers={"Authorization": f"Bearer {TOKEN}"}) as vercel:
        project_id = vercel.get("/v9/projects/rep-dashboard").json()["id"]
        envs = vercel.get(f"/v9/projects/{project_id}/env").json()["envs"]
        rate = next(e for e in envs if e["key"] == "ARRIVY_RATE_LIMIT")
        assert vercel.patch(f"/v9/projects/{project_id}/env/{rate['id']}", json={"value": "99"}).status_code == 200
        added = {"key": "DEBUG_FLAG", "value": "1", "type": "encrypted", "target": ["production"]}
        assert vercel.post(f"/v10/projects/{project_id}/env", json=added).status_code == 201

    drifted = launchplan(project, "drift", "--all", "--json")
    assert drifted.returncode == 3, drifted.stdout + drifted.stderr
    found = {(d["audit"], d["resource"], d["detail"]) for d in json.loads(drifted.stdout)["drift"]}
    assert found == {
        ("live", "rep-dashboard-ARRIVY_RATE_LIMIT", "value: changed outside Pulumi (a secret: values hidden)"),
        ("out-of-band", "rep-dashboard", "env var DEBUG_FLAG on production is set but not declared"),
    }
    assert "99" not in drifted.stdout  # values of secret properties are never printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drift"], "name one stack (STACK or --stack STACK), or pass --all"),
        (["drift", "prodution"], "no stack 'prodution'"),
        (["verify", "nope"], "no stack 'nope'"),
    ],
)
def test_bad_arguments_are_clear_errors(sandbox: tuple[Path, int], args: list[str], message: str) -> None:
    result = launchplan(sandbox[0], *args)
    assert result.returncode == 2 and message in result.stderr


def test_a_health_check_fails_for_a_real_reason_and_says_which(sandbox: tuple[Path, int]) -> None:
    """A declared config var removed by hand: the stand-in's health path answers 503 naming it."""
    project, base = sandbox
    heroku_headers = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": "Bearer sandbox-heroku-key-0000"}
    with httpx.Client(base_url=f"http://127.0.0.1:{base + 4}", headers=heroku_headers) as heroku:
        assert heroku.patch("/apps/sandbox-bookings/config-vars", json={"LOG_LEVEL": None}).status_code == 200
        try:
            result = launchplan(project, "verify", "sandbox", "--json")
            checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
            health = checks["health sandbox-bookings"]
            assert health["status"] == "fail" and "-> 503" in health["evidence"], health
            assert "env LOG_LEVEL present" in health["evidence"] and "DATABASE_URL connects" not in health["evidence"]
            assert checks["health rep-dashboard"]["status"] == "pass"
            assert result.returncode == 1
        finally:
            assert heroku.patch("/apps/sandbox-bookings/config-vars", json={"LOG_LEVEL": "info"}).status_code == 200
