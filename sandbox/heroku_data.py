"""Heroku Data API emulator: Postgres backup transfer schedules.

Shapes follow the Heroku CLI's pg:backups commands: a schedule is
{uuid, name, hour, days, timezone, retain_weeks, retain_months}.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.core import ApiError, Emulator, Request

DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HerokuDataApi(Emulator):
    service = "heroku-data"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        base = "/client/v11/databases/{db}/transfer-schedules"
        self.route("GET", base, self.list_schedules)
        self.route("POST", base, self.create_schedule)
        self.route("DELETE", base + "/{id}", self.delete_schedule)

    def initial_state(self) -> dict[str, Any]:
        return {"schedules": {}}  # database id -> [schedule]

    def list_schedules(self, req: Request) -> tuple[int, Any]:
        return 200, self.state["schedules"].get(req.params["db"], [])

    def create_schedule(self, req: Request) -> tuple[int, Any]:
        body = req.body or {}
        try:
            hour = int(body["hour"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(422, "invalid_params", "hour is required (0-23)") from None
        if not 0 <= hour <= 23 or not body.get("timezone") or not body.get("schedule_name"):
            raise ApiError(422, "invalid_params", "hour (0-23), timezone and schedule_name are required")
        schedules = self.state["schedules"].setdefault(req.params["db"], [])
        # Like the real API, scheduling the same name again replaces the old schedule.
        schedules[:] = [s for s in schedules if s["name"] != body["schedule_name"]]
        schedule = {
            "uuid": str(uuid.uuid4()),
            "name": body["schedule_name"],
            "hour": hour,
            "days": body.get("days") or DAYS,
            "timezone": body["timezone"],
            "retain_weeks": body.get("retain_weeks", 4),
            "retain_months": body.get("retain_months", 0),
            "created_at": _now(),
            "updated_at": _now(),
        }
        schedules.append(schedule)
        return 201, schedule

    def delete_schedule(self, req: Request) -> tuple[int, Any]:
        schedules = self.state["schedules"].get(req.params["db"], [])
        for schedule in schedules:
            if schedule["uuid"] == req.params["id"]:
                schedules.remove(schedule)
                return 200, schedule
        raise ApiError(404, "not_found", "Couldn't find that transfer schedule.")
