"""Runbook 004's stacks (Pulumi.staging.yaml, Pulumi.production.yaml) on the real engine, through
launchplan's own heroku plugin and the emulators (`python -m sandbox.server`): preview and apply, a
second `up` that sends no write, the gate on real previews (which also regenerates the committed
fixtures tests/fixtures/preview-heroku-*.json and fails when they no longer match the engine), drift
seeing a config var changed by hand, and no secret value in plain text anywhere but the emulator.

The stack files get the emulators' overlay only in a throwaway copy (tests/support/heroku_stacks.py).
After an intended change of the engine's output: `UPDATE_FIXTURES=1 .venv/bin/pytest
tests/integration/test_heroku_stacks.py -k gate`, then review `git diff tests/fixtures/`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from scripts.drift import CLOCK_SKEW_SECONDS
from scripts.gate import evaluate, verdict_json
from scripts.gate_records import Check
from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace
from tests.support.heroku_stacks import (
    PLAIN_PROGRAM,
    TOKEN,
    Emulators,
    edit_stack,
    sanitized_preview,
    stacks_workspace,
    twin_workspace,
)

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests" / "fixtures"
HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": f"Bearer {TOKEN}"}
UP = ("up", "--yes", "--non-interactive")


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    running = Emulators()
    try:
        yield running
    finally:
        running.stop()


def app_of(config: dict[str, Any], app: str) -> dict[str, Any]:
    apps: dict[str, Any] = config["launchplan:heroku"]["apps"]
    return dict(apps[app])


def launchplan(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `launchplan` command in the workspace, on its backend and passphrase; the
    heroku plugin still reaches the emulator through HEROKU_API_URL."""
    env = {**os.environ, **ws.env}
    env.pop("PULUMI_HOME")  # launchplan picks the engine and its plugins itself
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), *args], cwd=ws.dir, env=env, capture_output=True, text=True, timeout=300
    )
    ws.outputs.append(proc.stdout + proc.stderr)
    return proc


def secret_values(emulators: Emulators, *apps: str) -> list[str]:
    """Every secret value the stacks hold, as the emulator received them: the Heroku token, each app's
    SECRET_KEY_BASE, its DATABASE_URL and that URL's password."""
    found = [TOKEN]
    for app in apps:
        config = emulators.app_vars(app)
        url = config["DATABASE_URL"]
        found += [config["SECRET_KEY_BASE"], url, urlsplit(url).password or url]
    assert all(len(s) >= 16 for s in found)
    return found


def assert_nowhere(secrets: list[str], ws: Workspace, emulators: Emulators, *texts: str) -> None:
    """No secret value in the state, any command's output (previews, ups, launchplan), the stack files,
    the emulators' request log and their own output, or the extra texts given."""
    places = {
        "state": ws.state_text(),
        "command output": "\n".join(ws.outputs),
        "stack files": "\n".join(p.read_text() for p in ws.dir.glob("Pulumi.*.yaml")),
        "request log": emulators.log_file.read_text(),
        "emulator output": emulators.output.read_text(),
        **{f"text {i}": t for i, t in enumerate(texts)},
    }
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret value is in the {where}"


# --- 1. preview and apply; a second up sends no write ------------------------------------------------


def test_staging_and_production_preview_apply_and_a_second_up_writes_nothing(tmp_path: Path, emulators: Emulators) -> None:
    ws = stacks_workspace(tmp_path, emulators)
    for stack in ("staging", "production"):
        before = len(emulators.requests())
        steps = ws.pulumi_json("preview", "--stack", stack)["steps"]
        assert len(emulators.requests()) == before, "a preview of creates calls no API"
        created = sorted(s["urn"].rsplit("::", 1)[-1] for s in steps if s["op"] == "create")
        app = f"sc-mvp-{stack}"
        expected = [app, app, f"{app}-SECRET_KEY_BASE", f"{app}-config", f"{app}-postgres", f"{app}-web"]
        expected += [f"{app}-backups"] if stack == "production" else []
        assert created == sorted([f"launchplan-{stack}", *expected])

        ws.pulumi(*UP, "--stack", stack, "--event-log", str(tmp_path / f"up-{stack}.jsonl"))
        writes = [(w["method"], re.sub(r"/[0-9a-f-]{36}", "/ID", w["path"])) for w in emulators.writes(before)]
        # One write per declared resource behind an API: app, formation, config vars, add-on, backups.
        assert sorted(writes) == sorted(
            [
                ("POST", "/apps"),
                ("PATCH", "/apps/ID/formation/web"),
                ("PATCH", "/apps/ID/config-vars"),
                ("POST", "/apps/ID/addons"),
                *([("POST", "/client/v11/databases/ID/transfer-schedules")] if stack == "production" else []),
            ]
        )

    heroku = emulators.state()
    apps = {a["name"]: a for a in heroku["apps"].values()}
    assert sorted(apps) == ["sc-mvp-production", "sc-mvp-staging"]
    for name, plan in (("sc-mvp-staging", "essential-0"), ("sc-mvp-production", "standard-0")):
        app = apps[name]
        assert (app["region"]["name"], app["build_stack"]["name"]) == ("us", "heroku-24")
        [addon] = [a for a in heroku["addons"].values() if a["app"]["id"] == app["id"]]
        assert (addon["plan"]["name"], addon["state"]) == (f"heroku-postgresql:{plan}", "provisioned")
        [web] = heroku["formation"][app["id"]].values()
        assert (web["type"], web["size"].lower(), web["quantity"]) == ("web", "basic", 1)
        config = emulators.app_vars(name)
        assert len(config["SECRET_KEY_BASE"]) == 128 and config["DATABASE_URL"].startswith("postgres")
    assert emulators.app_vars("sc-mvp-staging")["RACK_ENV"] == "staging"
    assert emulators.app_vars("sc-mvp-production")["RAILS_ENV"] == "production"
    schedules = emulators.state("heroku-data")["schedules"]
    prod_addon = next(a for a in heroku["addons"].values() if a["app"]["name"] == "sc-mvp-production")
    assert [(int(s["hour"]), s["timezone"]) for s in schedules[prod_addon["id"]]] == [(2, "America/Los_Angeles")]
    assert not any(schedules.get(a["id"]) for a in heroku["addons"].values() if a["app"]["name"] == "sc-mvp-staging")

    outputs = json.loads(ws.pulumi("stack", "output", "--json", "--stack", "production").stdout)
    assert outputs["herokuApps"]["sc-mvp-production"]["database"] == {
        "plan": "standard-0",
        "protected": True,
        "backups": "daily at 02:00 America/Los_Angeles",
    }
    assert outputs["herokuApps"]["sc-mvp-production"]["url"] == apps["sc-mvp-production"]["web_url"]

    # A second `up` of each stack: nothing to change, and not a single write (nor any request at all).
    for stack in ("staging", "production"):
        before = len(emulators.requests())
        again = ws.pulumi("up", "--yes", "--non-interactive", "--stack", stack)
        assert "unchanged" in again.stdout and "created" not in again.stdout
        assert emulators.writes(before) == []
        ws.pulumi("preview", "--expect-no-changes", "--non-interactive", "--stack", stack)

    events = "".join(p.read_text() for p in tmp_path.glob("up-*.jsonl"))
    assert_nowhere(secret_values(emulators, "sc-mvp-staging", "sc-mvp-production"), ws, emulators, events)


# --- 2. the gate on real previews; the committed fixtures are these previews ---------------------------

STAGING, PRODUCTION = "sc-mvp-staging", "sc-mvp-production"
DOMAIN = "staging.sc-mvp.example.com"


def staging_changes(config: dict[str, Any]) -> None:
    """Harmless: a plan upgrade, a config var changed, a domain and daily backups added."""
    app = config["launchplan:heroku"]["apps"][STAGING]
    app["postgres"] = {"plan": "standard-0", "backups": {"hour": 3, "timezone": "UTC"}}
    app["env"]["RACK_ENV"] = "staging-2"
    app["domains"] = [DOMAIN]


def staging_removals(config: dict[str, Any]) -> None:
    """After staging_changes is applied: the domain removed, backups moved from 03:00 to 04:00."""
    staging_changes(config)
    app = config["launchplan:heroku"]["apps"][STAGING]
    app["postgres"]["backups"]["hour"] = 4
    del app["domains"]


def production_app(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda config: change(config["launchplan:heroku"]["apps"][PRODUCTION])


def _set_var(app: dict[str, Any]) -> None:
    app["env"]["RAILS_LOG_TO_STDOUT"] = "disabled"


def _downgrade(app: dict[str, Any]) -> None:
    app["postgres"]["plan"] = "essential-0"


def _eu(app: dict[str, Any]) -> None:
    app["region"] = "eu"


# fixture name -> (stack, the blocking findings the gate must report, as (resource, reason))
EXPECTED: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "staging-changes": ("staging", []),
    "staging-removals": (
        "staging",
        [
            (f"{STAGING}-{DOMAIN}", "domain would be deleted"),
            (f"{STAGING}-backups", "backup schedule would be replaced (because hour changed)"),
        ],
    ),
    "staging-region": (
        "staging",
        [
            (STAGING, "Heroku app would be replaced (because region changed)"),
            # the engine replaces what hangs off the app too, with no replace reasons of its own
            (f"{STAGING}-postgres", "database add-on would be replaced"),
        ],
    ),
    "staging-app-removed": (
        "staging",
        [
            (STAGING, "Heroku app would be deleted"),
            (f"{STAGING}-postgres", "database add-on would be deleted"),
        ],
    ),
    "production-config-var": ("production", []),
    "production-downgrade": ("production", [(f"{PRODUCTION}-postgres", "database plan downgrade standard-0 -> essential-0")]),
    "production-addon-config": (
        "production",
        [
            (f"{PRODUCTION}-postgres", "database add-on would be replaced (because config changed)"),
            (f"{PRODUCTION}-backups", "backup schedule would be replaced"),
            (f"{PRODUCTION}-postgres", "protected database add-on would be replaced: the engine refuses while it is protected"),
        ],
    ),
    "production-region": (
        "production",
        [
            (
                f"{PRODUCTION}-postgres",
                f"protected database add-on would be replaced as part of replacing Heroku app {PRODUCTION}: "
                "the engine refuses while it is protected",
            )
        ],
    ),
}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def skeleton(text: str) -> dict[str, Any]:
    """What the gate reads from a preview, without what differs from run to run (ids, ports, times, the
    change counts of a preview stopped by an error): each step's op, URN, replace and diff reasons,
    detailed diff, and the changed inputs' values; the engine's diagnostics."""
    doc = json.loads(text)
    steps = []
    for s in doc["steps"]:
        old = (s.get("oldState") or {}).get("inputs") or {}
        new = (s.get("newState") or {}).get("inputs") or {}
        changed = {k: [old.get(k), new.get(k)] for k in s.get("diffReasons") or []}
        detailed = sorted((k, v.get("kind", "")) for k, v in (s.get("detailedDiff") or {}).items())
        row = [s["op"], s["urn"], s.get("replaceReasons") or [], sorted(s.get("diffReasons") or []), detailed, changed]
        steps.append(UUID.sub("UUID", json.dumps(row, sort_keys=True)))
    diagnostics = sorted(f"{d.get('severity')} {d.get('urn', '')} {d.get('message')}" for d in doc.get("diagnostics") or [])
    # A preview the engine stops on an error counts only the resources it reached before stopping, and
    # with parallel steps that number changes from run to run (2 or 3 "same" for production-region).
    stopped = any(d.get("severity") == "error" for d in doc.get("diagnostics") or [])
    summary = None if stopped else doc.get("changeSummary")
    return {"steps": sorted(steps), "diagnostics": diagnostics, "changeSummary": summary}


def judged(name: str, text: str, staging: Check) -> dict[str, Any]:
    """The gate's verdict; `staging` is what the state backend says of this commit's staging gate."""
    stack = EXPECTED[name][0]
    verdict = verdict_json(evaluate(stack, text, name, commit="c0ffee", allows={}, staging_record=staging, stack_file=None))
    for key in ("steps", "findings"):  # the engine emits independent steps in no fixed order
        verdict[key] = sorted(verdict[key], key=lambda item: json.dumps(item, sort_keys=True))
    return verdict


def check_preview(name: str, text: str, secrets: list[str], staging: Check) -> None:
    """The gate's verdict on the engine's fresh preview; the committed fixture is that same preview."""
    expected = EXPECTED[name][1]
    fresh = sanitized_preview(text)
    for secret in secrets:
        assert secret not in fresh, f"a secret value is in the preview of {name}"
    fixture = FIXTURES / f"preview-heroku-{name}.json"
    if os.environ.get("UPDATE_FIXTURES"):
        fixture.write_text(fresh)
    verdict = judged(name, fresh, staging)
    assert sorted((f["name"], f["reason"]) for f in verdict["findings"]) == sorted(expected), name
    assert verdict["passed"] == (not expected), name
    assert fixture.exists(), f"{fixture} missing: run with UPDATE_FIXTURES=1 and commit it"
    committed = fixture.read_text()
    assert skeleton(committed) == skeleton(fresh), (
        f"{fixture.name} no longer matches the engine's preview: rerun with UPDATE_FIXTURES=1 and review the diff"
    )
    assert judged(name, committed, staging) == verdict


def preview_json(ws: Workspace, stack: str) -> str:
    """`pulumi preview --json`; a preview the engine refuses (a protected resource) still prints its JSON."""
    proc = ws.pulumi("preview", "--json", "--stack", stack, check=False)
    assert proc.stdout.lstrip().startswith("{"), proc.stderr
    return proc.stdout


def test_gate_on_real_heroku_previews_matches_the_committed_fixtures(tmp_path: Path, emulators: Emulators) -> None:
    ws = stacks_workspace(tmp_path, emulators)
    for stack in ("staging", "production"):
        ws.pulumi(*UP, "--skip-preview", "--stack", stack)
    secrets = secret_values(emulators, STAGING, PRODUCTION)
    seen: dict[str, str] = {}

    def scenario(name: str, stack: str, change: Callable[[dict[str, Any]], None]) -> None:
        before = edit_stack(ws, stack, change)
        try:
            seen[name] = preview_json(ws, stack)
        finally:
            (ws.dir / f"Pulumi.{stack}.yaml").write_text(before)

    scenario("staging-region", "staging", lambda c: c["launchplan:heroku"]["apps"][STAGING].update(region="eu"))
    scenario("staging-app-removed", "staging", lambda c: c["launchplan:heroku"].update(apps={}))
    scenario("staging-changes", "staging", staging_changes)
    # staging's gate passes on its changes: production's gates may pass for this commit
    staging_gate = evaluate(
        "staging", seen["staging-changes"], "x", commit="c0ffee", allows={}, staging_record=None, stack_file=None
    )
    staging = Check(staging_gate.passed, "the staging gate of commit c0ffee passed")
    assert staging

    edit_stack(ws, "staging", staging_changes)
    ws.pulumi(*UP, "--skip-preview", "--stack", "staging")
    scenario("staging-removals", "staging", staging_removals)

    scenario("production-config-var", "production", production_app(_set_var))
    scenario("production-downgrade", "production", production_app(_downgrade))
    scenario("production-region", "production", production_app(_eu))

    # launchplan's spec has no add-on `config`: the hand-written twin of the production program (same
    # URNs: its preview against what launchplan applied changes nothing) declares one.
    plain = twin_workspace(tmp_path / "plain", ws, "production", PLAIN_PROGRAM)
    same = json.loads(preview_json(plain, "production"))
    assert same["changeSummary"] == {"same": 8} and {s["op"] for s in same["steps"]} == {"same"}
    plain.pulumi("config", "set", "plain:addonConfig", json.dumps({"fork": "none"}), "--stack", "production")
    seen["production-addon-config"] = preview_json(plain, "production")
    ws.outputs += plain.outputs

    failed = []
    for name, text in seen.items():
        try:
            check_preview(name, text, secrets, staging)
        except AssertionError as exc:
            failed.append(f"{name}: {exc}")
    assert not failed, "\n".join(failed)
    assert sorted(seen) == sorted(EXPECTED)
    assert_nowhere(secrets, ws, emulators)


# --- 3. drift: a config var changed by hand, seen through the refresh path --------------------------


def test_drift_sees_config_vars_changed_by_hand_and_never_prints_a_secret(tmp_path: Path, emulators: Emulators) -> None:
    ws = stacks_workspace(tmp_path, emulators, ["production"])
    ws.pulumi(*UP, "--skip-preview", "--stack", "production")
    clean = launchplan(ws, "drift", "production", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["drift"] == []

    original = emulators.app_vars(PRODUCTION)["SECRET_KEY_BASE"]
    # An operator's change comes later than the clock skew drift allows for (Heroku stamps whole
    # seconds): closer to Pulumi's last write, a release cannot be told apart from Pulumi's own.
    time.sleep(CLOCK_SKEW_SECONDS + 1)
    by_hand = "hand-set-secret-key-base-" + os.urandom(8).hex()
    with httpx.Client(base_url=emulators.urls["heroku"], headers=HEADERS) as api:
        changed = api.patch(f"/apps/{PRODUCTION}/config-vars", json={"NODE_ENV": "development", "SECRET_KEY_BASE": by_hand})
        assert changed.status_code == 200

    audit = launchplan(ws, "drift", "production", "--json")
    assert audit.returncode == 3, audit.stdout + audit.stderr
    found = {(d["audit"], d["resource"], d["detail"]) for d in json.loads(audit.stdout)["drift"]}
    assert ("live", f"{PRODUCTION}-config", "vars.NODE_ENV: declared production, live development") in found
    assert (
        "live",
        f"{PRODUCTION}-config",
        "sensitiveVars.SECRET_KEY_BASE: changed outside Pulumi (a secret: values hidden)",
    ) in found
    # The platform's metadata says so too: a release that set both vars after Pulumi's last change.
    assert any(a == "sensitive" and r == PRODUCTION and "NODE_ENV, SECRET_KEY_BASE" in d for a, r, d in found)
    assert {a for a, _, _ in found} == {"live", "sensitive"}

    text = launchplan(ws, "drift", "production")
    assert text.returncode == 3
    assert PRODUCTION in text.stdout and "vars.NODE_ENV" in text.stdout and "SECRET_KEY_BASE" in text.stdout
    for output in (audit, text):
        assert by_hand not in output.stdout + output.stderr and original not in output.stdout + output.stderr
    assert_nowhere([*secret_values(emulators, PRODUCTION), original], ws, emulators)
