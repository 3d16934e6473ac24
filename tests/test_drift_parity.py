"""Staging vs production parity, from the two committed specs (no engine needed)."""

from __future__ import annotations

from scripts.drift import parity
from scripts.stacks import Stack
from tests.conftest import ROOT


def stacks(staging_secrets: dict[str, str], production_secrets: dict[str, str]) -> tuple[Stack, Stack]:
    staging, production = Stack(ROOT, "staging"), Stack(ROOT, "production")
    staging._secrets, production._secrets = staging_secrets, production_secrets  # as `pulumi config --show-secrets` gives
    return staging, production


def test_parity_names_keys_plans_schedules_and_shared_secrets() -> None:
    staging, production = stacks(
        {"heroku:apiKey": "key-for-both", "launchplan:smtpPassword": "staging-only-pw"},
        {"heroku:apiKey": "key-for-both", "launchplan:smtpPassword": "production-pw"},
    )
    found = {(d.resource, d.detail) for d in parity(staging, production)}
    pair = "sc-mvp-staging / sc-mvp-production"
    assert found == {
        (pair, "env key LANG only in staging"),
        (pair, "env key RACK_ENV only in staging"),
        (pair, "Postgres plan essential-0 in staging, standard-0 in production"),
        (pair, "backups none in staging, daily 02:00 America/Los_Angeles in production"),
        ("heroku:apiKey", "the same secret value is set in staging and production"),
    }


def test_different_secrets_are_not_a_finding() -> None:
    staging, production = stacks({"heroku:apiKey": "a"}, {"heroku:apiKey": "b"})
    assert not [d for d in parity(staging, production) if "secret" in d.detail]
