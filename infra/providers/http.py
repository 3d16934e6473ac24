"""One HTTP client for every platform API launchplan calls itself.

Retries 429 and 5xx with exponential backoff, honouring `Retry-After` (seconds
or an HTTP date), and turns error bodies into messages that name the request
but never the credential.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}


class PlatformApiError(Exception):
    """A platform API (Heroku, Vercel, Calendly) answered with an error, or could not be reached."""

    def __init__(self, service: str, method: str, url: str, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(f"{service} API {method} {url} failed with HTTP {status}: {detail}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))  # delta-seconds (fractions accepted, as some servers send them)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    return max(0.0, parsed.timestamp() - time.time())


def _detail(response: httpx.Response) -> str:
    """Heroku: {id, message}; Calendly: {title, message, details}; Vercel: {error: {code, message}}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):
            body = body["error"]
        parts = [str(body[k]) for k in ("id", "code", "title", "message") if body.get(k)]
        if parts:
            return ": ".join(parts)
    return str(body)[:200]


class ApiClient:
    def __init__(
        self,
        service: str,
        base_url: str,
        headers: dict[str, str],
        *,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ):
        self.service = service
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.sleep = sleep
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, ok_missing: bool = False, **kwargs: Any) -> Any:
        """Send with retries. Returns parsed JSON (None for empty bodies, or a 404 when ok_missing)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # Nothing listening is rarely transient: give up sooner than on timeouts and resets.
                refused = isinstance(exc, httpx.ConnectError) and attempt >= 3
                if attempt == self.max_attempts or refused:
                    raise PlatformApiError(
                        self.service, method, path, 0, f"cannot reach {self._client.base_url}: {exc}"
                    ) from None
                self.sleep(self._backoff(attempt, None))
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                self.sleep(self._backoff(attempt, _retry_after(response)))
                continue
            if response.status_code == 404 and ok_missing:
                return None
            if response.is_error:
                raise PlatformApiError(self.service, method, path, response.status_code, _detail(response))
            return response.json() if response.content else None
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        return min(self.max_backoff, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
