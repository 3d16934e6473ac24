"""Fixtures shared by the test modules (helpers live in tests/support)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.postgres import EmbeddedPostgres
from tests.support.postgres import cluster_folder, free_port


@pytest.fixture
def heroku_app() -> dict[str, Any]:
    """A full Heroku app spec, used by the component tests."""
    return {
        "region": "eu",
        "stack": "heroku-24",
        "formation": {"web": {"size": "standard-1x", "quantity": 2}, "worker": {"size": "basic", "quantity": 1}},
        "domains": ["www.example.com", "api.example.com"],
        "env": {"RAILS_ENV": "production", "WEB_CONCURRENCY": "2"},
        "secretEnv": {"SMTP_PASSWORD": "smtpPassword"},
        "generatedEnv": {"SECRET_KEY_BASE": {"length": 128}},
        "postgres": {
            "plan": "standard-0",
            "backups": {"hour": 2, "timezone": "America/Los_Angeles"},
            "extensions": ["pg_stat_statements", "citext"],
            "schemas": ["reporting"],
            "roles": {"reporting_ro": {"grants": [{"schema": "reporting", "privileges": ["SELECT"]}]}},
        },
        "healthCheck": {"path": "/healthz"},
    }


@pytest.fixture(scope="module")
def pg() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL server, one per test module."""
    with cluster_folder() as folder:
        server = EmbeddedPostgres(folder, free_port())
        server.start()
        yield server
        server.stop()


# --- no process outlives the test run ---------------------------------------------------------------

SESSION_MARKER = "LAUNCHPLAN_TEST_SESSION"


def _session_processes(marker: str) -> dict[int, str]:
    """pid -> command line of every live process (zombies aside) started under this test session."""
    found = {}
    needle = f"{SESSION_MARKER}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if stat[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every process the tests start inherits a marker of this session (subprocesses copy os.environ,
    and the engine hands it on to its plugins); at the end none may still run. Leftovers are named,
    then stopped so they do not outlive a failing run either."""
    marker = uuid.uuid4().hex
    os.environ[SESSION_MARKER] = marker
    yield
    deadline = time.monotonic() + 10  # processes told to stop at the very end get a moment to go
    left = _session_processes(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _session_processes(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, "processes started by the tests are still running:\n" + "\n".join(
        f"  {pid}: {cmd[:200]}" for pid, cmd in sorted(left.items())
    )
