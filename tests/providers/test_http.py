"""The shared API client: retries 429/5xx, honours Retry-After, gives up with a clear error."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import pytest

from infra.providers.http import ApiClient, PlatformApiError
from sandbox.core import Faults
from sandbox.heroku_data import HerokuDataApi

PATH = "/client/v11/databases/db1/transfer-schedules"


@pytest.fixture
def api() -> Iterator[tuple[HerokuDataApi, str]]:
    emulator = HerokuDataApi(faults=Faults(rate_limit_every=1, retry_after=7))
    url = emulator.start()
    yield emulator, url
    emulator.stop()


def client(url: str, sleeps: list[float], attempts: int = 3) -> ApiClient:
    return ApiClient("Heroku Data", url, {"Authorization": "Bearer secret-token"}, max_attempts=attempts, sleep=sleeps.append)


def test_rate_limit_waits_exactly_retry_after_then_gives_up(api: tuple[HerokuDataApi, str]) -> None:
    emulator, url = api
    sleeps: list[float] = []
    with pytest.raises(PlatformApiError) as info, client(url, sleeps) as c:
        c.request("GET", PATH)
    assert sleeps == [7.0, 7.0]  # Retry-After honoured between each of the 3 attempts
    assert [e.status for e in emulator.log] == [429, 429, 429]
    assert info.value.status == 429 and "rate_limit" in str(info.value)
    assert "secret-token" not in str(info.value)


def test_retry_after_as_http_date_and_recovery(api: tuple[HerokuDataApi, str]) -> None:
    emulator, url = api
    emulator.faults = Faults(rate_limit_every=2)
    sleeps: list[float] = []
    with client(url, sleeps) as c:
        assert c.request("GET", PATH) == []  # request 1: fine
        assert c.request("GET", PATH) == []  # request 2: 429, then request 3: fine
    assert len(sleeps) == 1 and [e.status for e in emulator.log] == [200, 429, 200]

    import httpx

    from infra.providers.http import _retry_after

    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    waited = _retry_after(httpx.Response(429, headers={"Retry-After": later}))
    assert waited is not None and 25 < waited <= 30
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_server_errors_back_off_and_client_errors_do_not_retry(api: tuple[HerokuDataApi, str]) -> None:
    emulator, url = api
    emulator.faults = Faults(error_rate=1.0)
    sleeps: list[float] = []
    with pytest.raises(PlatformApiError, match="HTTP 503"), client(url, sleeps, attempts=4) as c:
        c.request("GET", PATH)
    assert len(sleeps) == 3 and all(0 < s <= 30 for s in sleeps)
    assert sleeps[2] > sleeps[0]  # exponential

    emulator.faults = Faults()
    emulator.log.clear()
    with pytest.raises(PlatformApiError, match="HTTP 422"), client(url, sleeps) as c:
        c.request("POST", PATH, json={"hour": "40"})
    assert len(emulator.log) == 1  # 4xx is final: retrying cannot help
