"""Calendly API v2 emulator: webhook subscriptions.

Shapes follow Calendly's docs: create answers 201 {"resource": {...}}, list
answers {"collection": [...], "pagination": {...}}; the signing key is never
returned; a second subscription for the same URL is refused with 409.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.core import ApiError, Emulator, Request


class CalendlyApi(Emulator):
    service = "calendly"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base_uri = "https://api.calendly.com"
        self.route("POST", "/webhook_subscriptions", self.create)
        self.route("GET", "/webhook_subscriptions", self.list)
        self.route("GET", "/webhook_subscriptions/{id}", self.get)
        self.route("DELETE", "/webhook_subscriptions/{id}", self.delete)

    def initial_state(self) -> dict[str, Any]:
        return {"subscriptions": {}, "signing_keys": {}}

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("Bearer ")

    def error_body(self, status: int, error_id: str, message: str) -> Any:
        return {"title": error_id.replace("_", " ").title(), "message": message}

    def create(self, req: Request) -> tuple[int, Any]:
        body = req.body or {}
        missing = [k for k in ("url", "events", "organization", "scope") if not body.get(k)]
        if missing:
            raise ApiError(400, "invalid_argument", f"missing: {', '.join(missing)}")
        if body["scope"] == "user" and not body.get("user"):
            raise ApiError(400, "invalid_argument", "user is required for user scope")
        for sub in self.state["subscriptions"].values():
            if sub["callback_url"] == body["url"] and sub["organization"] == body["organization"]:
                raise ApiError(409, "already_exists", "Hook with this url already exists")
        sub_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        resource = {
            "uri": f"{self.base_uri}/webhook_subscriptions/{sub_id}",
            "callback_url": body["url"],
            "created_at": now,
            "updated_at": now,
            "retry_started_at": None,
            "state": "active",
            "events": list(body["events"]),
            "scope": body["scope"],
            "organization": body["organization"],
            "user": body.get("user"),
            "group": body.get("group"),
            "creator": f"{self.base_uri}/users/SANDBOX",
        }
        self.state["subscriptions"][sub_id] = resource
        self.state["signing_keys"][sub_id] = body.get("signing_key")
        return 201, {"resource": resource}

    def list(self, req: Request) -> tuple[int, Any]:
        org = req.query.get("organization")
        if not org:
            raise ApiError(400, "invalid_argument", "organization is required")
        found = [
            s
            for s in self.state["subscriptions"].values()
            if s["organization"] == org and s["scope"] == req.query.get("scope", s["scope"])
        ]
        return 200, {"collection": found, "pagination": {"count": len(found), "next_page": None, "next_page_token": None}}

    def get(self, req: Request) -> tuple[int, Any]:
        sub = self.state["subscriptions"].get(req.params["id"])
        if sub is None:
            raise ApiError(404, "not_found", "The server could not find the requested resource.")
        return 200, {"resource": sub}

    def delete(self, req: Request) -> tuple[int, Any]:
        if self.state["subscriptions"].pop(req.params["id"], None) is None:
            raise ApiError(404, "not_found", "The server could not find the requested resource.")
        self.state["signing_keys"].pop(req.params["id"], None)
        return 204, None
