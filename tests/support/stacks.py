"""Stack configs for tests: the project's stack files, and configs built in memory and rendered
under Pulumi's mocks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.spec.stack_config import StackConfig, secret_placeholder
from scripts.render import Rendering, render

ROOT = Path(__file__).resolve().parents[2]
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


def children(rendering: Rendering, parent: str) -> set[tuple[str, str]]:
    """(type, name) of every resource directly under a component."""
    return {(r.type, r.name) for r in rendering.resources if r.parent == parent}


def vercel_vars(r: Rendering, project: str) -> dict[tuple[str, tuple[str, ...]], Any]:
    """A project's env var resources by (key, targets)."""
    found = [v for v in r.by_type("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable") if v.parent == project]
    return {(v.inputs["key"], tuple(v.inputs["targets"])): v for v in found}
