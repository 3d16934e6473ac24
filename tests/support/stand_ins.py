"""The sandbox's stand-in apps host with the Heroku and Vercel emulators it serves, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.apps import AppsHost
from sandbox.heroku import HerokuApi
from sandbox.postgres import EmbeddedPostgres
from sandbox.vercel import VercelApi

HEROKU_HEADERS = {"Accept": "application/vnd.heroku+json; version=3", "Authorization": "Bearer heroku-token"}
VERCEL_HEADERS = {"Authorization": "Bearer vercel-token"}


@dataclass
class Clients:
    apps_url: str
    heroku: httpx.Client
    vercel: httpx.Client
    apps: httpx.Client


@contextmanager
def running_apps_host(folder: Path, postgres: EmbeddedPostgres | None = None) -> Iterator[Clients]:
    """Heroku and Vercel emulators plus the apps host, each with a client; all stopped afterwards."""
    heroku = HerokuApi(folder / "heroku.json", postgres=postgres, provision_seconds=0.05, release_seconds=0, default_domain=True)
    vercel = VercelApi(folder / "vercel.json")
    apps = AppsHost(folder / "apps.json", {"heroku": heroku, "vercel": vercel})
    urls = [heroku.start(), vercel.start(), apps.start()]
    clients = [
        httpx.Client(base_url=urls[0], headers=HEROKU_HEADERS, timeout=30),
        httpx.Client(base_url=urls[1], headers=VERCEL_HEADERS, timeout=30),
        httpx.Client(base_url=urls[2], timeout=30),
    ]
    try:
        yield Clients(urls[2], *clients)
    finally:
        for client in clients:
            client.close()
        for emulator in (apps, vercel, heroku):
            emulator.stop()
