"""The policy pack's rules (infra/policies.py), on resources as the pack receives them."""

from __future__ import annotations

from policy.rules import (
    ADDON,
    CALENDLY,
    CONFIG,
    SCHEDULE,
    VERCEL_ENV,
    Res,
    production_databases_backed_up,
    secret_env_vars_sensitive,
    webhooks_https,
)


def urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::launchplan::launchplan:heroku:App${type_}::{name}"


APP = "urn:pulumi:production::launchplan::launchplan:heroku:App::sc-mvp-production"


def addon(stack: str = "production", plan: str = "heroku-postgresql:standard-0", protect: bool = True) -> Res:
    return Res(ADDON, urn(stack, ADDON, "sc-mvp-production-postgres"), {"plan": plan}, protect, APP)


def schedule(parent: str = APP) -> Res:
    return Res(SCHEDULE, urn("production", SCHEDULE, "sc-mvp-production-backups"), {"hour": 2}, False, parent)


def test_production_database_with_backups_passes() -> None:
    assert production_databases_backed_up([addon(), schedule()]) == []


def test_production_database_without_a_schedule_fails() -> None:
    assert production_databases_backed_up([addon(), schedule(parent="urn:other")]) == [
        "sc-mvp-production-postgres: no backup schedule is declared for this database; add postgres.backups"
    ]


def test_production_database_on_a_plan_without_scheduled_backups_fails() -> None:
    [problem] = production_databases_backed_up([addon(plan="heroku-postgresql:hobby-dev"), schedule()])
    assert "cannot hold scheduled backups" in problem


def test_unprotected_staging_database_needs_no_schedule() -> None:
    assert production_databases_backed_up([addon(stack="staging", protect=False)]) == []
    assert production_databases_backed_up([addon(stack="staging", protect=True)]) != []  # protected anywhere: same rule


def test_secret_looking_config_vars_must_be_sensitive() -> None:
    plain = Res(CONFIG, urn("staging", CONFIG, "app-config"), {"vars": {"RAILS_ENV": "x", "STRIPE_API_KEY": "y"}})
    assert secret_env_vars_sensitive(plain) == [
        "app-config: STRIPE_API_KEY looks like a secret but is a plain config var; use secretEnv"
    ]
    assert secret_env_vars_sensitive(Res(CONFIG, plain.urn, {"vars": {"RAILS_ENV": "x"}, "sensitiveVars": "[secret]"})) == []


def test_secret_looking_vercel_vars_must_be_sensitive_except_on_development() -> None:
    def var(**props: object) -> Res:
        return Res(VERCEL_ENV, urn("staging", VERCEL_ENV, "web-API_TOKEN"), {"key": "API_TOKEN", **props})

    assert secret_env_vars_sensitive(var(sensitive=False, targets=["production"])) == [
        "web-API_TOKEN: API_TOKEN looks like a secret; make it sensitive"
    ]
    assert secret_env_vars_sensitive(var(sensitive=True, targets=["production"])) == []
    assert secret_env_vars_sensitive(var(sensitive=False, targets=["development"])) == []  # Vercel refuses sensitive there


def test_webhooks_must_be_https_except_loopback_in_the_sandbox() -> None:
    def hook(stack: str, url: str) -> Res:
        return Res(CALENDLY, urn(stack, CALENDLY, "cal"), {"url": url})

    assert webhooks_https(hook("production", "https://app.example.com/hook")) == []
    assert webhooks_https(hook("production", "http://app.example.com/hook")) == [
        "cal: webhook URL http://app.example.com/hook is not https"
    ]
    assert webhooks_https(hook("production", "http://127.0.0.1:8080/hook")) != []
    assert webhooks_https(hook("sandbox", "http://127.0.0.1:8080/hook")) == []
