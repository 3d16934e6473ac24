"""Each component under Pulumi's mocks: the resources it declares, their key inputs,
their parents, protection and which inputs travel as secrets."""

from __future__ import annotations

from typing import Any

import pytest

from infra.stack_config import secret_placeholder
from scripts.render import SECRET, Rendering
from tests.conftest import render_sections

APP = "sc-mvp-production"


def children(rendering: Rendering, parent: str) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in rendering.resources if r.parent == parent}


def test_heroku_app_component_declares_everything_under_itself(heroku_app: dict[str, Any]) -> None:
    r = render_sections("production", secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    component = r.one("launchplan:heroku:App", APP)
    assert component.parent is None and not component.custom
    assert children(r, APP) == {
        ("heroku:app/app:App", APP),
        ("heroku:formation/formation:Formation", f"{APP}-web"),
        ("heroku:formation/formation:Formation", f"{APP}-worker"),
        ("heroku:app/configAssociation:ConfigAssociation", f"{APP}-config"),
        ("heroku:domain/domain:Domain", f"{APP}-api.example.com"),
        ("heroku:domain/domain:Domain", f"{APP}-www.example.com"),
        ("heroku:addon/addon:Addon", f"{APP}-postgres"),
        ("pulumi-python:dynamic/heroku:BackupSchedule", f"{APP}-backups"),
        ("random:index/randomPassword:RandomPassword", f"{APP}-SECRET_KEY_BASE"),
    }
    app = r.one("heroku:app/app:App", APP)
    assert app.inputs == {"name": APP, "region": "eu", "stack": "heroku-24"}
    web = r.one("heroku:formation/formation:Formation", f"{APP}-web")
    assert (web.inputs["type"], web.inputs["size"], web.inputs["quantity"]) == ("web", "standard-1x", 2)
    assert web.inputs["appId"] == f"{APP}-id"


def test_config_association_holds_plain_vars_and_secrets_apart(heroku_app: dict[str, Any]) -> None:
    r = render_sections("production", secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    config = r.one("heroku:app/configAssociation:ConfigAssociation", f"{APP}-config")
    assert config.raw_inputs["vars"] == {"RAILS_ENV": "production", "WEB_CONCURRENCY": "2"}
    assert config.secret_inputs == ["sensitiveVars"]
    sensitive = config.raw_inputs["sensitiveVars"]
    assert sensitive["SMTP_PASSWORD"] == secret_placeholder("launchplan:smtpPassword")
    assert sensitive["SECRET_KEY_BASE"] == secret_placeholder(f"random:{APP}-SECRET_KEY_BASE")
    assert config.inputs["sensitiveVars"] == {"SECRET_KEY_BASE": SECRET, "SMTP_PASSWORD": SECRET}
    key_base = r.one("random:index/randomPassword:RandomPassword", f"{APP}-SECRET_KEY_BASE")
    assert key_base.inputs == {"length": 128, "special": False}


@pytest.mark.parametrize(("stack", "protected"), [("production", True), ("staging", False)])
def test_postgres_addon_protection_follows_the_stack(heroku_app: dict[str, Any], stack: str, protected: bool) -> None:
    r = render_sections(stack, secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    addon = r.one("heroku:addon/addon:Addon", f"{APP}-postgres")
    assert addon.protect is protected
    assert addon.inputs == {"appId": f"{APP}-id", "plan": "heroku-postgresql:standard-0"}
    # Only these inputs: nothing unrelated (a name, a config map) that could force a replacement.
    assert r.outputs["herokuApps"][APP]["database"]["protected"] is protected


def test_backup_schedule_is_daily_at_the_declared_hour(heroku_app: dict[str, Any]) -> None:
    r = render_sections("production", secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    schedule = r.one("pulumi-python:dynamic/heroku:BackupSchedule", f"{APP}-backups")
    assert schedule.inputs == {
        "addon_id": f"{APP}-postgres-id",
        "app": APP,
        "hour": 2,
        "schedule_name": "DATABASE_URL",
        "timezone": "America/Los_Angeles",
    }
    assert schedule.secret_inputs == []  # the token is read at configure time, never an input
    assert r.outputs["herokuApps"][APP]["database"]["backups"] == "daily at 02:00 America/Los_Angeles"


def test_no_backup_schedule_without_backups() -> None:
    r = render_sections(heroku={"apps": {"sc-mvp-staging": {"postgres": {"plan": "essential-0"}}}})
    assert r.by_type("pulumi-python:dynamic/heroku:BackupSchedule") == []


def test_database_component_manages_extensions_schemas_roles(heroku_app: dict[str, Any]) -> None:
    r = render_sections("production", secrets=("heroku:apiKey", "launchplan:smtpPassword"), heroku={"apps": {APP: heroku_app}})
    db = f"{APP}-db"
    assert r.one("launchplan:postgres:Database", db).parent is None
    provider = r.one("pulumi:providers:postgresql", f"{db}-postgresql")
    assert {"host", "port", "username", "password", "database"} <= set(provider.secret_inputs)
    assert provider.raw_inputs["password"] == secret_placeholder(f"{APP}-postgres:password")
    assert provider.raw_inputs["host"] == f"{APP}-postgres.mock"
    assert provider.inputs["sslmode"] == "require"
    extensions = sorted(e.inputs["name"] for e in r.by_type("postgresql:index/extension:Extension"))
    assert extensions == ["citext", "pg_stat_statements"]
    assert r.one("postgresql:index/schema:Schema", f"{db}-schema-reporting").inputs["name"] == "reporting"
    role = r.one("postgresql:index/role:Role", f"{db}-role-reporting_ro")
    assert role.raw_inputs["password"] == secret_placeholder(f"random:{db}-role-reporting_ro")
    assert "password" in role.secret_inputs and role.inputs["login"] is True
    grant = r.one("postgresql:index/grant:Grant", f"{db}-grant-reporting_ro-0")
    assert (grant.inputs["role"], grant.inputs["schema"], grant.inputs["objectType"], grant.inputs["privileges"]) == (
        "reporting_ro",
        "reporting",
        "table",
        ["SELECT"],
    )
    # Every database resource goes through the add-on's provider, not an ambient default one.
    managed = [c for c in r.resources if c.type.startswith("postgresql:index/")]
    assert len(managed) == 5
    assert all(f"pulumi:providers:postgresql::{db}-postgresql" in c.provider for c in managed)
    assert r.outputs["rolePasswords"] == SECRET


def vercel_vars(r: Rendering, project: str) -> dict[tuple[str, tuple[str, ...]], Any]:
    found = [v for v in r.by_type("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable") if v.parent == project]
    return {(v.inputs["key"], tuple(v.inputs["targets"])): v for v in found}


def test_vercel_project_declares_project_vars_and_domains() -> None:
    project = {
        "framework": "nextjs",
        "domains": ["dash.example.com"],
        "env": [
            {"key": "API_BASE", "value": "https://api.example.com", "targets": ["production", "preview"]},
            {"key": "API_BASE", "value": "http://localhost:3000", "targets": ["development"]},
            {"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["preview", "production"]},
            {"key": "DEV_TOKEN", "fromConfig": "devToken", "targets": ["development"]},
        ],
        "healthCheck": {"path": "/api/health"},
    }
    r = render_sections(
        secrets=("vercel:apiToken", "launchplan:apiToken", "launchplan:devToken"),
        vercel={"team": "team_abc", "projects": {"dash": project}},
    )
    env_type = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
    assert children(r, "dash") == {
        ("vercel:index/project:Project", "dash"),
        (env_type, "dash-API_BASE"),
        (env_type, "dash-API_BASE-2"),
        (env_type, "dash-API_TOKEN"),
        (env_type, "dash-DEV_TOKEN"),
        ("vercel:index/projectDomain:ProjectDomain", "dash-dash.example.com"),
    }
    assert r.one("vercel:index/project:Project", "dash").inputs == {"framework": "nextjs", "name": "dash", "teamId": "team_abc"}
    by_key = vercel_vars(r, "dash")
    base = by_key[("API_BASE", ("production", "preview"))]
    assert base.inputs["sensitive"] is False
    assert base.inputs["value"] == "https://api.example.com"  # plain config: readable in the plan
    # The SDK sends every Vercel env value to the engine as a secret, plain ones included.
    assert base.secret_inputs == ["value"]
    assert by_key[("API_BASE", ("development",))].inputs["value"] == "http://localhost:3000"
    token = by_key[("API_TOKEN", ("production", "preview"))]
    assert token.inputs["sensitive"] is True and token.secret_inputs == ["value"]
    assert token.delete_before_replace  # Vercel refuses two vars with one key and target
    assert token.raw_inputs["value"] == secret_placeholder("launchplan:apiToken")
    assert token.inputs["teamId"] == "team_abc" and token.inputs["projectId"] == "dash-id"
    # Vercel refuses sensitive values on development: a secret there is encrypted, not sensitive.
    dev = by_key[("DEV_TOKEN", ("development",))]
    assert dev.inputs["sensitive"] is False and dev.secret_inputs == ["value"]
    assert r.outputs["vercelProjects"]["dash"]["healthCheckUrl"] == "https://dash.example.com/api/health"


def test_calendly_webhook_shares_its_signing_key_with_the_receiver() -> None:
    r = render_sections(
        secrets=("heroku:apiKey", "launchplan:calendlyToken"),
        heroku={"apps": {"sched-app": {}}},
        webhooks={
            "cal": {
                "provider": "calendly",
                "url": "https://sched.example.com/hooks/calendly",
                "events": ["invitee.created", "invitee.canceled"],
                "organization": "https://api.calendly.com/organizations/ORG1",
                "receiver": {"herokuApp": "sched-app", "env": "CALENDLY_SIGNING_KEY"},
            }
        },
    )
    assert children(r, "cal") == {
        ("random:index/randomPassword:RandomPassword", "cal-signing-secret"),
        ("pulumi-python:dynamic/calendly:WebhookSubscription", "cal"),
    }
    sub = r.one("pulumi-python:dynamic/calendly:WebhookSubscription", "cal")
    assert sub.inputs["events"] == ["invitee.canceled", "invitee.created"]  # sorted: order carries no meaning
    assert sub.secret_inputs == ["signing_key"]
    receiver = r.one("heroku:app/configAssociation:ConfigAssociation", "sched-app-config")
    sent = sub.raw_inputs["signing_key"]
    assert sent == secret_placeholder("random:cal-signing-secret")
    assert receiver.raw_inputs["sensitiveVars"]["CALENDLY_SIGNING_KEY"] == sent
    assert r.outputs["webhookSecrets"] == SECRET
    assert r.outputs["manualSteps"] == []


def test_arrivy_webhook_is_a_manual_step_with_exact_settings() -> None:
    r = render_sections(
        secrets=("vercel:apiToken",),
        vercel={"projects": {"dash": {}}},
        webhooks={
            "arr": {
                "provider": "arrivy",
                "url": "https://dash.example.com/api/webhook",
                "events": ["TASK_STATUS", "TASK_CREATED"],
                "receiver": {"vercelProject": "dash", "env": "ARRIVY_WEBHOOK_SECRET"},
            }
        },
    )
    assert r.by_type("pulumi-python:dynamic/calendly:WebhookSubscription") == []
    [step] = r.outputs["manualSteps"]
    assert step["url"] == "https://dash.example.com/api/webhook"
    assert step["events"] == ["TASK_CREATED", "TASK_STATUS"]
    assert "webhookSecrets.arr" in step["secret"] and "ARRIVY_WEBHOOK_SECRET" in step["secret"]
    [var] = vercel_vars(r, "dash").values()
    assert var.inputs["key"] == "ARRIVY_WEBHOOK_SECRET" and var.inputs["sensitive"] is True
    assert var.raw_inputs["value"] == secret_placeholder("random:arr-signing-secret")
