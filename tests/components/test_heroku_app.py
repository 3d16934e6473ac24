"""The Heroku app component under Pulumi's mocks: its children, their key inputs,
protection and which inputs travel as secrets."""

from __future__ import annotations

from typing import Any

import pytest

from infra.spec.stack_config import secret_placeholder
from scripts.render import SECRET
from tests.support.stacks import children, render_sections

APP = "sc-mvp-production"


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
        ("launchplan:postgres:Database", f"{APP}-db"),  # what lives inside the add-on's database
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


@pytest.mark.parametrize(
    ("values", "url"),
    [
        ({"DATABASE_URL": "postgres://primary", "HEROKU_POSTGRESQL_RED_URL": "postgres://primary"}, "postgres://primary"),
        # A second Postgres add-on on an app only gets its colour URL, as on Heroku.
        ({"HEROKU_POSTGRESQL_OLIVE_URL": "postgres://second"}, "postgres://second"),
        ({}, ""),
        (None, ""),
    ],
)
def test_the_database_url_is_the_addons_own(values: dict[str, str] | None, url: str) -> None:
    from infra.components.heroku_app import _database_url

    assert _database_url(values) == url
