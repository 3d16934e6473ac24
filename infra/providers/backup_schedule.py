"""Heroku Postgres daily backup schedules.

Neither Terraform's nor Pulumi's Heroku provider has a resource for them, so
this is a dynamic provider over the Heroku Data API `transfer-schedules`
endpoints. The API has no update: any change is delete + create. The token is
read from the stack's `heroku:apiKey` secret when the provider is configured,
so it never enters this resource's inputs or state.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import dynamic

from infra.providers.base import PlatformProvider
from infra.providers.http import ApiClient
from infra.providers.platforms import heroku_headers


class BackupScheduleProvider(PlatformProvider):
    service = "Heroku Data"
    endpoint = "herokuDataApi"
    token_key = "heroku:apiKey"
    keys = ("addon_id", "schedule_name", "hour", "timezone")

    def headers(self, token: str) -> dict[str, str]:
        return heroku_headers(token)

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
        with self.client() as api:
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
        with self.client() as api:
            live = next((s for s in self._list(api, props["addon_id"]) if _schedule_id(s) == id), None)
        if live is None:
            return dynamic.ReadResult(None, {})  # gone: refresh drops it, the next up re-creates it
        return dynamic.ReadResult(id, self._outs(props, live))

    def delete(self, id: str, props: dict[str, Any]) -> None:
        with self.client() as api:
            api.request("DELETE", f"{self._path(props['addon_id'])}/{id}", ok_missing=True)


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
