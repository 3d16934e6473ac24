"""Stand-in deployed apps: one HTTP server answering the web hosts of every Heroku app and Vercel project
the emulators hold, routed by the Host header as DNS would route them. Callers connect here and send the
app's real host name (`curl --resolve`'s way): a Heroku app's web_url host (<name>-<hex>.herokuapp.com)
and custom domains, a Vercel project's <name>.vercel.app and domains; `host:port` matches too, and a
wildcard domain (*.example.com) matches one more label. An unknown host is a 404 "No such app".

A stand-in answers once deployed (the sandbox's `git push heroku main`):
    PUT    /__sandbox/deploys/{heroku|vercel}/{name}   {"healthPath": "/healthz", "expectStatus": 200,
                                                        "requiredEnv": ["SECRET_KEY_BASE"]}
    GET    /__sandbox/deploys[/{platform}/{name}]      DELETE /__sandbox/deploys/{platform}/{name}
(served whatever the Host header). A deploy belongs to the app's id: it survives a restart and a rename,
and is gone with the app. A deployed stand-in answers GET {healthPath} with `expectStatus` when every
check passes, else 503, naming each check: every requiredEnv key is set in the live config (Heroku's
config vars with the add-ons' ones; Vercel's production env vars, sensitive ones too), and DATABASE_URL
(a Heroku app's, or any app's that requires it) connects to the sandbox's PostgreSQL and answers
`select 1`. Answers name keys only, never a value; nothing here is logged, nor written to requests.jsonl
(launchplan counts API calls from it), and no fault knob applies: these are the apps, not the APIs.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from sandbox.core import ApiError, Emulator, Logged, Request, read_request
from sandbox.postgres import probe

SANDBOX_PATH = "/__sandbox/"
FIELDS = ("healthPath", "expectStatus", "requiredEnv")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}  # where the sandbox's PostgreSQL can be: nothing else is probed
BODILESS = {204, 205, 304}  # statuses HTTP sends without a body: the checks then travel only on a failure
TEXT, JSON = "text/plain; charset=utf-8", "application/json"
NOT_JSON = object()  # a body that did not parse: told apart from no body
Answer = tuple[int, str, bytes, dict[str, str]]  # status, content type, body, headers


class Platform(Protocol):
    """What the stand-ins read of an emulator (HerokuApi, VercelApi)."""

    def web_hosts(self) -> dict[str, str]: ...
    def live_env(self, ref: str) -> tuple[str, str, dict[str, str]] | None: ...


def _bad(field: str, message: str) -> tuple[int, Any]:
    return 400, {"id": "invalid_deploy", "field": field, "message": message}


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Answer:
    return status, TEXT, text.encode(), headers or {}


class AppsHost(Emulator):
    service = "apps"

    def __init__(self, state_file: Path | None, platforms: dict[str, Platform]):
        super().__init__(state_file)  # no request log, no faults (see the module docstring)
        self.platforms = platforms
        self.state.setdefault("deploys", {})
        self.route("GET", "/__sandbox/deploys", lambda req: (200, self._listed()))
        self.route("GET", "/__sandbox/deploys/{platform}/{name}", lambda req: (200, self._view(self._deploy(req))))
        self.route("PUT", "/__sandbox/deploys/{platform}/{name}", self.deploy)
        self.route("DELETE", "/__sandbox/deploys/{platform}/{name}", self.undeploy)

    def authorized(self, request: Request) -> bool:
        return True  # a loopback control API, like the server's own flags

    def fault_exempt(self, request: Request) -> bool:
        return True

    def record(self, entry: Logged) -> None:
        pass  # never logged

    # --- the deploy API --------------------------------------------------------------------
    def _target(self, req: Request) -> tuple[str, str, str, dict[str, str]]:
        """(platform, app id, app name, live env) of /{platform}/{name}, or a 404."""
        platform = req.params["platform"]
        if platform not in self.platforms:
            raise ApiError(404, "not_found", f"No platform {platform!r}: deploys are /heroku/<app> or /vercel/<project>.")
        live = self.platforms[platform].live_env(req.params["name"])
        if live is None:
            what = "app" if platform == "heroku" else "project"
            raise ApiError(404, "not_found", f"Couldn't find that {what} on {platform}: {req.params['name']}.")
        return platform, *live

    def _deploy(self, req: Request) -> dict[str, Any]:
        platform, app_id, _, _ = self._target(req)
        deploy = self.state["deploys"].get(f"{platform}:{app_id}")
        if deploy is None:
            raise ApiError(404, "not_found", f"Nothing is deployed to {req.params['name']}.")
        return dict(deploy)

    def deploy(self, req: Request) -> tuple[int, Any]:
        platform, app_id, name, _ = self._target(req)
        body = req.body
        if not isinstance(body, dict):
            return _bad("body", "The body must be a JSON object: {healthPath, expectStatus, requiredEnv}.")
        for field in body:
            if field not in FIELDS:
                return _bad(field, f"Unknown field {field!r}: a deploy has {', '.join(FIELDS)}.")
        path, status, required = body.get("healthPath"), body.get("expectStatus", 200), body.get("requiredEnv", [])
        if not isinstance(path, str) or not path.startswith("/") or path.startswith(SANDBOX_PATH) or re.search(r"[?#\s]", path):
            return _bad("healthPath", "healthPath must be a path starting with / (no query, not under /__sandbox/).")
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            return _bad("expectStatus", "expectStatus must be a final HTTP status, 200 to 599.")
        if not isinstance(required, list) or not all(isinstance(k, str) and ENV_KEY.match(k) for k in required):
            return _bad("requiredEnv", "requiredEnv must be a list of env var names (letters, digits, _).")
        deploy = {"platform": platform, "id": app_id, "name": name, "healthPath": path, "expectStatus": status}
        deploy.update(requiredEnv=list(dict.fromkeys(required)), deployedAt=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._prune()
        self.state["deploys"][f"{platform}:{app_id}"] = deploy
        return 200, self._view(deploy)

    def undeploy(self, req: Request) -> tuple[int, Any]:
        deploy = self._deploy(req)
        del self.state["deploys"][f"{deploy['platform']}:{deploy['id']}"]
        self._prune()
        return 200, self._view(deploy)

    def _live(self, deploy: dict[str, Any]) -> tuple[str, str, dict[str, str]] | None:
        return self.platforms[deploy["platform"]].live_env(deploy["id"])

    def _prune(self) -> None:
        """Deploys of deleted apps go (saved with the write that calls this)."""
        self.state["deploys"] = {k: d for k, d in self.state["deploys"].items() if self._live(d) is not None}

    def _view(self, deploy: dict[str, Any]) -> dict[str, Any]:
        """A deploy as answered: the app's current name and every host that routes to it."""
        live = self._live(deploy)
        name = live[1] if live else deploy["name"]
        hosts = sorted(h for h, i in self.platforms[deploy["platform"]].web_hosts().items() if i == deploy["id"])
        return {**deploy, "name": name, "hosts": hosts}

    def _listed(self) -> list[dict[str, Any]]:
        views = [self._view(d) for d in self.state["deploys"].values() if self._live(d) is not None]
        return sorted(views, key=lambda v: (v["platform"], v["name"]))

    # --- the stand-ins ----------------------------------------------------------------------
    def _routed(self, host_header: str) -> tuple[str, str] | None:
        """(platform, app id) the Host header reaches: an exact host first, then a wildcard domain."""
        host = host_header.strip().lower()
        host = re.sub(r":\d*$", "", host).rstrip(".") if not host.startswith("[") else host
        hosts = {h: (platform, i) for platform, api in self.platforms.items() for h, i in api.web_hosts().items()}
        return hosts.get(host) or hosts.get("*." + host.partition(".")[2])

    def stand_in(self, request: Request) -> Answer:
        host = request.headers.get("host", "")
        routed = self._routed(host)
        live = self.platforms[routed[0]].live_env(routed[1]) if routed else None
        if routed is None or live is None:
            return _text(404, f"No such app\n\nThere is no app configured at that hostname ({host or 'no Host header'}).\n")
        platform, (app_id, name, env) = routed[0], live
        with self.lock:
            deploy = self.state["deploys"].get(f"{platform}:{app_id}")
        if deploy is None:
            return _text(
                404, f"{name} exists on {platform} but nothing is deployed to it: PUT /__sandbox/deploys/{platform}/{name}\n"
            )
        if request.path != deploy["healthPath"]:
            return _text(404, f"Not Found: this stand-in of {name} serves only {deploy['healthPath']}\n")
        if request.method not in ("GET", "HEAD"):
            return _text(405, "Method Not Allowed\n", {"Allow": "GET, HEAD"})
        checks = self._checks(platform, deploy["requiredEnv"], env)
        status = deploy["expectStatus"] if all(c["ok"] for c in checks) else 503
        body = {"app": name, "platform": platform, "checks": checks}
        if status in BODILESS:
            return status, JSON, b"", {"Cache-Control": "no-store"}
        return status, JSON, json.dumps(body).encode(), {"Cache-Control": "no-store"}

    @staticmethod
    def _checks(platform: str, required: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
        where = "the app's config vars" if platform == "heroku" else "the project's production env vars"
        checks: list[dict[str, Any]] = []
        for key in required:
            checks.append({"check": f"env {key} present", "ok": key in env})
            if key not in env:
                checks[-1]["detail"] = f"{key} is not set in {where}"
        if "DATABASE_URL" in required or (platform == "heroku" and "DATABASE_URL" in env):
            problem = _database_problem(env.get("DATABASE_URL"))
            checks.append({"check": "DATABASE_URL connects", "ok": problem is None, **({"detail": problem} if problem else {})})
        return checks

    # --- HTTP ---------------------------------------------------------------------------
    def answer(self, request: Request) -> Answer:
        if request.path.startswith(SANDBOX_PATH) or request.path == SANDBOX_PATH.rstrip("/"):
            status, body, headers = self.dispatch(request)
            return status, JSON, json.dumps(body).encode(), headers
        return self.stand_in(request)

    def start(self, port: int = 0) -> str:
        """Not Emulator.start: stand-ins answer text as well as JSON, HEAD too, and nothing is recorded."""
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # see core.Emulator.start

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: a log line could carry what a health check must not tell

            def _handle(self) -> None:
                status, kind, data, extra = host.answer(read_request(self, not_json=NOT_JSON))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _database_problem(url: str | None) -> str | None:
    """Why DATABASE_URL does not connect (None: it does), never quoting it."""
    if not url:
        return "DATABASE_URL is not set"
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if host not in LOOPBACK:
        return "DATABASE_URL does not point at the sandbox's PostgreSQL (127.0.0.1)"
    problem = probe(url)
    return None if problem is None else f"cannot connect: {problem}"
