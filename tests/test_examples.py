"""Every committed stack file renders, declares what its runbook needs, and never
lets a secret travel as a plain input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.spec import catalog
from infra.spec.stack_config import StackConfig, contains_placeholder
from scripts.render import Rendering, render
from tests.support.stacks import EXAMPLES, ROOT, SANDBOX_FILE, STACK_FILES


def rendered(path: Path) -> Rendering:
    return render(StackConfig.from_file(path))


def _walk_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _walk_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _walk_strings(v)]
    return []


def _env_pairs(r: Rendering) -> list[tuple[str, str, bool]]:
    """(env name, value, travels-as-secret) for every env var of every app and project."""
    pairs = []
    for res in r.by_type("heroku:app/configAssociation:ConfigAssociation"):
        pairs += [(k, v, "vars" in res.secret_inputs) for k, v in (res.raw_inputs.get("vars") or {}).items()]
        pairs += [(k, v, True) for k, v in (res.raw_inputs.get("sensitiveVars") or {}).items()]
    for res in r.by_type("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"):
        pairs.append((res.raw_inputs["key"], res.raw_inputs["value"], "value" in res.secret_inputs))
    return pairs


@pytest.mark.parametrize("path", [*STACK_FILES, SANDBOX_FILE], ids=lambda p: p.name)
def test_secrets_never_travel_as_plain_inputs(path: Path) -> None:
    r = rendered(path)
    for res in r.resources:
        for key, value in res.raw_inputs.items():
            if key not in res.secret_inputs:
                leaked = [s for s in _walk_strings(value) if contains_placeholder(s)]
                assert not leaked, f"{res.type} {res.name}.{key} carries a secret as a plain input"
    for name, value, secret in _env_pairs(r):
        if catalog.looks_secret(name):
            assert secret and contains_placeholder(value), f"{name} must come from a secret"
    assert "<<secret" not in repr(r.outputs)


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_stack_files_hold_no_credentials(path: Path) -> None:
    config = yaml.safe_load(path.read_text())["config"]
    for key, value in config.items():
        assert not isinstance(value, dict) or "secure" not in value, f"{key}: example files leave secrets unset"
        assert not catalog.looks_secret(key.split(":")[-1]), f"{key} looks like a credential"


def test_production_is_runbook_004() -> None:
    r = rendered(ROOT / "Pulumi.production.yaml")
    app = "sc-mvp-production"
    assert Counter(res.type for res in r.resources) == Counter(
        {
            "launchplan:heroku:App": 1,
            "heroku:app/app:App": 1,
            "heroku:formation/formation:Formation": 1,
            "heroku:app/configAssociation:ConfigAssociation": 1,
            "heroku:addon/addon:Addon": 1,
            "pulumi-python:dynamic/heroku:BackupSchedule": 1,
            "random:index/randomPassword:RandomPassword": 1,
        }
    )
    addon = r.one("heroku:addon/addon:Addon", f"{app}-postgres")
    assert addon.inputs["plan"] == "heroku-postgresql:standard-0" and addon.protect
    schedule = r.one("pulumi-python:dynamic/heroku:BackupSchedule", f"{app}-backups")
    assert (schedule.inputs["hour"], schedule.inputs["timezone"]) == (2, "America/Los_Angeles")
    config = r.one("heroku:app/configAssociation:ConfigAssociation", f"{app}-config")
    assert config.inputs["vars"] == {
        "NODE_ENV": "production",
        "RAILS_ENV": "production",
        "RAILS_LOG_TO_STDOUT": "enabled",
        "RAILS_SERVE_STATIC_FILES": "enabled",
    }
    assert set(config.raw_inputs["sensitiveVars"]) == {"SECRET_KEY_BASE"}
    assert r.outputs["healthChecks"] == [{"name": app, "url": f"https://{app}.herokuapp.com/healthz", "expectStatus": 200}]
    assert r.missing_secrets == {"heroku:apiKey": "launchplan:heroku.apps (provider credential)"}


def test_staging_is_unprotected_and_keeps_its_own_vars() -> None:
    r = rendered(ROOT / "Pulumi.staging.yaml")
    assert not r.one("heroku:addon/addon:Addon", "sc-mvp-staging-postgres").protect
    assert r.by_type("pulumi-python:dynamic/heroku:BackupSchedule") == []
    config = r.one("heroku:app/configAssociation:ConfigAssociation", "sc-mvp-staging-config")
    assert config.inputs["vars"]["RAILS_ENV"] == "staging"


def test_field_tracking_has_the_six_arrivy_vars_and_a_manual_webhook() -> None:
    r = rendered(ROOT / "examples" / "Pulumi.field-tracking.yaml")
    found = r.by_type("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
    variables = {v.raw_inputs["key"]: v.raw_inputs for v in found}
    assert len(found) == 6 and all(v.parent == "rep-dashboard" for v in found)
    assert sorted(variables) == [
        "ARRIVY_AUTH_KEY",
        "ARRIVY_AUTH_TOKEN",
        "ARRIVY_BASE_URL",
        "ARRIVY_COMPANY_NAME",
        "ARRIVY_RATE_LIMIT",
        "ARRIVY_WEBHOOK_SECRET",
    ]
    assert all(v["targets"] == ["production"] for v in variables.values())
    secret = {k for k, v in variables.items() if v["sensitive"]}
    assert secret == {"ARRIVY_AUTH_KEY", "ARRIVY_AUTH_TOKEN", "ARRIVY_WEBHOOK_SECRET"}
    assert variables["ARRIVY_COMPANY_NAME"]["value"] == "KIN Home"
    [step] = r.outputs["manualSteps"]
    assert len(step["events"]) == 8 and "TASK_RATING" in step["events"]
    assert step["url"].endswith("/api/operations/field-tracking/webhook")
    assert set(r.missing_secrets) == {"vercel:apiToken", "launchplan:arrivyAuthKey", "launchplan:arrivyAuthToken"}


def test_paving_scheduling_registers_calendly_and_keeps_twilio_smtp_secret() -> None:
    r = rendered(ROOT / "examples" / "Pulumi.paving-scheduling.yaml")
    sub = r.one("pulumi-python:dynamic/calendly:WebhookSubscription", "calendly-scheduling")
    config = r.one("heroku:app/configAssociation:ConfigAssociation", "paving-scheduling-config")
    sensitive = config.raw_inputs["sensitiveVars"]
    assert {"SMTP_PASSWORD", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SECRET_KEY_BASE", "CALENDLY_WEBHOOK_SIGNING_KEY"} == set(
        sensitive
    )
    assert sensitive["CALENDLY_WEBHOOK_SIGNING_KEY"] == sub.raw_inputs["signing_key"]
    assert "launchplan:calendlyToken" in r.missing_secrets


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_renders(path: Path) -> None:
    r = rendered(path)
    assert r.resources and r.stack == path.name.split(".")[1]


def test_sandbox_stack_sets_every_secret_it_reads_and_only_fake_ones() -> None:
    r = rendered(SANDBOX_FILE)
    assert r.spec.sandbox and r.missing_secrets == {}
    # The runbooks' heart is a Heroku app with Postgres: the sandbox has one, with every part launchplan declares.
    [app] = r.spec.heroku.apps.values()
    assert app.postgres and app.postgres.backups and app.postgres.extensions and app.postgres.schemas
    assert app.formation and app.domains and app.env and app.secret_env and app.generated_env
    endpoints = r.spec.endpoints
    urls = (endpoints.calendly_api, endpoints.heroku_data_api, endpoints.heroku_api, endpoints.vercel_api)
    assert all(url.startswith("http://127.0.0.1:") for url in urls)
    text = SANDBOX_FILE.read_text()
    assert "launchplan-sandbox" in text and "FAKE" in text  # the passphrase is documented as sandbox-only
