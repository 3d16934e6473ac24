"""Facts derived from a whole stack's spec: which databases are protected, where webhook
signing secrets go, every env key per app, and every secret config key the spec reads."""

from __future__ import annotations

from typing import Any

import pytest

from infra.spec.load import load_spec
from infra.spec.stack_spec import PROVIDER_CREDENTIALS, Delivery, Spec
from tests.support.stacks import make_config

ORG = "https://api.calendly.com/organizations/ORG1"


def spec(stack: str = "staging", **sections: Any) -> Spec:
    return load_spec(make_config(stack, **sections), require_secrets=False)


def pg(**extra: Any) -> dict[str, Any]:
    return {"plan": "standard-0", **extra}


def calendly(receiver: dict[str, Any], url: str = "https://app.example.com/hooks/calendly") -> dict[str, Any]:
    return {"provider": "calendly", "url": url, "events": ["invitee.created"], "organization": ORG, "receiver": receiver}


def arrivy(receiver: dict[str, Any]) -> dict[str, Any]:
    return {"provider": "arrivy", "url": "https://web.example.com/hooks/arrivy", "events": ["TASK_CREATED"], "receiver": receiver}


# --- database_protected ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "protect_databases", "protect", "expected"),
    [
        ("production", None, None, True),  # the default for a stack named production
        ("prod-eu", None, None, True),
        ("staging", None, None, False),
        ("staging", True, None, True),  # the stack-wide switch
        ("production", False, None, False),
        ("production", None, False, False),  # the database's own setting wins both ways
        ("staging", None, True, True),
        ("staging", False, True, True),
        ("production", True, False, False),
    ],
)
def test_database_protected(stack: str, protect_databases: bool | None, protect: bool | None, expected: bool) -> None:
    postgres = pg() if protect is None else pg(protect=protect)
    sections: dict[str, Any] = {"heroku": {"apps": {"web-app": {"postgres": postgres}}}}
    if protect_databases is not None:
        sections["protectDatabases"] = "true" if protect_databases else "false"
    s = spec(stack, **sections)
    assert s.database_protected(s.heroku.apps["web-app"]) is expected


def test_an_app_without_postgres_has_nothing_to_protect() -> None:
    s = spec("production", heroku={"apps": {"web-app": {}}})
    assert s.protect_databases and not s.database_protected(s.heroku.apps["web-app"])


# --- deliveries and env keys -----------------------------------------------------------------------

HOOKED: dict[str, Any] = {
    "heroku": {
        "apps": {
            "api-app": {"env": {"RAILS_ENV": "production"}, "secretEnv": {"SMTP_PASSWORD": "smtpPassword"}},
            "other-app": {"generatedEnv": {"SECRET_KEY_BASE": {"length": 64}}},
        }
    },
    "vercel": {
        "projects": {
            "web": {
                "env": [
                    {"key": "API_BASE", "value": "https://api.example.com", "targets": ["production", "preview"]},
                    {"key": "API_TOKEN", "fromConfig": "apiToken", "targets": ["production"]},
                ]
            }
        }
    },
    # Declared out of alphabetical order on purpose: deliveries keep the file's order.
    "webhooks": {
        "zeta-arrivy": arrivy({"vercelProject": "web", "env": "ARRIVY_WEBHOOK_SECRET", "targets": ["production", "preview"]}),
        "alpha-calendly": calendly({"herokuApp": "api-app", "env": "CALENDLY_SIGNING_KEY"}),
    },
}


def test_deliveries_follow_the_declared_order_with_their_fields() -> None:
    assert spec(**HOOKED).deliveries() == [
        Delivery("zeta-arrivy", "ARRIVY_WEBHOOK_SECRET", None, "web", ("production", "preview")),
        Delivery("alpha-calendly", "CALENDLY_SIGNING_KEY", "api-app", None, ("production",)),
    ]


def test_a_delivery_names_its_receivers_key_path() -> None:
    delivery = spec(**HOOKED).deliveries()[1]
    assert delivery.path == "launchplan:webhooks.alpha-calendly.receiver.env"


def test_no_webhooks_no_deliveries() -> None:
    assert spec(heroku={"apps": {"web-app": {}}}).deliveries() == []


def test_heroku_env_keys_include_every_source_and_the_signing_secret() -> None:
    s = spec(**HOOKED)
    assert s.heroku_env_keys("api-app") == {"RAILS_ENV", "SMTP_PASSWORD", "CALENDLY_SIGNING_KEY"}
    assert s.heroku_env_keys("other-app") == {"SECRET_KEY_BASE"}  # a webhook for another app does not leak in


def test_vercel_env_slots_are_key_target_pairs_with_the_signing_secret() -> None:
    assert spec(**HOOKED).vercel_env_slots("web") == {
        ("API_BASE", "production"),
        ("API_BASE", "preview"),
        ("API_TOKEN", "production"),
        ("ARRIVY_WEBHOOK_SECRET", "production"),
        ("ARRIVY_WEBHOOK_SECRET", "preview"),
    }


def test_unknown_app_or_project_is_a_key_error() -> None:
    s = spec(**HOOKED)
    with pytest.raises(KeyError):
        s.heroku_env_keys("no-such-app")
    with pytest.raises(KeyError):
        s.vercel_env_slots("no-such-project")


# --- secret_refs -------------------------------------------------------------------------------------


def test_secret_refs_name_each_key_and_the_path_that_reads_it() -> None:
    s = spec(
        heroku={
            "apps": {
                "api-app": {"secretEnv": {"SMTP_PASSWORD": "smtpPassword", "STRIPE_KEY": "stripe:secretKey"}},
                "worker-app": {"secretEnv": {"SMTP_PASSWORD": "smtpPassword"}},
            }
        },
        vercel=HOOKED["vercel"],
        webhooks={"alpha-calendly": calendly({"herokuApp": "api-app", "env": "CALENDLY_SIGNING_KEY"})},
    )
    assert s.secret_refs() == {
        "heroku:apiKey": "launchplan:heroku.apps (provider credential)",
        "vercel:apiToken": "launchplan:vercel.projects (provider credential)",
        "launchplan:calendlyToken": "launchplan:webhooks (Calendly API token)",
        "launchplan:smtpPassword": "launchplan:heroku.apps.api-app.secretEnv.SMTP_PASSWORD",  # the first reader
        "stripe:secretKey": "launchplan:heroku.apps.api-app.secretEnv.STRIPE_KEY",  # a namespaced key is kept as is
        "launchplan:apiToken": "launchplan:vercel.projects.web.env[1].fromConfig",
    }


def test_secret_refs_ask_only_for_the_credentials_in_use() -> None:
    assert spec(heroku={"apps": {"web-app": {}}}).secret_refs() == {
        "heroku:apiKey": "launchplan:heroku.apps (provider credential)"
    }
    only_vercel = spec(vercel={"projects": {"web": {}}}).secret_refs()
    assert set(only_vercel) == {"vercel:apiToken"}
    # An Arrivy webhook is a manual step: it needs no Calendly token.
    arrivy_only = spec(vercel={"projects": {"web": {}}}, webhooks={"hook": arrivy({"vercelProject": "web", "env": "SIGNING"})})
    assert set(arrivy_only.secret_refs()) == {"vercel:apiToken"}
    assert spec().secret_refs() == {}


def test_provider_credentials_are_the_refs_no_resource_gets_as_input() -> None:
    refs = spec(**HOOKED).secret_refs()
    assert set(refs) & PROVIDER_CREDENTIALS == {"heroku:apiKey", "vercel:apiToken", "launchplan:calendlyToken"}
    assert set(refs) - PROVIDER_CREDENTIALS == {"launchplan:smtpPassword", "launchplan:apiToken"}
