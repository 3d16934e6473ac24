"""The backup-schedule dynamic provider against the Heroku Data API emulator on 127.0.0.1
(real sockets, real httpx; nothing mocked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.providers.backup_schedule import BackupScheduleProvider
from infra.providers.http import PlatformApiError
from sandbox.core import Faults
from sandbox.heroku_data import HerokuDataApi
from tests.support.providers import TOKEN, configured

DB = "11111111-2222-3333-4444-555555555555"
PROPS = {
    "addon_id": DB,
    "app": "sc-mvp-production",
    "schedule_name": "DATABASE_URL",
    "hour": 2,
    "timezone": "America/Los_Angeles",
}


@pytest.fixture
def data_api() -> Iterator[tuple[HerokuDataApi, str]]:
    api = HerokuDataApi()
    url = api.start()
    yield api, url
    api.stop()


def schedules_provider(url: str) -> BackupScheduleProvider:
    return configured(BackupScheduleProvider(), {"herokuDataApi": url}, "heroku:apiKey")


def test_schedule_create_read_diff_delete(data_api: tuple[HerokuDataApi, str]) -> None:
    api, url = data_api
    provider = schedules_provider(url)
    created = provider.create(dict(PROPS))
    [live] = api.state["schedules"][DB]
    assert created.id == live["uuid"] and live["hour"] == 2 and live["timezone"] == "America/Los_Angeles"
    assert created.outs["hour"] == 2

    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs == created.outs

    same = provider.diff(created.id, created.outs, dict(PROPS))
    assert same.changes is False and same.replaces == []

    moved = provider.diff(created.id, created.outs, {**PROPS, "hour": 3})
    assert moved.changes and moved.replaces == ["hour"] and moved.delete_before_replace

    provider.delete(created.id, created.outs)
    assert api.state["schedules"][DB] == []
    provider.delete(created.id, created.outs)  # already gone: not an error
    assert [(e.method, e.status) for e in api.log][-2:] == [("DELETE", 200), ("DELETE", 404)]


def test_schedule_create_adopts_an_identical_existing_schedule(data_api: tuple[HerokuDataApi, str]) -> None:
    api, url = data_api
    provider = schedules_provider(url)
    first = provider.create(dict(PROPS))
    writes_before = len(api.writes())
    again = provider.create(dict(PROPS))  # e.g. an `up` interrupted after the API call
    assert again.id == first.id
    assert len(api.writes()) == writes_before, "adopting must not write"
    assert len(api.state["schedules"][DB]) == 1


def test_schedule_create_replaces_a_same_name_schedule_with_other_settings(data_api: tuple[HerokuDataApi, str]) -> None:
    api, url = data_api
    provider = schedules_provider(url)
    old = provider.create({**PROPS, "hour": 5, "timezone": "UTC"})
    new = provider.create(dict(PROPS))
    [live] = api.state["schedules"][DB]
    assert live["uuid"] == new.id != old.id
    assert (live["hour"], live["timezone"]) == (2, "America/Los_Angeles")


def test_schedule_read_reports_out_of_band_changes(data_api: tuple[HerokuDataApi, str]) -> None:
    api, url = data_api
    provider = schedules_provider(url)
    created = provider.create(dict(PROPS))
    api.state["schedules"][DB][0]["hour"] = 9  # someone ran pg:backups:schedule by hand
    drifted = provider.read(created.id, created.outs)
    assert drifted.outs["hour"] == 9
    api.state["schedules"][DB].clear()  # ...or unscheduled it
    assert provider.read(created.id, created.outs).id is None


def test_schedule_survives_rate_limits_and_server_errors() -> None:
    api = HerokuDataApi(faults=Faults(rate_limit_every=2, retry_after=0.05, error_rate=0.3, seed=3))
    url = api.start()
    try:
        provider = schedules_provider(url)
        created = provider.create(dict(PROPS))
        assert provider.read(created.id, created.outs).outs["hour"] == 2
        statuses = [e.status for e in api.log]
        assert 429 in statuses and 503 in statuses, statuses
        assert len(api.state["schedules"][DB]) == 1
    finally:
        api.stop()


def test_schedule_errors_name_the_request_but_never_the_token(data_api: tuple[HerokuDataApi, str]) -> None:
    _, url = data_api
    provider = schedules_provider(url)
    with pytest.raises(PlatformApiError) as info:
        provider.create({**PROPS, "hour": 31})
    message = str(info.value)
    assert "HTTP 422" in message and f"/client/v11/databases/{DB}/transfer-schedules" in message
    assert TOKEN not in message


def test_schedule_without_token_says_how_to_set_it(data_api: tuple[HerokuDataApi, str]) -> None:
    _, url = data_api
    provider = configured(BackupScheduleProvider(), {"herokuDataApi": url}, "heroku:apiKey", token=None)
    with pytest.raises(ValueError, match="pulumi config set --secret heroku:apiKey"):
        provider.create(dict(PROPS))


def test_schedule_against_an_unreachable_api_fails_clearly() -> None:
    provider = schedules_provider("http://127.0.0.1:9")  # discard port: nothing listens
    provider_client = provider.client()
    provider_client.max_attempts = 2
    provider_client.sleep = lambda _: None
    with pytest.raises(PlatformApiError, match="cannot reach"):
        provider_client.request("GET", "/client/v11/databases/x/transfer-schedules")


def test_schedule_diff_with_an_input_not_known_yet_replaces() -> None:
    # What the engine asks during a preview that replaces the add-on (an app's region or the add-on's
    # config changed): the schedule's addon_id is unknown, so the schedule goes with it.
    from pulumi.output import Unknown

    provider = BackupScheduleProvider()
    olds = {**PROPS, "addon_id": DB}
    diff = provider.diff("s1", olds, {**PROPS, "addon_id": Unknown()})
    assert diff.changes and diff.replaces == ["addon_id"] and diff.delete_before_replace
    assert provider.diff("s1", olds, dict(olds)).changes is False
