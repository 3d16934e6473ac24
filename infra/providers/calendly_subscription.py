"""Calendly webhook subscriptions (API v2), a dynamic provider: Calendly has no
update, so a change is delete + create, and it never returns a signing key, so a
subscription for the same URL that launchplan did not create is replaced, not adopted."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import dynamic

from infra.providers.base import PlatformProvider
from infra.providers.http import ApiClient, PlatformApiError
from infra.providers.platforms import bearer_headers


class CalendlySubscriptionProvider(PlatformProvider):
    service = "Calendly"
    endpoint = "calendlyApi"
    token_key = "launchplan:calendlyToken"
    keys = ("url", "events", "organization", "scope", "user", "group", "signing_key")

    def headers(self, token: str) -> dict[str, str]:
        return bearer_headers(token)

    @staticmethod
    def _outs(props: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: props.get(k) for k in CalendlySubscriptionProvider.keys},
            "url": live.get("callback_url", props["url"]),
            "events": sorted(live.get("events", props["events"])),
            "scope": live.get("scope", props["scope"]),
            "state": live.get("state", "active"),
            "uri": live.get("uri"),
        }

    def _find_by_url(self, api: ApiClient, props: dict[str, Any]) -> list[dict[str, Any]]:
        params = {"organization": props["organization"], "scope": props["scope"], "count": 100}
        if props.get("user"):
            params["user"] = props["user"]
        if props.get("group"):
            params["group"] = props["group"]
        found: list[dict[str, Any]] = []
        page: dict[str, Any] | None = api.request("GET", "/webhook_subscriptions", params=params)
        while page:
            found += [s for s in page.get("collection", []) if s.get("callback_url") == props["url"]]
            token = (page.get("pagination") or {}).get("next_page_token")
            page = api.request("GET", "/webhook_subscriptions", params={**params, "page_token": token}) if token else None
        return found

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        body = {
            "url": props["url"],
            "events": props["events"],
            "organization": props["organization"],
            "scope": props["scope"],
            "signing_key": props["signing_key"],
        }
        for key in ("user", "group"):
            if props.get(key):
                body[key] = props[key]
        with self.client() as api:
            # A subscription for this URL that we did not create (or lost track of) has a signing key
            # we cannot read back, so it cannot be adopted as-is: replace it with one whose key we own.
            for stale in self._find_by_url(api, props):
                api.request("DELETE", f"/webhook_subscriptions/{_uuid(stale['uri'])}", ok_missing=True)
            try:
                created = api.request("POST", "/webhook_subscriptions", json=body)["resource"]
            except PlatformApiError as exc:
                # A 409 here answers our own retried POST whose first answer was lost: the subscription
                # made with our signing key now exists. Adopt it (same URL and events), else re-raise.
                mine = [s for s in self._find_by_url(api, props) if sorted(s.get("events", [])) == sorted(props["events"])]
                if exc.status != 409 or len(mine) != 1:
                    raise
                created = mine[0]
        return dynamic.CreateResult(_uuid(created["uri"]), self._outs(props, created))

    def read(self, id: str, props: dict[str, Any]) -> dynamic.ReadResult:
        with self.client() as api:
            live = api.request("GET", f"/webhook_subscriptions/{id}", ok_missing=True)
        if live is None:
            return dynamic.ReadResult(None, {})
        return dynamic.ReadResult(id, self._outs(props, live["resource"]))

    def extra_changes(self, olds: dict[str, Any]) -> list[str]:
        # Calendly disables a hook after repeated failures; re-create it.
        return ["state"] if olds.get("state") == "disabled" else []

    def delete(self, id: str, props: dict[str, Any]) -> None:
        with self.client() as api:
            api.request("DELETE", f"/webhook_subscriptions/{id}", ok_missing=True)


def _uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


class CalendlySubscription(dynamic.Resource, module="calendly", name="WebhookSubscription"):
    uri: pulumi.Output[str]
    state: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            CalendlySubscriptionProvider(),
            name,
            {**props, "uri": None, "state": None},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["signing_key"])),
        )
