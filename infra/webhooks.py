"""Webhook registrations and their signing secrets.

The stack generates each signing secret (pulumi-random) and hands the same
Output to the sender (a Calendly subscription) and to the receiving app's env,
so the two can never disagree. Calendly subscriptions are a dynamic provider
over API v2 (no update: change = delete + create). Arrivy has no registration
API, so an Arrivy webhook is exported as a manual step with its exact settings.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi import dynamic

from infra import spec_webhooks as spec_types
from infra.backups import endpoint_from
from infra.http import ApiClient
from infra.secrets import generated_secret

DEFAULT_CALENDLY_API = "https://api.calendly.com"
SUBSCRIPTION_KEYS = ("url", "events", "organization", "scope", "user", "group", "signing_key")


class CalendlySubscriptionProvider(dynamic.ResourceProvider):
    base_url: str = DEFAULT_CALENDLY_API
    token: str | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self.base_url = endpoint_from(req.config, "calendlyApi", DEFAULT_CALENDLY_API)
        self.token = req.config.get("launchplan:calendlyToken")

    def _client(self) -> ApiClient:
        if not self.token:
            raise ValueError("launchplan:calendlyToken is not set: run `pulumi config set --secret launchplan:calendlyToken`")
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "User-Agent": "launchplan"}
        return ApiClient("Calendly", self.base_url, headers)

    @staticmethod
    def _outs(props: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: props.get(k) for k in SUBSCRIPTION_KEYS},
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
        with self._client() as api:
            # A subscription for this URL that we did not create (or lost track of) has a signing key
            # we cannot read back, so it cannot be adopted as-is: replace it with one whose key we own.
            for stale in self._find_by_url(api, props):
                api.request("DELETE", f"/webhook_subscriptions/{_uuid(stale['uri'])}", ok_missing=True)
            created = api.request("POST", "/webhook_subscriptions", json=body)["resource"]
        return dynamic.CreateResult(_uuid(created["uri"]), self._outs(props, created))

    def read(self, id: str, props: dict[str, Any]) -> dynamic.ReadResult:
        with self._client() as api:
            live = api.request("GET", f"/webhook_subscriptions/{id}", ok_missing=True)
        if live is None:
            return dynamic.ReadResult(None, {})
        return dynamic.ReadResult(id, self._outs(props, live["resource"]))

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [k for k in SUBSCRIPTION_KEYS if _norm(olds.get(k)) != _norm(news.get(k))]
        if olds.get("state") == "disabled":
            changed.append("state")  # Calendly disables a hook after repeated failures; re-create it
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=changed,
            stables=[k for k in SUBSCRIPTION_KEYS if k not in changed],
            delete_before_replace=True,  # Calendly refuses two subscriptions for one URL
        )

    def delete(self, id: str, props: dict[str, Any]) -> None:
        with self._client() as api:
            api.request("DELETE", f"/webhook_subscriptions/{id}", ok_missing=True)


def _uuid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _norm(value: Any) -> str:
    return json.dumps(sorted(value) if isinstance(value, list) else value)


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


class Webhook(pulumi.ComponentResource):
    """One webhook: its signing secret, and its registration (Calendly) or manual step (Arrivy)."""

    signing_secret: pulumi.Output[str]
    manual_step: dict[str, Any] | None

    def __init__(
        self, name: str, hook: spec_types.CalendlyWebhook | spec_types.ArrivyWebhook, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("launchplan:webhooks:Webhook", name, None, opts)
        self.signing_secret = generated_secret(f"{name}-signing-secret", 48, self)
        self.manual_step = None
        outputs: dict[str, Any] = {"url": hook.url, "events": hook.events, "provider": hook.provider}
        if isinstance(hook, spec_types.CalendlyWebhook):
            sub = CalendlySubscription(
                name,
                {
                    "url": hook.url,
                    "events": hook.events,
                    "organization": hook.organization,
                    "scope": hook.scope,
                    "user": hook.user,
                    "group": hook.group,
                    "signing_key": self.signing_secret,
                },
                pulumi.ResourceOptions(parent=self),
            )
            outputs["subscription"] = sub.uri
        else:
            receiver = hook.receiver.heroku_app or hook.receiver.vercel_project
            self.manual_step = {
                "webhook": name,
                "provider": "arrivy",
                "where": "Arrivy dashboard -> Settings -> Integrations -> Webhooks -> Add webhook",
                "url": hook.url,
                "events": hook.events,
                "secret": f"the stack output webhookSecrets.{name} "
                f"(`pulumi stack output webhookSecrets --show-secrets`), also set as {hook.receiver.env} on {receiver}",
                "verify": "send a test event from Arrivy; the receiver must answer 200",
            }
            outputs["manualStep"] = self.manual_step
        self.register_outputs(outputs)
