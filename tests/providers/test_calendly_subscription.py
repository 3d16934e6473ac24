"""The Calendly subscription dynamic provider against the Calendly emulator on 127.0.0.1
(real sockets, real httpx; nothing mocked)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.providers.calendly_subscription import CalendlySubscriptionProvider
from sandbox.calendly import CalendlyApi
from tests.support.providers import configured

ORG = "https://api.calendly.com/organizations/ORG1"
HOOK = {
    "url": "https://sched.example.com/hooks/calendly",
    "events": ["invitee.canceled", "invitee.created"],
    "organization": ORG,
    "scope": "organization",
    "user": None,
    "group": None,
    "signing_key": "k" * 48,
}


@pytest.fixture
def calendly() -> Iterator[tuple[CalendlyApi, CalendlySubscriptionProvider]]:
    api = CalendlyApi()
    url = api.start()
    yield api, configured(CalendlySubscriptionProvider(), {"calendlyApi": url}, "launchplan:calendlyToken")
    api.stop()


def test_calendly_create_read_diff_delete(calendly: tuple[CalendlyApi, CalendlySubscriptionProvider]) -> None:
    api, provider = calendly
    created = provider.create(dict(HOOK))
    [(sub_id, live)] = api.state["subscriptions"].items()
    assert created.id == sub_id and live["callback_url"] == HOOK["url"]
    assert api.state["signing_keys"][sub_id] == HOOK["signing_key"]  # the receiver's key, as sent
    assert created.outs["state"] == "active"

    read = provider.read(created.id, created.outs)
    assert read.outs["signing_key"] == HOOK["signing_key"]  # kept from state: the API never returns it
    assert "signing_key" not in json.dumps(api.state["subscriptions"])

    assert provider.diff(created.id, created.outs, dict(HOOK)).changes is False
    events = provider.diff(created.id, created.outs, {**HOOK, "events": ["invitee.created"]})
    assert events.replaces == ["events"] and events.delete_before_replace
    rotated = provider.diff(created.id, created.outs, {**HOOK, "signing_key": "z" * 48})
    assert rotated.replaces == ["signing_key"]

    provider.delete(created.id, created.outs)
    assert api.state["subscriptions"] == {}
    assert provider.read(created.id, created.outs).id is None


def test_calendly_replaces_a_subscription_whose_key_it_does_not_own(
    calendly: tuple[CalendlyApi, CalendlySubscriptionProvider],
) -> None:
    api, provider = calendly
    stale = provider.create({**HOOK, "signing_key": "old" * 16})  # e.g. registered by hand, or a lost state
    fresh = provider.create(dict(HOOK))
    assert list(api.state["subscriptions"]) == [fresh.id] and fresh.id != stale.id
    assert api.state["signing_keys"][fresh.id] == HOOK["signing_key"]


def test_calendly_disabled_subscription_is_recreated(calendly: tuple[CalendlyApi, CalendlySubscriptionProvider]) -> None:
    api, provider = calendly
    created = provider.create(dict(HOOK))
    api.state["subscriptions"][created.id]["state"] = "disabled"
    refreshed = provider.read(created.id, created.outs)
    assert provider.diff(created.id, refreshed.outs, dict(HOOK)).replaces == ["state"]
