"""Staging vs production parity, from the two committed specs (no engine needed)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scripts.drift import parity
from scripts.stacks import Stack
from tests.support.stacks import ROOT

MakeStacks = Callable[[dict[str, str], dict[str, str]], tuple[Stack, Stack]]


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> MakeStacks:
    """Two stacks whose `pulumi config --json --show-secrets` answers with the given secrets."""

    def make(staging_secrets: dict[str, str], production_secrets: dict[str, str]) -> tuple[Stack, Stack]:
        answers = {"staging": staging_secrets, "production": production_secrets}

        def pulumi(self: Stack, *args: str) -> str:
            assert args == ("config", "--json", "--show-secrets"), args
            config = {k: {"value": v, "secret": True} for k, v in answers[self.name].items()}
            config["launchplan:plainSetting"] = {"value": "not a secret", "secret": False}
            return json.dumps(config)

        monkeypatch.setattr(Stack, "pulumi", pulumi)
        return Stack(ROOT, "staging"), Stack(ROOT, "production")

    return make


def test_parity_names_keys_plans_schedules_and_shared_secrets(stacks: MakeStacks) -> None:
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


def test_different_secrets_are_not_a_finding(stacks: MakeStacks) -> None:
    staging, production = stacks({"heroku:apiKey": "a"}, {"heroku:apiKey": "b"})
    assert not [d for d in parity(staging, production) if "secret" in d.detail]


def test_live_names_the_changed_key_and_hides_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pulumi refresh --preview-only`'s event for a Heroku ConfigAssociation whose NODE_ENV and
    SECRET_KEY_BASE were changed by hand, as the engine logs it (secret maps masked whole; the
    detailed diff names the keys)."""
    from pathlib import Path

    from scripts.drift import live

    urn = "urn:pulumi:production::launchplan::launchplan:heroku:App$heroku:app/configAssociation:ConfigAssociation::"
    masked = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}
    event = {
        "resOutputsEvent": {
            "metadata": {
                "op": "update",
                "urn": urn + "sc-mvp-production-config",
                "diffs": ["sensitiveVars", "vars"],
                "detailedDiff": {
                    "sensitiveVars.SECRET_KEY_BASE": {"diffKind": "update", "inputDiff": False},
                    "vars.NODE_ENV": {"diffKind": "update", "inputDiff": False},
                },
                "old": {"outputs": {"appId": "a1", "sensitiveVars": masked, "vars": {"NODE_ENV": "production", "A": "1"}}},
                "new": {"outputs": {"appId": "a1", "sensitiveVars": masked, "vars": {"NODE_ENV": "development", "A": "1"}}},
            }
        }
    }

    def pulumi(self: Stack, *args: str) -> str:
        Path(args[args.index("--event-log") + 1]).write_text(json.dumps(event) + "\n")
        return ""

    monkeypatch.setattr(Stack, "pulumi", pulumi)
    found = [(d.resource, d.detail) for d in live(Stack(ROOT, "production"))]
    assert found == [
        ("sc-mvp-production-config", "sensitiveVars.SECRET_KEY_BASE: changed outside Pulumi (a secret: values hidden)"),
        ("sc-mvp-production-config", "vars.NODE_ENV: declared production, live development"),
    ]
