"""What launchplan's dynamic providers share: an API client configured from the stack's
config (the token is read at configure time, so it never enters a resource's inputs or
state), and a diff for APIs that have no update, where any change is delete + create."""

from __future__ import annotations

import json
from typing import Any

from pulumi import dynamic
from pulumi.output import Unknown

from infra.providers.http import ApiClient
from infra.providers.platforms import endpoint_from


class PlatformProvider(dynamic.ResourceProvider):
    """Stateless on purpose: everything it needs comes from configure() and the inputs."""

    service: str  # as named in errors, e.g. "Heroku Data"
    endpoint: str  # the field of launchplan:endpoints, e.g. "herokuDataApi"
    token_key: str  # the secret config key holding the API token
    keys: tuple[str, ...]  # the inputs a change of which replaces the resource
    base_url: str = ""
    token: str | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self.base_url = endpoint_from(req.config, self.endpoint)
        self.token = req.config.get(self.token_key)

    def headers(self, token: str) -> dict[str, str]:
        raise NotImplementedError

    def client(self) -> ApiClient:
        if not self.token:
            raise ValueError(f"{self.token_key} is not set: run `pulumi config set --secret {self.token_key}`")
        return ApiClient(self.service, self.base_url, self.headers(self.token))

    def extra_changes(self, olds: dict[str, Any]) -> list[str]:
        """Live facts that force a re-create even when no input changed."""
        return []

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [k for k in self.keys if comparable(olds.get(k)) != comparable(news.get(k))]
        changed += self.extra_changes(olds)
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=changed,
            stables=[k for k in self.keys if k not in changed],
            # The platform refuses two of the same name: the old one must go before the new one is made.
            delete_before_replace=True,
        )


# What an input not known yet compares as: equal to nothing JSON can encode, so it counts as changed.
NOT_KNOWN = "\0unknown"


def comparable(value: Any) -> str:
    """Numbers cross the engine as floats (2.0 is the hour 2); list order carries no meaning here.
    An input holding an unknown (a preview, or the engine asking whether replacing what this
    resource depends on replaces it too) may become anything: it compares as changed."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)

    def refuse(item: Any) -> Any:
        raise _NotKnownError if isinstance(item, Unknown) else TypeError(f"{type(item).__name__} is not JSON serializable")

    try:
        if isinstance(value, list):
            value = sorted(value, key=lambda item: json.dumps(item, default=refuse))
        return json.dumps(value, sort_keys=True, default=refuse)
    except _NotKnownError:
        return NOT_KNOWN


class _NotKnownError(Exception):
    pass
