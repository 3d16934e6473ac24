"""Where the platform APIs live and how launchplan's own code authenticates to them."""

from __future__ import annotations

import json
from typing import Any

from infra.spec.catalog import API_URLS


def heroku_headers(token: str) -> dict[str, str]:
    return {
        "Accept": "application/vnd.heroku+json; version=3",
        "Authorization": f"Bearer {token}",
        "User-Agent": "launchplan",
    }


def bearer_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "User-Agent": "launchplan"}


def endpoint_from(config: Any, field: str) -> str:
    """The base URL of one API from the stack's `launchplan:endpoints` (the sandbox overrides them)."""
    raw = config.get("launchplan:endpoints")
    endpoints = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return str(endpoints.get(field) or API_URLS[field]).rstrip("/")
