"""Bad config is refused before any resource is registered, each problem naming
the stack, the full key path and the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.spec.load import load_spec
from infra.spec.problems import SpecError
from tests.support.stacks import make_config

APP = "sc-mvp-production"
BASE_APP: dict[str, Any] = {
    "env": {"RAILS_ENV": "production"},
    "postgres": {"plan": "standard-0", "backups": {"hour": 2, "timezone": "America/Los_Angeles"}},
}
BASE_PROJECT: dict[str, Any] = {
    "framework": "nextjs",
    "env": [{"key": "API_BASE", "value": "https://x.example.com", "targets": ["production"]}],
}
CREDS = ("heroku:apiKey", "vercel:apiToken", "launchplan:calendlyToken")


def heroku(**app_overrides: Any) -> dict[str, Any]:
    app = copy.deepcopy(BASE_APP)
    for key, value in app_overrides.items():
        app[key] = value
    return {"apps": {APP: app}}


def problems_of(config: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(config)
    return [(p.path, p.message, p.fix) for p in info.value.problems]


def calendly_hook(**overrides: Any) -> dict[str, Any]:
    hook = {
        "provider": "calendly",
        "url": "https://app.example.com/webhooks/calendly",
        "events": ["invitee.created"],
        "organization": "https://api.calendly.com/organizations/ORG1",
        "receiver": {"herokuApp": APP, "env": "CALENDLY_SIGNING_KEY"},
    }
    hook.update(overrides)
    return hook


P = f"launchplan:heroku.apps.{APP}"
V = "launchplan:vercel.projects.web"

# (id, sections, expected path, expected message fragment)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown key in app", {"heroku": heroku(regoin="us")}, f"{P}.regoin", "unknown key"),
    ("unknown top-level section key", {"heroku": {"apps": {}, "tema": "x"}}, "launchplan:heroku.tema", "unknown key"),
    ("wrong type: number for env value", {"heroku": heroku(env={"RATE_LIMIT": 30})}, f"{P}.env.RATE_LIMIT", "expected text"),
    (
        "wrong type: string for hour",
        {"heroku": heroku(postgres={"plan": "standard-0", "backups": {"hour": "2", "timezone": "UTC"}})},
        f"{P}.postgres.backups.hour",
        "expected whole number",
    ),
    (
        "plan that does not exist",
        {"heroku": heroku(postgres={"plan": "standard-1"})},
        f"{P}.postgres.plan",
        "not a Heroku Postgres plan",
    ),
    ("retired plan", {"heroku": heroku(postgres={"plan": "hobby-basic"})}, f"{P}.postgres.plan", "retired"),
    (
        "plan without scheduled backups",
        {"heroku": heroku(postgres={"plan": "hobby-dev", "backups": {"hour": 2, "timezone": "UTC"}})},
        f"{P}.postgres.plan",
        "retired",
    ),
    (
        "hour above 23",
        {"heroku": heroku(postgres={"plan": "standard-0", "backups": {"hour": 24, "timezone": "UTC"}})},
        f"{P}.postgres.backups.hour",
        "outside 0-23",
    ),
    (
        "negative hour",
        {"heroku": heroku(postgres={"plan": "standard-0", "backups": {"hour": -1, "timezone": "UTC"}})},
        f"{P}.postgres.backups.hour",
        "outside 0-23",
    ),
    (
        "timezone not IANA",
        {"heroku": heroku(postgres={"plan": "standard-0", "backups": {"hour": 2, "timezone": "Pacific Time"}})},
        f"{P}.postgres.backups.timezone",
        "not an IANA timezone",
    ),
    (
        "timezone abbreviation",
        {"heroku": heroku(postgres={"plan": "standard-0", "backups": {"hour": 2, "timezone": "PDT"}})},
        f"{P}.postgres.backups.timezone",
        "not an IANA timezone",
    ),
    (
        "secret-looking plain env",
        {"heroku": heroku(env={"SMTP_PASSWORD": "hunter2-do-not-print"})},
        f"{P}.env.SMTP_PASSWORD",
        "looks like a secret",
    ),
    ("plain API token", {"heroku": heroku(env={"STRIPE_API_TOKEN": "tok"})}, f"{P}.env.STRIPE_API_TOKEN", "looks like a secret"),
    ("plain _KEY", {"heroku": heroku(env={"ARRIVY_AUTH_KEY": "k"})}, f"{P}.env.ARRIVY_AUTH_KEY", "looks like a secret"),
    (
        "DATABASE_URL declared by hand",
        {"heroku": heroku(env={"DATABASE_URL": "postgres://x"})},
        f"{P}.env.DATABASE_URL",
        "set by Heroku itself",
    ),
    (
        "bad dyno size",
        {"heroku": heroku(formation={"web": {"size": "standard-3x"}})},
        f"{P}.formation.web.size",
        "not a Heroku dyno size",
    ),
    (
        "basic dyno scaled out",
        {"heroku": heroku(formation={"web": {"size": "basic", "quantity": 3}})},
        f"{P}.formation.web",
        "cannot run 3",
    ),
    ("bad region", {"heroku": heroku(region="us-east-1")}, f"{P}.region", "not a Heroku Common Runtime region"),
    ("bad app name", {"heroku": {"apps": {"SC_MVP": {}}}}, "launchplan:heroku.apps.SC_MVP", "not a valid Heroku app name"),
    ("health path without slash", {"heroku": heroku(healthCheck={"path": "healthz"})}, f"{P}.healthCheck.path", "not a URL path"),
    ("domain not a hostname", {"heroku": heroku(domains=["https://www.example.com"])}, f"{P}.domains", "not a hostname"),
    (
        "duplicate env key across env and secretEnv",
        {"heroku": heroku(env={"SMTP_HOST": "smtp.example.com"}, secretEnv={"SMTP_HOST": "smtpHost"})},
        f"{P}.secretEnv.SMTP_HOST",
        "declared twice",
    ),
    (
        "sensitive var on development",
        {
            "vercel": {
                "projects": {
                    "web": {
                        "env": [{"key": "API_SECRET", "fromConfig": "apiSecret", "targets": ["development"], "sensitive": True}]
                    }
                }
            }
        },
        f"{V}.env[0]",
        "sensitive but targets development",
    ),
    (
        "duplicate vercel key in one target",
        {
            "vercel": {
                "projects": {
                    "web": {
                        "env": [
                            {"key": "FLAG", "value": "1", "targets": ["production", "preview"]},
                            {"key": "FLAG", "value": "2", "targets": ["preview"]},
                        ]
                    }
                }
            }
        },
        f"{V}.env[1].key",
        "declared twice for target preview",
    ),
    (
        "vercel var with both value and secret",
        {"vercel": {"projects": {"web": {"env": [{"key": "X", "value": "1", "fromConfig": "x", "targets": ["production"]}]}}}},
        f"{V}.env[0]",
        "exactly one of 'value' or 'fromConfig'",
    ),
    (
        "vercel unknown target",
        {"vercel": {"projects": {"web": {"env": [{"key": "X", "value": "1", "targets": ["staging"]}]}}}},
        f"{V}.env[0].targets[0]",
        "not one of the allowed values",
    ),
    (
        "vercel plain secret-looking",
        {"vercel": {"projects": {"web": {"env": [{"key": "ARRIVY_AUTH_TOKEN", "value": "t", "targets": ["production"]}]}}}},
        f"{V}.env[0]",
        "looks like a secret",
    ),
    (
        "vercel unknown framework",
        {"vercel": {"projects": {"web": {"framework": "next"}}}},
        f"{V}.framework",
        "not a Vercel framework preset",
    ),
    (
        "webhook over http",
        {"heroku": heroku(), "webhooks": {"cal": calendly_hook(url="http://app.example.com/hook")}},
        "launchplan:webhooks.cal.url",
        "not an https URL",
    ),
    (
        "webhook to loopback http outside a sandbox",
        {"heroku": heroku(), "webhooks": {"cal": calendly_hook(url="http://127.0.0.1:8080/hook")}},
        "launchplan:webhooks.cal.url",
        "only a sandbox stack may use",
    ),
    (
        "unknown calendly event",
        {"heroku": heroku(), "webhooks": {"cal": calendly_hook(events=["invitee.cancelled"])}},
        "launchplan:webhooks.cal.events",
        "not a Calendly webhook event",
    ),
    (
        "calendly user scope without user",
        {"heroku": heroku(), "webhooks": {"cal": calendly_hook(scope="user")}},
        "launchplan:webhooks.cal",
        "scope 'user' needs 'user'",
    ),
    (
        "webhook receiver app not declared",
        {"heroku": heroku(), "webhooks": {"cal": calendly_hook(receiver={"herokuApp": "nope-app", "env": "K"})}},
        "launchplan:webhooks.cal.receiver.herokuApp",
        "no Heroku app 'nope-app'",
    ),
    (
        "webhook without provider",
        {"webhooks": {"x": {"url": "https://a.example.com"}}},
        "launchplan:webhooks.x",
        "needs a 'provider'",
    ),
    (
        "arrivy event in lower case",
        {
            "vercel": {"projects": {"web": BASE_PROJECT}},
            "webhooks": {
                "arr": {
                    "provider": "arrivy",
                    "url": "https://a.example.com/h",
                    "events": ["task_created"],
                    "receiver": {"vercelProject": "web", "env": "ARRIVY_WEBHOOK_SECRET"},
                }
            },
        },
        "launchplan:webhooks.arr.events",
        "not an Arrivy event type",
    ),
    (
        "role with bad name",
        {"heroku": heroku(postgres={"plan": "standard-0", "roles": {"Reporting-RO": {}}})},
        f"{P}.postgres.roles.Reporting-RO",
        "not a valid role name",
    ),
    (
        "grant privilege unknown",
        {"heroku": heroku(postgres={"plan": "standard-0", "roles": {"ro": {"grants": [{"privileges": ["READ"]}]}}})},
        f"{P}.postgres.roles.ro.grants[0].privileges[0]",
        "not one of the allowed values",
    ),
    ("sandbox flag not boolean", {"sandbox": "maybe"}, "launchplan:sandbox", "not a structured value"),
    (
        "endpoint over plain http outside sandbox",
        {"endpoints": {"herokuDataApi": "http://127.0.0.1:9000"}},
        "launchplan:endpoints.herokuDataApi",
        "only a sandbox stack may use",
    ),
]


@pytest.mark.parametrize(("sections", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_names_the_key_path(sections: dict[str, Any], path: str, fragment: str) -> None:
    problems = problems_of(make_config("production", CREDS, **sections))
    matching = [p for p in problems if p[0] == path]
    assert matching, f"no problem at {path}; got {[p[0] for p in problems]}"
    assert any(fragment in message for _, message, _ in matching), matching
    assert all(fix for _, _, fix in problems), "every problem says how to fix it"


def test_every_problem_is_reported_at_once() -> None:
    sections = {
        "heroku": heroku(region="mars", postgres={"plan": "standard-0", "backups": {"hour": 99, "timezone": "Nowhere/City"}}),
        "vercel": {"projects": {"web": {"framework": "nope"}}},
    }
    paths = {p[0] for p in problems_of(make_config("production", CREDS, **sections))}
    assert {f"{P}.region", f"{P}.postgres.backups.hour", f"{P}.postgres.backups.timezone", f"{V}.framework"} <= paths


def test_message_names_the_stack_and_never_echoes_values() -> None:
    config = make_config("production", CREDS, heroku=heroku(env={"SMTP_PASSWORD": "hunter2-do-not-print"}))
    with pytest.raises(SpecError) as info:
        load_spec(config)
    text = str(info.value)
    assert "[stack production]" in text
    assert "hunter2-do-not-print" not in text
    assert "pulumi config set --secret --stack production launchplan:smtpPassword" in text
    assert "nothing was changed" in text


def test_missing_secrets_are_all_listed_with_their_commands() -> None:
    sections = {
        "heroku": heroku(secretEnv={"SMTP_PASSWORD": "smtpPassword", "TWILIO_AUTH_TOKEN": "twilioAuthToken"}),
        "vercel": {"projects": {"web": {"env": [{"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["production"]}]}}},
    }
    problems = problems_of(make_config("production", (), **sections))
    commands = {fix for _, _, fix in problems}
    for key in (
        "heroku:apiKey",
        "vercel:apiToken",
        "launchplan:smtpPassword",
        "launchplan:twilioAuthToken",
        "launchplan:apiToken",
    ):
        assert f"run `pulumi config set --secret --stack production {key}`" in commands
    paths = {p[0] for p in problems}
    assert f"{P}.secretEnv.TWILIO_AUTH_TOKEN" in paths
    assert f"{V}.env[0].fromConfig" in paths


def test_secret_set_as_plain_text_is_refused() -> None:
    config = make_config(
        "staging",
        ("heroku:apiKey",),
        plain={"launchplan:smtpPassword": "plain"},
        heroku=heroku(secretEnv={"SMTP_PASSWORD": "smtpPassword"}),
    )
    problems = problems_of(config)
    assert (
        f"{P}.secretEnv.SMTP_PASSWORD",
        "secret config key launchplan:smtpPassword is set as plain text",
        "run `pulumi config rm --stack staging launchplan:smtpPassword` then "
        "`pulumi config set --secret --stack staging launchplan:smtpPassword`",
    ) in problems


def test_unknown_launchplan_key_is_refused() -> None:
    problems = problems_of(make_config("staging", CREDS, plain={"launchplan:herokuu": "{}"}, heroku=heroku()))
    assert problems[0][0] == "launchplan:herokuu"
    assert "did you mean 'heroku'" in problems[0][2]


def test_loopback_http_is_fine_in_a_sandbox() -> None:
    config = make_config(
        "sandbox",
        CREDS,
        sandbox="true",
        heroku=heroku(),
        webhooks={"cal": calendly_hook(url="http://127.0.0.1:8080/hook")},
        endpoints={"calendlyApi": "http://127.0.0.1:9100/"},
    )
    spec = load_spec(config)
    assert spec.sandbox
    assert spec.endpoints.calendly_api == "http://127.0.0.1:9100"


def test_production_databases_are_protected_by_default() -> None:
    prod = load_spec(make_config("production", CREDS, heroku=heroku()))
    staging = load_spec(make_config("staging", CREDS, heroku=heroku()))
    opted_out = load_spec(make_config("production", CREDS, heroku=heroku(postgres={"plan": "standard-0", "protect": False})))
    assert prod.database_protected(prod.heroku.apps[APP])
    assert not staging.database_protected(staging.heroku.apps[APP])
    assert not opted_out.database_protected(opted_out.heroku.apps[APP])


def test_public_looking_names_are_not_secrets() -> None:
    spec = load_spec(
        make_config(
            "staging",
            CREDS,
            vercel={
                "projects": {
                    "web": {"env": [{"key": "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "value": "pk_test", "targets": ["production"]}]}
                }
            },
        )
    )
    assert spec.vercel.projects["web"].env[0].value == "pk_test"
