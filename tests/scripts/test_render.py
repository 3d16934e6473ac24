"""The offline renderer: the real program under Pulumi's mocks, every registration recorded
with its options, and secrets kept as placeholders (`[secret]` for people), never values."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig, contains_placeholder, secret_placeholder
from scripts.render import SECRET, Rendering, mask, render
from tests.support.stacks import ROOT, make_config

APP = "web-app"
PROJECT = "site"
ENV_VAR = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
ALL_SECRETS = ("heroku:apiKey", "vercel:apiToken", "launchplan:smtpPassword", "launchplan:apiToken", "launchplan:calendlyToken")
SECTIONS: dict[str, Any] = {
    "heroku": {
        "apps": {
            APP: {
                "env": {"RAILS_ENV": "production"},
                "secretEnv": {"SMTP_PASSWORD": "smtpPassword"},
                "postgres": {
                    "plan": "standard-0",
                    "backups": {"hour": 2, "timezone": "UTC"},
                    "extensions": ["citext"],
                    "roles": {"reader": {"grants": [{"privileges": ["SELECT"]}]}},
                },
            }
        }
    },
    "vercel": {"projects": {PROJECT: {"env": [{"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["production"]}]}}},
    "webhooks": {
        "bookings": {
            "provider": "calendly",
            "url": "https://web-app.example.com/hooks/calendly",
            "events": ["invitee.created"],
            "organization": "https://api.calendly.com/organizations/ORG1",
            "receiver": {"herokuApp": APP, "env": "CALENDLY_SIGNING_KEY"},
        }
    },
}


def full(stack: str = "production", secrets: tuple[str, ...] = ALL_SECRETS) -> Rendering:
    return render(make_config(stack, secrets, **SECTIONS))


def everything(r: Rendering) -> str:
    """All a rendering shows people: every resource's inputs, and the stack outputs."""
    return json.dumps({"resources": [d.inputs for d in r.resources], "outputs": r.outputs})


def test_components_sit_under_the_stack_and_children_under_their_component() -> None:
    r = full()
    assert r.one("launchplan:heroku:App", APP).parent is None
    assert r.one("launchplan:vercel:Project", PROJECT).parent is None
    assert r.one("heroku:app/app:App", APP).parent == APP
    assert r.one("launchplan:postgres:Database", f"{APP}-db").parent == APP
    assert r.one("postgresql:index/extension:Extension", f"{APP}-db-ext-citext").parent == f"{APP}-db"  # two levels down
    assert r.one("vercel:index/project:Project", PROJECT).parent == PROJECT
    assert {d.custom for d in r.resources if d.type.startswith("launchplan:")} == {False}
    assert r.one("heroku:app/app:App", APP).custom


def test_protect_is_recorded_per_resource() -> None:
    production, staging = full("production"), full("staging")
    addon = "heroku:addon/addon:Addon"
    assert production.one(addon, f"{APP}-postgres").protect
    assert not staging.one(addon, f"{APP}-postgres").protect
    assert [d.name for d in production.resources if d.protect] == [f"{APP}-postgres"]


def test_delete_before_replace_is_recorded() -> None:
    r = full()
    assert r.one(ENV_VAR, f"{PROJECT}-API_TOKEN").delete_before_replace
    assert not r.one("vercel:index/project:Project", PROJECT).delete_before_replace
    assert not r.one("heroku:app/app:App", APP).delete_before_replace


def test_an_explicit_provider_is_recorded_and_the_default_one_is_not() -> None:
    r = full()
    provider = r.one("pulumi:providers:postgresql", f"{APP}-db-postgresql")
    assert provider.parent == f"{APP}-db"
    database_resources = [d for d in r.resources if d.type.startswith("postgresql:index/")]
    assert database_resources
    for resource in database_resources:
        assert resource.provider.startswith(provider.urn + "::"), resource.provider  # <provider urn>::<provider id>
    assert r.one("heroku:app/app:App", APP).provider == ""


def test_aliases_are_recorded_as_people_read_them() -> None:
    r = full()
    assert r.one("launchplan:postgres:Database", f"{APP}-db").aliases == ["parent=<root stack>"]
    assert all(d.aliases == [] for d in r.resources if d.name != f"{APP}-db")


def test_dependencies_are_recorded_as_urns() -> None:
    r = full()
    app = r.one("heroku:app/app:App", APP)
    assert app.urn in r.one("heroku:addon/addon:Addon", f"{APP}-postgres").dependencies


def test_secret_inputs_are_placeholders_for_tests_and_secret_for_people() -> None:
    r = full()
    config = r.one("heroku:app/configAssociation:ConfigAssociation", f"{APP}-config")
    assert "sensitiveVars" in config.secret_inputs
    assert config.raw_inputs["sensitiveVars"]["SMTP_PASSWORD"] == secret_placeholder("launchplan:smtpPassword")
    assert config.inputs["sensitiveVars"]["SMTP_PASSWORD"] == SECRET
    assert config.inputs["vars"] == {"RAILS_ENV": "production"}  # plain config stays readable
    token = r.one(ENV_VAR, f"{PROJECT}-API_TOKEN")
    assert token.secret_inputs == ["value"]
    assert token.raw_inputs["value"] == secret_placeholder("launchplan:apiToken") and token.inputs["value"] == SECRET
    assert token.inputs["key"] == "API_TOKEN"  # the shape around a secret is kept
    assert "<<secret:" not in everything(r)


def test_secret_stack_outputs_show_only_as_secret() -> None:
    r = full()
    assert r.outputs["webhookSecrets"] == SECRET
    assert r.outputs["rolePasswords"] == SECRET
    assert r.outputs["stack"] == "production"


def test_secure_values_from_a_stack_file_are_never_decrypted_or_shown(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.qa.yaml"
    secure = {"secure": "v1:AAAA:ciphertext-never-shown"}
    config = {f"launchplan:{k}": v for k, v in SECTIONS.items()}
    config.update({key: secure for key in ALL_SECRETS})
    path.write_text(json.dumps({"config": config}))  # JSON is YAML
    r = render(StackConfig.from_file(path), require_secrets=True)
    shown = everything(r) + json.dumps([d.raw_inputs for d in r.resources])
    assert "ciphertext-never-shown" not in shown
    assert r.missing_secrets == {}


def test_missing_secrets_are_listed_with_the_path_that_reads_them() -> None:
    r = full(secrets=())
    assert r.missing_secrets == {
        "heroku:apiKey": "launchplan:heroku.apps (provider credential)",
        "vercel:apiToken": "launchplan:vercel.projects (provider credential)",
        "launchplan:calendlyToken": "launchplan:webhooks (Calendly API token)",
        "launchplan:smtpPassword": f"launchplan:heroku.apps.{APP}.secretEnv.SMTP_PASSWORD",
        "launchplan:apiToken": f"launchplan:vercel.projects.{PROJECT}.env[0].fromConfig",
    }
    # The plan still renders: a missing secret stands in as a placeholder, shown as [secret].
    config = r.one("heroku:app/configAssociation:ConfigAssociation", f"{APP}-config")
    assert config.raw_inputs["sensitiveVars"]["SMTP_PASSWORD"] == secret_placeholder("launchplan:smtpPassword")
    assert config.inputs["sensitiveVars"]["SMTP_PASSWORD"] == SECRET


def test_only_the_unset_secrets_are_missing() -> None:
    r = full(secrets=("heroku:apiKey", "launchplan:smtpPassword"))
    assert set(r.missing_secrets) == {"vercel:apiToken", "launchplan:calendlyToken", "launchplan:apiToken"}


def test_require_secrets_refuses_a_missing_secret() -> None:
    with pytest.raises(SpecError) as info:
        render(make_config("production", ("heroku:apiKey",), heroku=SECTIONS["heroku"]), require_secrets=True)
    assert "launchplan:smtpPassword" in str(info.value)


def test_an_invalid_spec_raises_before_anything_is_registered() -> None:
    with pytest.raises(SpecError):
        render(make_config("production", heroku={"apps": {APP: {"regoin": "us"}}}))


def recorded(r: Rendering) -> list[dict[str, Any]]:
    return sorted((asdict(d) for d in r.resources), key=lambda d: d["urn"])


def test_rendering_twice_in_one_process_gives_identical_results() -> None:
    first = full()
    other = render(make_config("staging", ("vercel:apiToken",), vercel={"projects": {"other": {}}}))
    second = full()
    # Registration order follows the event loop; the recorded set is what must not change.
    assert recorded(first) == recorded(second)
    assert first.outputs == second.outputs and first.missing_secrets == second.missing_secrets
    # Nothing of the stack rendered in between leaks into the next rendering.
    assert not [d for d in second.resources if "other" in d.name]
    assert [d.name for d in other.resources] == ["other", "other"]


def test_one_and_by_type_find_resources() -> None:
    r = full()
    assert [d.name for d in r.by_type("heroku:app/app:App")] == [APP]
    assert r.by_type("no:such:Type") == []
    with pytest.raises(KeyError, match="0 resources"):
        r.one("heroku:app/app:App", "no-such-app")


def test_mask_hides_each_placeholder_and_keeps_the_shape() -> None:
    value = {"key": "A", "value": secret_placeholder("x"), "list": ["plain", f"pre-{secret_placeholder('y')}"], "n": 3}
    assert mask(value) == {"key": "A", "value": SECRET, "list": ["plain", SECRET], "n": 3}
    assert not contains_placeholder(json.dumps(mask(value)))


def test_the_committed_production_stack_renders_offline() -> None:
    r = render(StackConfig.from_file(ROOT / "Pulumi.production.yaml"))
    assert r.stack == "production" and r.spec.stack == "production"
    assert r.one("heroku:addon/addon:Addon", "sc-mvp-production-postgres").protect
    assert set(r.missing_secrets) == {"heroku:apiKey"}
