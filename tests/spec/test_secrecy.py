"""The one place deciding "could this be a secret": names, values, what messages may quote, and
the redaction every message passes through."""

from __future__ import annotations

import pytest

from infra.spec.secrecy import looks_secret, looks_secret_key, redact, secret_value, shown

# Credential shapes, built at run time (no scanner should mistake this file for one holding credentials).
TOKENS = {
    "a GitHub token": "gh" + "p_" + "Zq8rT2mW9xKc4LbN7vYh1DfGj3PsQa6EuR0o",
    "a Stripe secret key": "sk" + "_live_" + "51Hx9QwErTyUiOp4AsDfGhJk",
    "a Slack token": "xo" + "xb-" + "1234567890-0987654321-AbCdEfGhIjKl",
    "an AWS access key": "AK" + "IA" + "QW3RTY7UIOP4ASDF",
    "a Heroku API key": "HR" + "KU-" + "aa11bb22cc33dd44ee55ff66",
    "a JSON Web Token": "ey" + "JhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
    "a PEM private key": "-----BEGIN " + "PRIVATE KEY-----\nMIIE",
    "a URL with a password": "postgres://app:" + "s3cr3t-pw" + "@db.example.com:5432/app",
    "a URL with a credential in its query": "https://hooks.example.com/in?api_key=" + "abcdef123456",
    "a long random-looking string": "8f3a9c2e4b1d7f6a" + "0c5e2b9d4a7f1e3c",
}


@pytest.mark.parametrize(
    "name", ["SMTP_PASS", "DB_PWD", "MAIL_PASSPHRASE", "HASHID_SALT", "GITHUB_PAT", "REDIS_URI", "MYSQL_URL"]
)
def test_new_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize("name", ["PASSENGER_MAX_POOL_SIZE", "BYPASS_CACHE", "COMPASS_URL", "APP_URL", "NEXT_PUBLIC_SENTRY_DSN"])
def test_names_that_only_contain_a_secret_word_are_plain(name: str) -> None:
    assert not looks_secret(name)


def test_config_key_names_in_camel_case() -> None:
    assert looks_secret_key("launchplan:smtpPassword") and looks_secret_key("vercel:apiToken")
    assert not looks_secret_key("launchplan:heroku") and not looks_secret_key("heroku:url")


@pytest.mark.parametrize(("kind", "value"), sorted(TOKENS.items()))
def test_credential_values_are_recognised_whatever_their_name(kind: str, value: str) -> None:
    assert secret_value(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "production",
        "America/Los_Angeles",
        "https://api.calendly.com/organizations/EBHAAFHDCAEWWRAA",
        "en_US.UTF-8",
        "+15555550100",
        "KIN Home",
        "/api/operations/field-tracking/webhook",
        "standard-1x",
        "smtp.sendgrid.net",
        "https://app.example.com/webhooks/calendly",
        "sc-mvp-production",
        "ThisIsACamelCaseValue",
    ],
)
def test_ordinary_values_are_not_secrets(value: str) -> None:
    assert secret_value(value) is None


@pytest.mark.parametrize("value", sorted(TOKENS.values()))
def test_shown_never_quotes_a_credential(value: str) -> None:
    assert value not in shown(value) and "not shown" in shown(value)


def test_shown_quotes_ordinary_values_and_shortens_long_ones() -> None:
    assert shown("standard-1") == "'standard-1'"
    assert shown("x" * 200).endswith("…'") and len(shown("x" * 200)) < 70


@pytest.mark.parametrize("value", sorted(TOKENS.values()))
def test_redaction_hides_every_credential_inside_a_message(value: str) -> None:
    message = f"could not reach the API with {value} (status 401)"
    redacted = redact(message)
    assert "[hidden]" in redacted
    secret_part = value.split("://app:")[-1].split("@")[0] if "://" in value and "@" in value else value
    assert secret_part not in redacted
    assert redacted.startswith("could not reach the API with") and redacted.endswith("(status 401)")


def test_redaction_leaves_ordinary_messages_alone() -> None:
    message = (
        "[stack production] launchplan:heroku.apps.sc-mvp-production.postgres.backups.hour: hour 26 is outside 0-23\n"
        "    fix: run `pulumi config set --secret --stack production launchplan:smtpPassword` (see /healthz)"
    )
    assert redact(message) == message
