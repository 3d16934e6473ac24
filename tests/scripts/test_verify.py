"""verify's checks on their own: health URLs against a local server, backup freshness rules."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.stacks import Stack
from scripts.verify import health, latest_backup
from tests.support.stacks import ROOT


class App(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_health_passes_on_the_expected_status_and_fails_otherwise(app_url: str) -> None:
    outputs = {
        "healthChecks": [
            {"name": "sc-mvp-production", "url": f"{app_url}/healthz", "expectStatus": 200},
            {"name": "broken", "url": f"{app_url}/down", "expectStatus": 200},
            {"name": "gone", "url": "http://127.0.0.1:9/healthz", "expectStatus": 200},
        ]
    }
    checks = {c.name: c for c in health(Stack(ROOT, "production"), outputs)}
    assert checks["health sc-mvp-production"].status == "pass" and "-> 200" in checks["health sc-mvp-production"].evidence
    assert checks["health broken"].status == "fail" and "-> 503" in checks["health broken"].evidence
    assert checks["health gone"].status == "fail" and "ConnectError" in checks["health gone"].evidence


def ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("schedule_age", "backups", "status"),
    [
        (2, [], "pending"),  # scheduled today: the first backup has not run yet
        (48, [], "fail"),
        (48, [{"to_type": "gof3r", "succeeded": True, "finished_at": ago(3), "num": 7}], "pass"),
        (48, [{"to_type": "gof3r", "succeeded": True, "finished_at": ago(30), "num": 7}], "fail"),
        (48, [{"to_type": "gof3r", "succeeded": False, "finished_at": ago(1), "num": 8}], "fail"),
        (48, [{"to_type": "pg_restore", "succeeded": True, "finished_at": ago(1), "num": 9}], "fail"),  # a restore is no backup
    ],
)
def test_latest_backup_must_be_recent_once_one_is_expected(
    schedule_age: float, backups: list[dict[str, object]], status: str
) -> None:
    assert latest_backup("app", {"created_at": ago(schedule_age)}, backups).status == status
