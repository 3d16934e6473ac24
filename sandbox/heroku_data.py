"""Heroku Data API emulator: Postgres backup schedules, backups, restores and their public URLs.

Shapes follow the Heroku CLI's pg:backups commands: a schedule is {uuid, name, hour, days,
timezone, retain_weeks, retain_months}; a transfer (a backup, or a restore) is the CLI's
BackupTransfer {uuid, num, from_name, from_type, from_url, to_name, to_type, to_url, options,
source_bytes, processed_bytes, succeeded, warnings, created_at, started_at, canceled_at,
updated_at, finished_at, deleted_at, purged_at, num_keep, schedule, logs}. A backup is
pg_dump → gof3r (the CLI names it b<num>), a restore gof3r/htcat → pg_restore (r<num>); logs
only with ?verbose=true.

Backups and restores are real when the emulator is linked to the HerokuApi emulator (to find
an add-on's database) and both share an EmbeddedPostgres: a capture runs pg_dump into this
emulator's folder, a restore runs pg_restore. Both finish before the POST is answered. A
public URL is served without auth (like Heroku's signed S3 URL) for an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.core import ApiError, Emulator, Logged, Request
from sandbox.heroku import HerokuApi
from sandbox.postgres import PostgresError

DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
DOWNLOAD = re.compile(r"^/backups/(?P<uuid>[0-9a-f-]{36})\.dump$")
PUBLIC_URL_SECONDS = 3600


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _no_password(url: str) -> str:
    """A database URL as a transfer shows it: the credential never leaves the emulator."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.hostname}:{parts.port}").geturl()


class HerokuDataApi(Emulator):
    service = "heroku-data"

    def __init__(self, *args: Any, heroku: HerokuApi | None = None, backup_dir: Path | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.heroku = heroku  # where add-ons and their databases are found; None: backups answer 404
        if heroku is not None:
            heroku.data_api = self  # the Platform emulator's port serves this API too (the Heroku CLI's way)
        folder = self.state_file.parent / "heroku-data-backups" if self.state_file else None
        self._backup_dir = backup_dir or folder  # None: a temporary folder, made on the first backup
        self.base_url = "http://127.0.0.1"
        base = "/client/v11/databases/{db}/transfer-schedules"
        self.route("GET", base, self.list_schedules)
        self.route("POST", base, self.create_schedule)
        self.route("DELETE", base + "/{id}", self.delete_schedule)
        self.route("GET", "/client/v11/databases/{db}", self.database_info)
        self.route("POST", "/client/v11/databases/{db}/backups", self.capture)
        self.route("POST", "/client/v11/databases/{db}/restores", self.restore)
        self.route("GET", "/client/v11/apps/{app}/transfers", self.list_transfers)
        self.route("GET", "/client/v11/apps/{app}/transfers/{num}", lambda req: (200, self._shown(self._transfer(req), req)))
        self.route("POST", "/client/v11/apps/{app}/transfers/{num}/actions/public-url", self.public_url)

    def initial_state(self) -> dict[str, Any]:
        return {
            "schedules": {},  # database id -> [schedule]
            "transfers": {},  # app id -> [transfer] (with logs; `file` names a backup's dump)
            "signing_key": secrets.token_hex(32),  # signs public URLs
        }

    @property
    def backup_dir(self) -> Path:
        if self._backup_dir is None:
            self._backup_dir = Path(tempfile.mkdtemp(prefix="heroku-data-"))
        self._backup_dir.mkdir(parents=True, exist_ok=True)
        return self._backup_dir

    # --- transfer schedules ------------------------------------------------------------------
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

    # --- databases, backups and restores -----------------------------------------------------
    def _database(self, req: Request) -> dict[str, Any]:
        """The provisioned Postgres add-on named by {db}, with its database (see HerokuApi.database_of)."""
        found = self.heroku.database_of(req.params["db"]) if self.heroku else None
        if found is None or found["addon"]["state"] != "provisioned":
            raise ApiError(404, "not_found", "Couldn't find that database, or it is not yet provisioned.")
        if self.heroku is None or self.heroku.postgres is None:
            raise ApiError(422, "unsupported", "This sandbox has no Postgres server: backups need one.")
        return found

    def database_info(self, req: Request) -> tuple[int, Any]:
        db = self._database(req)
        assert self.heroku and self.heroku.postgres
        try:
            tables = len(self.heroku.postgres.row_counts(db["database"]))
        except PostgresError as failure:
            raise ApiError(503, "unavailable", f"The sandbox's Postgres failed: {failure}") from None
        info = {"Plan": db["addon"]["plan"]["name"].partition(":")[2].title(), "Status": "Available"}
        info.update({"Tables": str(tables), "Continuous Protection": "Off", "Data Encryption": "In Use"})
        return 200, {
            "addon_id": db["addon"]["id"],
            "resource_url": _no_password(db["url"]),  # pg:info matches it to the app's config vars
            "name": db["addon"]["name"],
            "plan": db["addon"]["plan"]["name"],
            "info": [{"name": k, "values": [v]} for k, v in info.items()],
        }

    def _new_transfer(self, app: dict[str, Any], **fields: Any) -> dict[str, Any]:
        transfers = self.state["transfers"].setdefault(app["id"], [])
        now = _now()
        transfer = {"uuid": str(uuid.uuid4()), "num": len(transfers) + 1, "options": {}, "num_keep": 25, "schedule": None}
        transfer.update(source_bytes=0, processed_bytes=0, succeeded=False, warnings=0, created_at=now, started_at=now)
        transfer.update(canceled_at=None, updated_at=now, finished_at=None, deleted_at=None, purged_at=None, logs=[])
        transfer.update(fields)
        transfers.append(transfer)
        return transfer

    def _finish(self, transfer: dict[str, Any], message: str, succeeded: bool = True) -> None:
        now = _now()
        transfer.update(succeeded=succeeded, finished_at=now, updated_at=now)
        transfer["logs"].append({"created_at": now, "level": "info" if succeeded else "error", "message": message})

    def capture(self, req: Request) -> tuple[int, Any]:
        db = self._database(req)
        assert self.heroku and self.heroku.postgres
        attachment = db["vars"][0].removesuffix("_URL")
        transfer = self._new_transfer(
            db["app"], from_name=attachment, from_type="pg_dump", from_url=_no_password(db["url"]), to_name="BACKUP"
        )
        transfer.update(to_type="gof3r", to_url=f"{self.base_url}/backups/{transfer['uuid']}.dump")
        path, postgres = self.backup_dir / f"{transfer['uuid']}.dump", self.heroku.postgres
        try:  # a failed dump is a failed transfer, as the CLI shows it, not a failed request
            transfer["source_bytes"] = int(postgres.run_sql(f"SELECT pg_database_size('{db['database']}')")[0][0])
            transfer["processed_bytes"] = postgres.dump(db["database"], path)
            transfer["file"] = path.name
            self._finish(transfer, f"pg_dump of {attachment} finished: {transfer['processed_bytes']} bytes")
        except PostgresError as failure:
            self._finish(transfer, str(failure), succeeded=False)
        return 201, self._shown(transfer, req)

    def restore(self, req: Request) -> tuple[int, Any]:
        db = self._database(req)
        assert self.heroku and self.heroku.postgres
        backup_url = str((req.body or {}).get("backup_url") or "")
        own = self._own_backup(backup_url)
        target = db["vars"][0].removesuffix("_URL")
        transfer = self._new_transfer(
            db["app"], from_name="BACKUP" if own else "URL", from_type="gof3r" if own else "htcat", from_url=backup_url
        )
        transfer.update(to_name=target, to_type="pg_restore", to_url=_no_password(db["url"]))
        try:
            path = own or self._download(backup_url, transfer["uuid"])
            transfer["processed_bytes"] = path.stat().st_size
            transfer["warnings"] = self.heroku.postgres.restore(path, db["database"])
            self._finish(transfer, f"pg_restore into {target} finished with {transfer['warnings']} warnings")
        except (OSError, ValueError, PostgresError) as failure:
            self._finish(transfer, f"restore failed: {failure}", succeeded=False)
        return 201, self._shown(transfer, req)

    def _own_backup(self, url: str) -> Path | None:
        """The dump behind one of this emulator's backup URLs (to_url or a valid public URL)."""
        parts = urlsplit(url)
        match = DOWNLOAD.match(parts.path)
        if not match or parts.hostname not in ("127.0.0.1", "localhost"):
            return None
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if query and not self._signed(match["uuid"], query):
            raise ApiError(422, "invalid_params", "That backup URL has expired or is not valid.")
        for transfers in self.state["transfers"].values():
            for transfer in transfers:
                if transfer["uuid"] == match["uuid"] and transfer.get("file"):
                    return self.backup_dir / transfer["file"]
        raise ApiError(404, "not_found", "Couldn't find that backup.")

    def _download(self, url: str, name: str) -> Path:
        if not url.startswith(("http://", "https://")):
            raise ApiError(422, "invalid_params", "backup_url must be an http(s) URL.")
        path = self.backup_dir / f"{name}.download"
        with urllib.request.urlopen(url, timeout=60) as answer:  # an operator-given URL, as on Heroku
            path.write_bytes(answer.read())
        return path

    # --- transfers and public URLs -------------------------------------------------------------
    def _app_transfers(self, req: Request) -> list[dict[str, Any]]:
        app = self.heroku.find("apps", req.params["app"]) if self.heroku else None
        if app is None:
            raise ApiError(404, "not_found", "Couldn't find that app.")
        return list(self.state["transfers"].get(app["id"], []))

    def _transfer(self, req: Request) -> dict[str, Any]:
        ref = req.params["num"]  # the CLI asks by number (b001 -> 1) or, while waiting, by uuid
        found = next((t for t in self._app_transfers(req) if ref in (str(t["num"]), t["uuid"])), None)
        if found is None:
            raise ApiError(404, "not_found", "Couldn't find that transfer.")
        return found

    @staticmethod
    def _shown(transfer: dict[str, Any], req: Request) -> dict[str, Any]:
        hidden = {"file"} if req.query.get("verbose") == "true" else {"file", "logs"}
        return {k: v for k, v in transfer.items() if k not in hidden}

    def list_transfers(self, req: Request) -> tuple[int, Any]:
        return 200, [self._shown(t, req) for t in self._app_transfers(req)]

    def _signature(self, backup: str, expires: str) -> str:
        return hmac.new(self.state["signing_key"].encode(), f"{backup}:{expires}".encode(), hashlib.sha256).hexdigest()

    def _signed(self, backup: str, query: dict[str, str]) -> bool:
        expires, signature = query.get("expires", ""), query.get("signature", "")
        fresh = expires.isdigit() and int(expires) > time.time()
        return fresh and hmac.compare_digest(self._signature(backup, expires), signature)

    def public_url(self, req: Request) -> tuple[int, Any]:
        transfer = self._transfer(req)
        if transfer.get("to_type") != "gof3r" or not transfer.get("succeeded"):
            raise ApiError(422, "invalid_params", "Only a successful backup has a public URL.")
        expires = int(time.time()) + PUBLIC_URL_SECONDS
        signature = self._signature(transfer["uuid"], str(expires))
        url = f"{self.base_url}/backups/{transfer['uuid']}.dump?expires={expires}&signature={signature}"
        return 200, {"url": url, "expires_at": datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}

    # --- serving dumps -------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Also serves public URLs: raw bytes, which the JSON-only core handler cannot answer, so its
        handler class is swapped for a subclass before any client can know a download URL."""
        self.base_url = super().start(port)
        assert self.server is not None
        emulator, json_handler = self, self.server.RequestHandlerClass

        class Handler(json_handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if not emulator.serve_download(self):
                    super().do_GET()

        self.server.RequestHandlerClass = Handler
        return self.base_url

    def serve_download(self, handler: BaseHTTPRequestHandler) -> bool:
        parts = urlsplit(handler.path)
        match = DOWNLOAD.match(parts.path)
        if not match:
            return False
        started = time.perf_counter()
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path: Path | None = None
        with self.lock:
            if self._signed(match["uuid"], query):
                files = [t.get("file") for ts in self.state["transfers"].values() for t in ts if t["uuid"] == match["uuid"]]
                path = self.backup_dir / files[0] if files and files[0] else None
        path = path if path and path.exists() else None
        data = path.read_bytes() if path else b"Request has expired or is not signed"
        status = 200 if path else 403
        self.record(Logged(self.service, "GET", parts.path, status, round((time.perf_counter() - started) * 1000, 2)))
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream" if path else "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        return True
