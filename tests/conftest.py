"""Fixtures shared by the test modules (helpers live in tests/support)."""

from __future__ import annotations

from collections.abc import Iterator
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
