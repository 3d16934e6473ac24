"""Dynamic providers configured the way the engine configures them, for tests against the emulators."""

from __future__ import annotations

import json
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

TOKEN = "test-token-0123456789abcdef"


def configured(provider: Any, endpoints: dict[str, str], token_key: str, token: str | None = TOKEN) -> Any:
    raw = {"launchplan:endpoints": json.dumps(endpoints)}
    if token:
        raw[token_key] = token
    provider.configure(ConfigureRequest(Config(raw, "launchplan")))
    return provider
