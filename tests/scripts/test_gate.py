"""`launchplan gate`: real preview JSON from the engine (tests/fixtures/preview-*.json: Vercel from
the field-tracking stack, Heroku from runbook 004's stacks through launchplan's heroku plugin, which
tests/integration/test_heroku_stacks.py regenerates and compares, so they cannot drift from the
engine), and hand-built steps for the rules' edge cases, in the shape those real previews have."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from scripts.gate import (
    GateInputError,
    Step,
    Verdict,
    classify,
    evaluate,
    parse_preview,
    protection_findings,
)
from scripts.gate_records import Check, record_tag, tags
from scripts.pulumi_cli import BIN, offline_env
from scripts.stacks import Stack
from tests.support.stacks import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
HEROKU_FIXTURES = sorted(FIXTURES.glob("preview-heroku-*.json"))
runner = CliRunner()


def heroku_preview(name: str) -> str:
    """A real `pulumi preview --json` of runbook 004's stacks (see the module docstring)."""
    return (FIXTURES / f"preview-heroku-{name}.json").read_text()


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
    """A git repository with the project's stack files, as CI checks it out, and its stacks in a
    file backend of their own (where the gate records a staging pass)."""
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    backend = tmp_path / ".state"
    backend.mkdir()
    for key, value in offline_env(backend, PULUMI_CONFIG_PASSPHRASE="gate-tests-only").items():
        monkeypatch.setenv(key, value)
    for stack in ("staging", "production"):  # before the commit: stack init writes each file's salt
        subprocess.run(
            [str(BIN / "pulumi"), "stack", "init", stack, "--non-interactive"], cwd=tmp_path, check=True, capture_output=True
        )
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
    ("fixture", "stack", "expected"),
    [
        (
            "staging-removals",  # a domain removed from the spec, backups moved from 03:00 to 04:00
            "staging",
            [
                ("sc-mvp-staging-backups", "backup schedule would be replaced (because hour changed)"),
                ("sc-mvp-staging-staging.sc-mvp.example.com", "domain would be deleted"),
            ],
        ),
        (
            "staging-region",  # us -> eu: the engine replaces the app and what hangs off it
            "staging",
            [
                ("sc-mvp-staging", "Heroku app would be replaced (because region changed)"),
                ("sc-mvp-staging-postgres", "database add-on would be replaced"),
            ],
        ),
        (
            "staging-app-removed",
            "staging",
            [("sc-mvp-staging", "Heroku app would be deleted"), ("sc-mvp-staging-postgres", "database add-on would be deleted")],
        ),
        (
            "production-downgrade",  # standard-0 -> essential-0 on the applied stack
            "production",
            [("sc-mvp-production-postgres", "database plan downgrade standard-0 -> essential-0")],
        ),
        (
            "production-addon-config",  # the protected add-on replaced by a `config` change
            "production",
            [
                ("sc-mvp-production-backups", "backup schedule would be replaced"),
                ("sc-mvp-production-postgres", "database add-on would be replaced (because config changed)"),
                (
                    "sc-mvp-production-postgres",
                    "protected database add-on would be replaced: the engine refuses while it is protected",
                ),
            ],
        ),
        (
            "production-region",  # the engine refuses before any step: the add-on it would replace is protected
            "production",
            [
                (
                    "sc-mvp-production-postgres",
                    "protected database add-on would be replaced as part of replacing Heroku app sc-mvp-production: "
                    "the engine refuses while it is protected",
                )
            ],
        ),
    ],
)
def test_real_heroku_previews_are_blocked_naming_the_resource_and_reason(
    project: Path, fixture: str, stack: str, expected: list[tuple[str, str]]
) -> None:
    if stack == "production":
        assert gate(project, "staging", text=heroku_preview("staging-changes"))[0] == 0  # staging passed first
    code, verdict = gate(project, stack, text=heroku_preview(fixture))
    assert code == 1
    assert sorted(reasons(verdict)) == expected


def test_a_secret_input_becoming_plain_is_blocked(project: Path) -> None:
    # No real Heroku preview can show this: the plugin's schema marks sensitiveVars (and every other
    # secret property) secret, so the engine masks it on both sides (see the fixtures test below).
    steps = [step("update", "any:index/x:X", "x-config", {"token": "[secret]"}, {"token": "now-plain"}, stack="staging")]
    code, verdict = gate(project, "staging", steps)
    assert code == 1
    assert reasons(verdict) == [("x-config", "input 'token' was secret and would become plain")]


def test_plan_upgrade_and_plain_updates_pass(project: Path) -> None:
    # staging: essential-0 -> standard-0, RACK_ENV changed, a domain and a backup schedule added
    code, verdict = gate(project, "staging", text=heroku_preview("staging-changes"))
    assert code == 0 and isinstance(verdict, dict) and verdict["findings"] == []
    changes = {(s["op"], s["name"]): s["changed"] for s in verdict["steps"]}
    assert changes[("update", "sc-mvp-staging-postgres")] == ["plan"]
    assert changes[("update", "sc-mvp-staging-config")] == ["vars"]
    assert ("create", "sc-mvp-staging-staging.sc-mvp.example.com") in changes and ("create", "sc-mvp-staging-backups") in changes
    # production: one config var changed
    code, verdict = gate(project, "production", text=heroku_preview("production-config-var"))
    assert code == 0 and isinstance(verdict, dict) and verdict["findings"] == []
    assert [(s["op"], s["name"], s["changed"]) for s in verdict["steps"]] == [("update", "sc-mvp-production-config", ["vars"])]


def test_allow_lets_one_named_step_through_and_records_why(project: Path) -> None:
    removals = heroku_preview("staging-removals")  # backups replaced (hour 3 -> 4), a domain deleted
    [hour] = [s["urn"] for s in json.loads(removals)["steps"] if s["urn"].endswith("::sc-mvp-staging-backups")]
    domain = "sc-mvp-staging-staging.sc-mvp.example.com"
    code, verdict = gate(
        project, "staging", None, "--allow", hour, "--reason", "backups move to 04:00 (ops ticket 42)", text=removals
    )
    assert code == 1 and reasons(verdict) == [(domain, "domain would be deleted")]
    code, verdict = gate(
        project,
        "staging",
        None,
        "--allow",
        hour,
        "--reason",
        "backups move to 04:00",
        "--allow",
        domain,
        "--reason",
        "domain retired",
        text=removals,
    )
    assert code == 0
    allowed = {f["name"]: f["allowed_because"] for f in verdict["findings"]}  # type: ignore[index]
    assert allowed == {"sc-mvp-staging-backups": "backups move to 04:00", domain: "domain retired"}
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
            hour,
            "--reason",
            "backups move to 04:00",
            "--allow",
            domain,
            "--reason",
            "domain retired",
        ],
    )
    text = summary.read_text()
    assert "passed" in text and "Reason given: backups move to 04:00" in text and "| replace | `sc-mvp-staging-backups`" in text


def test_production_needs_a_passing_staging_gate_for_the_same_commit(project: Path) -> None:
    update = heroku_preview("production-config-var")
    code, verdict = gate(project, "production", text=update)
    assert code == 1
    [(name, why)] = reasons(verdict)
    assert name == "production" and "no passing gate of 'staging' is recorded" in why

    assert gate(project, "staging", text=heroku_preview("staging-app-removed"))[0] == 1
    assert gate(project, "production", text=update)[0] == 1  # a failing staging gate does not count

    assert gate(project, "staging", text=heroku_preview("staging-changes"))[0] == 0
    code, verdict = gate(project, "production", text=update)
    assert code == 0, verdict
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout.strip()
    assert record_tag(commit) in tags(Stack(project, "staging"))  # recorded with the stack, not on a disk
    assert not (project / ".launchplan").exists()

    (project / "Pulumi.staging.yaml").write_text((project / "Pulumi.staging.yaml").read_text() + "# edited\n")
    code, verdict = gate(project, "production", text=update)
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


# --- the gate's logic, called directly ------------------------------------------------------------


def direct_step(
    op: str, type_: str, name: str, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None, **extra: Any
) -> Step:
    [parsed] = parse_preview(json.dumps({"steps": [step(op, type_, name, old, new, stack="staging", **extra)]}), "test")
    return parsed


def test_parse_preview_reads_type_name_changes_and_states() -> None:
    raw = [
        step(
            "update", "heroku:app/app:App", "web", {"region": "us", "stack": "heroku-22"}, {"region": "us", "stack": "heroku-24"}
        ),
        step("create", "heroku:domain/domain:Domain", "web-www", None, {"hostname": "www.example.com"}),
        step(
            "replace",
            "heroku:app/app:App",
            "api",
            {"region": "us"},
            {"region": "eu"},
            diffReasons=["region"],
            replaceReasons=["region"],
        ),
        step("same", "heroku:app/app:App", "same-app", {"a": 1}, {"a": 1}),
    ]
    steps = parse_preview(json.dumps({"steps": raw}), "preview.json")
    assert [(s.op, s.type, s.name) for s in steps] == [
        ("update", "heroku:app/app:App", "web"),
        ("create", "heroku:domain/domain:Domain", "web-www"),
        ("replace", "heroku:app/app:App", "api"),
        ("same", "heroku:app/app:App", "same-app"),
    ]
    update, create, replace, same = steps
    assert update.changed == ["stack"]  # computed from the states when the preview gives no diffReasons
    assert update.urn == raw[0]["urn"] and update.old == {"region": "us", "stack": "heroku-22"}
    assert create.old == {} and create.changed == ["hostname"]
    assert replace.changed == ["region"] and replace.replace_reasons == ["region"]
    assert same.changed == [] and same.replace_reasons == []


def test_parse_preview_of_the_engines_real_output() -> None:
    steps = parse_preview((FIXTURES / "preview-field-tracking-changes.json").read_text(), "fixture")
    replaced = next(s for s in steps if s.op == "replace")
    assert replaced.name == "rep-dashboard-ARRIVY_AUTH_TOKEN" and replaced.replace_reasons == ["sensitive"]
    assert replaced.type == "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
    assert {s.type for s in steps if s.op == "same"} >= {"pulumi:pulumi:Stack"}


def test_parse_preview_of_the_engines_real_heroku_output() -> None:
    steps = parse_preview(heroku_preview("staging-region"), "fixture")
    changed = {(s.op, s.type, s.name): (s.changed, s.replace_reasons) for s in steps if s.op != "same"}
    assert changed == {
        ("replace", "heroku:app/app:App", "sc-mvp-staging"): (["region"], ["region"]),
        # the engine gives dependents no reasons: the gate computes what changed from the inputs
        # (a replacement add-on gets a fresh autoname)
        ("replace", "heroku:formation/formation:Formation", "sc-mvp-staging-web"): (["appId"], []),
        ("replace", "heroku:addon/addon:Addon", "sc-mvp-staging-postgres"): (["appId", "name"], []),
        ("update", "heroku:app/configAssociation:ConfigAssociation", "sc-mvp-staging-config"): (["appId"], []),
    }
    [app] = [s for s in steps if s.type == "heroku:app/app:App"]
    assert (app.old["region"], app.new["region"]) == ("us", "eu")
    [addon] = parse_preview(heroku_preview("production-downgrade"), "fixture")[1:]
    assert (addon.old["plan"], addon.new["plan"]) == ("heroku-postgresql:standard-0", "heroku-postgresql:essential-0")


def test_hand_built_steps_have_the_shape_of_the_engines_heroku_steps() -> None:
    real = [s for f in HEROKU_FIXTURES for s in json.loads(f.read_text())["steps"] if "launchplan:heroku:App$" in s["urn"]]
    assert len(HEROKU_FIXTURES) == 8 and real
    for raw in real:
        stack = raw["urn"].split("::")[0].removeprefix("urn:pulumi:")
        type_, name = raw["urn"].split("$", 1)[1].split("::")
        built = step(raw["op"], type_, name, {}, {}, stack=stack)
        assert built["urn"] == raw["urn"]
        assert set(built) - {"oldState", "newState"} <= set(raw)
        assert isinstance((raw.get("oldState") or raw.get("newState"))["inputs"], dict)


def test_the_engines_refusals_to_touch_a_protected_resource_are_findings() -> None:
    addon = "urn:pulumi:production::launchplan::launchplan:heroku:App$heroku:addon/addon:Addon::sc-mvp-production-postgres"
    app_urn = "urn:pulumi:production::launchplan::launchplan:heroku:App$heroku:app/app:App::sc-mvp-production"
    found, left = protection_findings(heroku_preview("production-region"))
    assert [(f.urn, f.name) for f in found] == [(addon, "sc-mvp-production-postgres")] and left == []
    assert found[0].reason == (
        "protected database add-on would be replaced as part of replacing Heroku app sc-mvp-production: "
        "the engine refuses while it is protected"
    )
    found, left = protection_findings(heroku_preview("production-addon-config"))
    assert [f.name for f in found] == ["sc-mvp-production-postgres"] and left == ["error: preview failed"]
    deleted = f'error: unable to delete resource "{app_urn}"\nas it is currently marked for protection. To unprotect …'
    found, left = protection_findings(preview(diagnostics=[{"severity": "error", "message": deleted}]))
    assert [(f.name, f.reason) for f in found] == [
        ("sc-mvp-production", "protected Heroku app would be deleted: the engine refuses while it is protected")
    ]
    assert protection_findings(preview(diagnostics=[{"severity": "warning", "message": deleted}])) == ([], [])


# Properties the heroku, random and dynamic providers hold as secrets, and the secret config key.
SECRET_PROPERTIES = {"sensitiveVars", "sensitiveConfigVars", "allConfigVars", "configVarValues", "result", "bcryptHash"}


@pytest.mark.parametrize("fixture", HEROKU_FIXTURES, ids=lambda p: p.name)
def test_committed_heroku_previews_hold_no_secret_value(fixture: Path) -> None:
    text = fixture.read_text()
    doc = json.loads(text)
    assert doc["config"]["heroku:apiKey"] == "[secret]"
    for bad in ("postgres://", "secure:", "v1:", "/work/", "/tmp/", "/root/"):
        assert bad not in text, f"{bad} in {fixture.name}"
    assert re.search(r"127\.0\.0\.1:\d", text) is None  # the emulators' ports are taken out

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("propertyDependencies", "additionalSecretOutputs"):
                    continue  # property names, not values
                if key in SECRET_PROPERTIES and inner is not None:
                    assert inner == "[secret]", f"{key} is not masked in {fixture.name}"
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(doc["steps"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "preview.json is not JSON"),
        ("[]", "preview.json has no 'steps' list"),
        (json.dumps({"steps": {}}), "has no 'steps' list"),
        (json.dumps({"steps": ["create"]}), "preview.json: steps[0] needs an 'op' and a 'urn'"),
        (json.dumps({"steps": [{"op": 1, "urn": "urn:a::b::c::d"}]}), "steps[0] needs an 'op' and a 'urn'"),
        (
            json.dumps({"steps": [{"op": "same", "urn": "urn:a::b::c::d"}, {"op": "create", "urn": "a::b"}]}),
            "steps[1].urn 'a::b' is not a Pulumi URN",
        ),
    ],
)
def test_parse_preview_refuses_what_is_not_a_preview(text: str, message: str) -> None:
    with pytest.raises(GateInputError, match=re.escape(message)):
        parse_preview(text, "preview.json")


ADDON = "heroku:addon/addon:Addon"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("delete", ADDON, "db", {"plan": "x"}, None), ["database add-on would be deleted"]),
        (("delete-replaced", ADDON, "db", {"plan": "x"}, None), ["database add-on would be replaced"]),
        (("discard", "heroku:app/app:App", "web", {"region": "us"}, None), ["Heroku app would be replaced"]),
        (("replace", "vercel:index/project:Project", "site", {"name": "a"}, {"name": "b"}), ["Vercel project would be replaced"]),
        (("delete", "vercel:index/projectDomain:ProjectDomain", "site-www", {"domain": "d"}, None), ["domain would be deleted"]),
        (("create", ADDON, "db", None, {"plan": "heroku-postgresql:standard-0"}), []),
        (("same", ADDON, "db", {"plan": "x"}, {"plan": "x"}), []),
        (("delete", "heroku:app/configAssociation:ConfigAssociation", "web-config", {"vars": {}}, None), []),  # not guarded
        (
            ("update", ADDON, "db", {"plan": "heroku-postgresql:premium-0"}, {"plan": "heroku-postgresql:standard-10"}),
            ["database plan downgrade premium-0 -> standard-10"],
        ),
        (
            ("update", ADDON, "db", {"plan": "standard-4"}, {"plan": "standard-2"}),
            ["database plan downgrade standard-4 -> standard-2"],
        ),
        (("update", ADDON, "db", {"plan": "heroku-postgresql:standard-0"}, {"plan": "heroku-postgresql:standard-2"}), []),
        (("update", ADDON, "db", {"plan": "heroku-postgresql:standard-2"}, {"plan": "heroku-postgresql:no-such-plan"}), []),
        (("update", ADDON, "db", {"appId": "a"}, {"appId": "a", "config": {}}), []),
        (
            ("update", "any:type/x:X", "x", {"token": "[secret]"}, {"token": "now-plain"}),
            ["input 'token' was secret and would become plain"],
        ),
        (("update", "any:type/x:X", "x", {"token": "[secret]"}, {"token": "[secret]"}), []),
        (("update", "any:type/x:X", "x", {"token": "[secret]"}, {}), []),  # removed, not exposed
        (("create", "any:type/x:X", "x", {"token": "[secret]"}, {"token": "plain"}), []),
        (("update", "any:type/x:X", "x", {"token": "plain"}, {"token": "[secret]"}), []),  # plain -> secret is fine
    ],
)
def test_classify(args: tuple[Any, ...], expected: list[str]) -> None:
    assert classify(direct_step(*args)) == expected


def test_classify_names_the_replace_reasons_and_reports_every_reason() -> None:
    replaced = direct_step(
        "replace",
        ADDON,
        "db",
        {"plan": "heroku-postgresql:standard-2", "token": "[secret]"},
        {"plan": "heroku-postgresql:standard-0", "token": "x"},
        replaceReasons=["appId", "name"],
    )
    assert classify(replaced) == [
        "database add-on would be replaced (because appId, name changed)",
        "input 'token' was secret and would become plain",
    ]


def evaluate_(text: str, project: Path, stack: str = "staging", commit: str = "c0ffee", **kwargs: Any) -> Verdict:
    kwargs.setdefault("allows", {})
    kwargs.setdefault("stack_file", None)
    kwargs.setdefault("staging_record", None)
    return evaluate(stack, text, "preview.json", commit=commit, **kwargs)


def preview(*steps: dict[str, Any], diagnostics: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"steps": list(steps), "diagnostics": diagnostics or []})


def test_evaluate_passes_a_harmless_preview(tmp_path: Path) -> None:
    verdict = evaluate_(preview(step("create", "heroku:app/app:App", "web", None, {"region": "us"}, stack="staging")), tmp_path)
    assert verdict.passed and verdict.findings == [] and verdict.policy_errors == []
    assert (verdict.stack, verdict.commit, len(verdict.steps)) == ("staging", "c0ffee", 1)


def test_evaluate_collects_findings_and_policy_errors(tmp_path: Path) -> None:
    gone = step("delete", "heroku:app/app:App", "web", {"region": "us"}, None, stack="staging")
    warn = {"severity": "warning", "message": "just a warning"}
    error = {"severity": "error", "message": "  [mandatory] https-only: http url  "}
    verdict = evaluate_(preview(gone, diagnostics=[warn, error]), tmp_path)
    assert not verdict.passed
    assert [(f.urn, f.name, f.reason, f.allowed_because) for f in verdict.findings] == [
        (gone["urn"], "web", "Heroku app would be deleted", None)
    ]
    assert verdict.policy_errors == ["[mandatory] https-only: http url"]


def test_evaluate_allows_a_finding_by_urn_or_by_name(tmp_path: Path) -> None:
    gone = step("delete", "heroku:app/app:App", "web", {"region": "us"}, None, stack="staging")
    domain = step("delete", "heroku:domain/domain:Domain", "web-www", {"hostname": "w"}, None, stack="staging")
    verdict = evaluate_(preview(gone, domain), tmp_path, allows={gone["urn"]: "app moved", "web-www": "domain retired"})
    assert verdict.passed
    assert {f.name: f.allowed_because for f in verdict.findings} == {"web": "app moved", "web-www": "domain retired"}
    partly = evaluate_(preview(gone, domain), tmp_path, allows={"web": "app moved"})
    assert not partly.passed and [f.name for f in partly.findings if not f.allowed_because] == ["web-www"]


def test_an_allow_does_not_excuse_policy_errors(tmp_path: Path) -> None:
    gone = step("delete", "heroku:app/app:App", "web", {"region": "us"}, None, stack="staging")
    verdict = evaluate_(preview(gone, diagnostics=[{"severity": "error", "message": "no"}]), tmp_path, allows={"web": "ok"})
    assert not verdict.passed


def test_evaluate_refuses_an_allow_that_matches_nothing(tmp_path: Path) -> None:
    with pytest.raises(GateInputError, match=re.escape("--allow typo, urn:x matches no failing step")):
        evaluate_(preview(), tmp_path, allows={"urn:x": "why", "typo": "why"})


def test_production_is_blocked_unless_the_staging_record_holds(tmp_path: Path) -> None:
    unchecked = evaluate_(preview(), tmp_path, stack="production")
    [finding] = unchecked.findings
    assert (finding.urn, finding.name, finding.reason) == ("stack:production", "production", "not checked")
    missing = Check(False, "no passing gate of 'staging' is recorded for commit c0ffee in the state backend")
    [finding] = evaluate_(preview(), tmp_path, stack="production", staging_record=missing).findings
    assert finding.reason == missing.reason  # the record's own reason, as the state backend gave it
    assert evaluate_(preview(), tmp_path, stack="production", staging_record=Check(True, "")).passed
    # Staging itself (or any other stack) never needs a record.
    assert evaluate_(preview(), tmp_path, stack="staging").passed


def test_evaluate_adds_spec_findings_from_the_stack_file(tmp_path: Path) -> None:
    stack_file = tmp_path / "Pulumi.qa.yaml"
    stack_file.write_text(
        json.dumps(
            {
                "config": {
                    "launchplan:protectDatabases": "true",
                    "launchplan:heroku": {
                        "apps": {
                            "unsafe-app": {"postgres": {"plan": "standard-0"}},
                            "safe-app": {"postgres": {"plan": "standard-0", "backups": {"hour": 3, "timezone": "UTC"}}},
                            "unprotected-app": {"postgres": {"plan": "standard-0", "protect": False}},
                        }
                    },
                }
            }
        )
    )
    verdict = evaluate_(preview(), tmp_path, stack="qa", stack_file=stack_file)
    assert [(f.urn, f.name) for f in verdict.findings] == [("launchplan:heroku.apps.unsafe-app.postgres", "unsafe-app")]
    assert evaluate_(preview(), tmp_path, stack="qa", stack_file=tmp_path / "Pulumi.missing.yaml").passed


def test_gate_runs_the_preview_itself_without_a_preview_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = project / "fake-pulumi"
    # Answers the preview itself; every other command (the gate record's stack tags) goes to the real CLI.
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = preview ]; then echo "$*" > "{project}/args"; '
        f'echo \'{{"steps": [], "diagnostics": []}}\'; else exec "{BIN / "pulumi"}" "$@"; fi\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("LAUNCHPLAN_PULUMI", str(fake))
    result = runner.invoke(app, ["gate", "staging", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passed"] is True
    assert (project / "args").read_text().split() == ["preview", "--json", "--non-interactive", "--stack", "staging"]
