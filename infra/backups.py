"""Heroku Postgres daily backup schedules.

Neither Terraform's nor Pulumi's Heroku provider has a resource for them, so
this is a dynamic provider over the Heroku Data API `transfer-schedules`
endpoints. The API has no update: any change is delete + create. The token is
read from the stack's `heroku:apiKey` secret when the provider is configured,
so it never enters this resource's inputs or state.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi import dynamic

from infra.http import ApiClient

DEFAULT_DATA_API = "https://api.data.heroku.com"
SCHEDULE_KEYS = ("addon_id", "schedule_name", "hour", "timezone")


def heroku_headers(token: str) -> dict[str, str]:
    return {
        "Accept": "application/vnd.heroku+json; version=3",
        "Authorization": f"Bearer {token}",
        "User-Agent": "launchplan",
    }


def endpoint_from(config: dynamic.Config, field: str, default: str) -> str:
    raw = config.get("launchplan:endpoints")
    endpoints = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return str(endpoints.get(field) or default).rstrip("/")


class BackupScheduleProvider(dynamic.ResourceProvider):
    """Stateless on purpose: everything it needs comes from configure() and the inputs."""

    base_url: str = DEFAULT_DATA_API
    token: str | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        self.base_url = endpoint_from(req.config, "herokuDataApi", DEFAULT_DATA_API)
        self.token = req.config.get("heroku:apiKey")

    def _client(self) -> ApiClient:
        if not self.token:
            raise ValueError("heroku:apiKey is not set: run `pulumi config set --secret heroku:apiKey`")
        return ApiClient("Heroku Data", self.base_url, heroku_headers(self.token))

    @staticmethod
    def _path(addon_id: str) -> str:
        return f"/client/v11/databases/{addon_id}/transfer-schedules"

    @staticmethod
    def _outs(props: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        return {
            "addon_id": props["addon_id"],
            "app": props.get("app"),
            "schedule_name": live.get("name", props["schedule_name"]),
            "hour": int(live.get("hour", props["hour"])),
            "timezone": live.get("timezone", props["timezone"]),
        }

    def _list(self, api: ApiClient, addon_id: str) -> list[dict[str, Any]]:
        return api.request("GET", self._path(addon_id)) or []

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        with self._client() as api:
            same_name = [s for s in self._list(api, props["addon_id"]) if s.get("name") == props["schedule_name"]]
            for existing in same_name:
                if int(existing.get("hour", -1)) == int(props["hour"]) and existing.get("timezone") == props["timezone"]:
                    # Adopt what is already there (a re-run after an interrupted up, or a hand-made schedule).
                    return dynamic.CreateResult(_schedule_id(existing), self._outs(props, existing))
                api.request("DELETE", f"{self._path(props['addon_id'])}/{_schedule_id(existing)}", ok_missing=True)
            body = {"hour": str(int(props["hour"])), "timezone": props["timezone"], "schedule_name": props["schedule_name"]}
            created = api.request("POST", self._path(props["addon_id"]), json=body)
        return dynamic.CreateResult(_schedule_id(created), self._outs(props, created))

    def read(self, id: str, props: dict[str, Any]) -> dynamic.ReadResult:
        with self._client() as api:
            live = next((s for s in self._list(api, props["addon_id"]) if _schedule_id(s) == id), None)
        if live is None:
            return dynamic.ReadResult(None, {})  # gone: refresh drops it, the next up re-creates it
        return dynamic.ReadResult(id, self._outs(props, live))

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # Numbers cross the engine as floats: compare 2.0 and 2 as the same hour.
        changed = [k for k in SCHEDULE_KEYS if _plain(olds.get(k)) != _plain(news.get(k))]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=changed,
            stables=[k for k in SCHEDULE_KEYS if k not in changed],
            # Same schedule name: the old one must go before the new one is made.
            delete_before_replace=True,
        )

    def delete(self, id: str, props: dict[str, Any]) -> None:
        with self._client() as api:
            api.request("DELETE", f"{self._path(props['addon_id'])}/{id}", ok_missing=True)


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _schedule_id(schedule: dict[str, Any]) -> str:
    return str(schedule.get("uuid") or schedule["id"])


class BackupSchedule(dynamic.Resource, module="heroku", name="BackupSchedule"):
    addon_id: pulumi.Output[str]
    schedule_name: pulumi.Output[str]
    hour: pulumi.Output[int]
    timezone: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        addon_id: pulumi.Input[str],
        app: pulumi.Input[str],
        hour: int,
        timezone: str,
        schedule_name: str = "DATABASE_URL",
        opts: pulumi.ResourceOptions | None = None,
    ):
        props = {"addon_id": addon_id, "app": app, "schedule_name": schedule_name, "hour": hour, "timezone": timezone}
        super().__init__(BackupScheduleProvider(), name, props, opts)
