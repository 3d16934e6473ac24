"""`launchplan gate`: real preview JSON from the engine, and hand-built steps for the
Heroku cases (no Heroku plugin can be built here, so no real Heroku preview exists)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from tests.support.stacks import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
runner = CliRunner()
PROD_URN = "urn:pulumi:production::launchplan::launchplan:heroku:App$"


def step(
    op: str,
    type_: str,
    name: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    stack: str = "production",
    **extra: Any,
) -> dict[str, Any]:
    urn = f"urn:pulumi:{stack}::launchplan::launchplan:heroku:App${type_}::{name}"
    return {
        "op": op,
        "urn": urn,
        "oldState": {"inputs": old} if old is not None else None,
        "newState": {"inputs": new} if new is not None else None,
        **extra,
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with the project's stack files, as CI checks it out."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "."],
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", "stacks"],
    ):
        subprocess.run(cmd, cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def gate(
    project: Path, stack: str, steps: list[dict[str, Any]] | None = None, *args: str, text: str | None = None
) -> tuple[int, dict[str, Any] | str]:
    preview = project / f"preview-{stack}.json"
    preview.write_text(text if text is not None else json.dumps({"steps": steps or [], "diagnostics": []}))
    result = runner.invoke(app, ["gate", stack, "--preview-file", str(preview), "--json", *args])
    if result.exit_code == 2:
        return 2, result.stderr
    return result.exit_code, json.loads(result.stdout)


def reasons(verdict: Any) -> list[tuple[str, str]]:
    return [(f["name"], f["reason"]) for f in verdict["findings"] if not f["allowed_because"]]


def test_real_preview_of_creates_and_updates_passes(project: Path) -> None:
    for fixture in ("preview-field-tracking-create.json", "preview-field-tracking-changes.json"):
        code, verdict = gate(project, "field-tracking", text=(FIXTURES / fixture).read_text())
        assert code == 0, verdict
        assert isinstance(verdict, dict) and verdict["passed"]
    ops = {(s["op"], s["name"]) for s in verdict["steps"]}
    assert ("replace", "rep-dashboard-ARRIVY_AUTH_TOKEN") in ops and ("delete", "rep-dashboard-ARRIVY_BASE_URL") in ops
    replaced = next(s for s in verdict["steps"] if s["op"] == "replace")
    assert replaced["replaceReasons"] == ["sensitive"]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            [
                step(
                    "delete",
                    "heroku:addon/addon:Addon",
                    "sc-mvp-staging-postgres",
                    {"plan": "heroku-postgresql:essential-0"},
                    None,
                    stack="staging",
                )
            ],
            ("sc-mvp-staging-postgres", "database add-on would be deleted"),
        ),
        (
            [
                step(
                    "replace",
                    "heroku:addon/addon:Addon",
                    "sc-mvp-staging-postgres",
                    {"appId": "a"},
                    {"appId": "b"},
                    stack="staging",
                    replaceReasons=["appId"],
                )
            ],
            ("sc-mvp-staging-postgres", "database add-on would be replaced (because appId changed)"),
        ),
        (
            [
                step(
                    "replace",
                    "heroku:app/app:App",
                    "sc-mvp-staging",
                    {"region": "us"},
                    {"region": "eu"},
                    stack="staging",
                    replaceReasons=["region"],
                )
            ],
            ("sc-mvp-staging", "Heroku app would be replaced (because region changed)"),
        ),
        (
            [
                step(
                    "delete",
                    "heroku:domain/domain:Domain",
                    "sc-mvp-staging-www.example.com",
                    {"hostname": "www.example.com"},
                    None,
                    stack="staging",
                )
            ],
            ("sc-mvp-staging-www.example.com", "domain would be deleted"),
        ),
        (
            [
                step(
                    "delete",
                    "pulumi-python:dynamic/heroku:BackupSchedule",
                    "sc-mvp-staging-backups",
                    {"hour": 2},
                    None,
                    stack="staging",
                )
            ],
            ("sc-mvp-staging-backups", "backup schedule would be deleted"),
        ),
        (
            [
                step(
                    "update",
                    "heroku:addon/addon:Addon",
                    "sc-mvp-staging-postgres",
                    {"plan": "heroku-postgresql:standard-2"},
                    {"plan": "heroku-postgresql:essential-1"},
                    stack="staging",
                )
            ],
            ("sc-mvp-staging-postgres", "database plan downgrade standard-2 -> essential-1"),
        ),
        (
            [
                step(
                    "update",
                    "heroku:app/configAssociation:ConfigAssociation",
                    "sc-mvp-staging-config",
                    {"sensitiveVars": "[secret]"},
                    {"sensitiveVars": {"SMTP_PASSWORD": "x"}},
                    stack="staging",
                )
            ],
            ("sc-mvp-staging-config", "input 'sensitiveVars' was secret and would become plain"),
        ),
    ],
)
def test_blocking_steps_name_the_resource_and_reason(
    project: Path, steps: list[dict[str, Any]], expected: tuple[str, str]
) -> None:
    code, verdict = gate(project, "staging", steps)
    assert code == 1
    assert reasons(verdict) == [expected]


def test_plan_upgrade_and_plain_updates_pass(project: Path) -> None:
    steps = [
        step(
            "update",
            "heroku:addon/addon:Addon",
            "sc-mvp-staging-postgres",
            {"plan": "heroku-postgresql:essential-0"},
            {"plan": "heroku-postgresql:standard-0"},
            stack="staging",
        ),
        step(
            "update",
            "heroku:app/configAssociation:ConfigAssociation",
            "sc-mvp-staging-config",
            {"vars": {"A": "1"}},
            {"vars": {"A": "2"}},
            stack="staging",
        ),
        step(
            "create",
            "heroku:domain/domain:Domain",
            "sc-mvp-staging-api.example.com",
            None,
            {"hostname": "api.example.com"},
            stack="staging",
        ),
    ]
    code, verdict = gate(project, "staging", steps)
    assert code == 0 and isinstance(verdict, dict) and verdict["findings"] == []


def test_allow_lets_one_named_step_through_and_records_why(project: Path) -> None:
    hour = step(
        "replace",
        "pulumi-python:dynamic/heroku:BackupSchedule",
        "sc-mvp-staging-backups",
        {"hour": 2},
        {"hour": 3},
        stack="staging",
        replaceReasons=["hour"],
    )
    domain = step(
        "delete",
        "heroku:domain/domain:Domain",
        "sc-mvp-staging-old.example.com",
        {"hostname": "old.example.com"},
        None,
        stack="staging",
    )
    code, verdict = gate(
        project, "staging", [hour, domain], "--allow", hour["urn"], "--reason", "backups move to 03:00 (ops ticket 42)"
    )
    assert code == 1 and reasons(verdict) == [("sc-mvp-staging-old.example.com", "domain would be deleted")]
    code, verdict = gate(
        project,
        "staging",
        [hour, domain],
        "--allow",
        hour["urn"],
        "--reason",
        "backups move to 03:00",
        "--allow",
        "sc-mvp-staging-old.example.com",
        "--reason",
        "domain retired",
    )
    assert code == 0
    allowed = {f["name"]: f["allowed_because"] for f in verdict["findings"]}  # type: ignore[index]
    assert allowed == {"sc-mvp-staging-backups": "backups move to 03:00", "sc-mvp-staging-old.example.com": "domain retired"}
    summary = project / "summary.md"
    runner.invoke(
        app,
        [
            "gate",
            "staging",
            "--preview-file",
            str(project / "preview-staging.json"),
            "--summary-md",
            str(summary),
            "--allow",
            hour["urn"],
            "--reason",
            "backups move to 03:00",
            "--allow",
            "sc-mvp-staging-old.example.com",
            "--reason",
            "domain retired",
        ],
    )
    text = summary.read_text()
    assert "passed" in text and "Reason given: backups move to 03:00" in text and "| replace | `sc-mvp-staging-backups`" in text


def test_production_needs_a_passing_staging_gate_for_the_same_commit(project: Path) -> None:
    update = [
        step(
            "update",
            "heroku:app/configAssociation:ConfigAssociation",
            "sc-mvp-production-config",
            {"vars": {"A": "1"}},
            {"vars": {"A": "2"}},
        )
    ]
    code, verdict = gate(project, "production", update)
    assert code == 1
    [(name, why)] = reasons(verdict)
    assert name == "production" and "no passing gate of 'staging' is recorded" in why

    bad_staging = [step("delete", "heroku:app/app:App", "sc-mvp-staging", {"name": "sc-mvp-staging"}, None, stack="staging")]
    assert gate(project, "staging", bad_staging)[0] == 1
    assert gate(project, "production", update)[0] == 1  # a failing staging gate does not count

    assert gate(project, "staging", [])[0] == 0
    code, verdict = gate(project, "production", update)
    assert code == 0, verdict
    records = sorted(p.name for p in (project / ".launchplan" / "gate").iterdir())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    assert records == [f"{commit}-production.json", f"{commit}-staging.json"]

    (project / "Pulumi.staging.yaml").write_text((project / "Pulumi.staging.yaml").read_text() + "# edited\n")
    code, verdict = gate(project, "production", update)
    assert code == 1 and "-dirty" in verdict["commit"]  # type: ignore[index]


def test_spec_that_protects_a_database_without_backups_is_blocked(project: Path) -> None:
    prod = project / "Pulumi.production.yaml"
    prod.write_text(
        prod.read_text().replace("          backups:\n            hour: 2\n            timezone: America/Los_Angeles\n", "")
    )
    assert gate(project, "staging", [])[0] == 0
    code, verdict = gate(project, "production", [])
    assert code == 1
    assert ("sc-mvp-production", "the spec protects this database but declares no backups: add postgres.backups") in reasons(
        verdict
    )


def test_policy_violations_in_the_preview_block(project: Path) -> None:
    text = json.dumps({"steps": [], "diagnostics": [{"severity": "error", "message": "[mandatory] webhooks-https: url is http"}]})
    code, verdict = gate(project, "staging", text=text)
    assert code == 1 and verdict["policyErrors"] == ["[mandatory] webhooks-https: url is http"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("not json at all", [], "is not JSON"),
        (json.dumps({"config": {}}), [], "has no 'steps' list"),
        (json.dumps({"steps": [{"op": "create"}]}), [], "steps[0] needs an 'op' and a 'urn'"),
        (json.dumps({"steps": [{"op": "create", "urn": "nope"}]}), [], "is not a Pulumi URN"),
        (json.dumps({"steps": []}), ["--allow", "urn:x"], "exactly one non-empty --reason"),
        (json.dumps({"steps": []}), ["--allow", "urn:x", "--reason", "typo"], "--allow urn:x matches no failing step"),
    ],
)
def test_bad_input_is_a_clear_error_and_records_nothing(project: Path, text: str, args: list[str], message: str) -> None:
    code, stderr = gate(project, "staging", None, *args, text=text)
    assert code == 2 and message in str(stderr)
    assert not (project / ".launchplan").exists()
