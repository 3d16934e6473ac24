"""Shared helpers: build a stack config in memory and render it under Pulumi's mocks."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from infra.stack_config import StackConfig, secret_placeholder
from sandbox.postgres import EmbeddedPostgres
from scripts.render import Rendering, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("Pulumi.*.yaml"))
STACK_FILES = [ROOT / "Pulumi.staging.yaml", ROOT / "Pulumi.production.yaml", *EXAMPLES]
SANDBOX_FILE = ROOT / "Pulumi.sandbox.yaml"  # fake credentials, encrypted with the sandbox-only passphrase


def make_config(
    stack: str = "staging", secrets: tuple[str, ...] = (), plain: dict[str, str] | None = None, **sections: Any
) -> StackConfig:
    """A StackConfig as the engine would pass it: sections JSON-encoded, secrets as placeholders."""
    values = {f"launchplan:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in sections.items()}
    values.update({key: secret_placeholder(key) for key in secrets})
    values.update(plain or {})
    return StackConfig(stack, values, frozenset(secrets))


def render_sections(
    stack: str = "staging", secrets: tuple[str, ...] = ("heroku:apiKey", "vercel:apiToken"), **sections: Any
) -> Rendering:
    return render(make_config(stack, secrets, **sections), require_secrets=True)


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def cluster_folder() -> Iterator[Path]:
    """A folder for a cluster, outside pytest's tmp root: as root the server runs as nobody, and
    every new pytest session (e.g. a concurrent one) strips other users' access to that root."""
    folder = Path(tempfile.mkdtemp(prefix="launchplan-pg-"))
    try:
        yield folder / "cluster"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def pg() -> Iterator[EmbeddedPostgres]:
    """A real PostgreSQL server, one per test module."""
    with cluster_folder() as folder:
        server = EmbeddedPostgres(folder, free_port())
        server.start()
        yield server
        server.stop()
