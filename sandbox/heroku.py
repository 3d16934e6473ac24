"""Heroku Platform API emulator: account, apps, team apps, config vars, releases, buildpacks, ACM, add-ons,
formation, domains, app webhooks.

Routes and JSON fields are heroku-go v5's (the client of Heroku's Terraform provider, upstream of
pulumiverse-heroku, generated from the Platform API schema); errors are {"id", "message"}.
Modelled rules: `Accept: application/vnd.heroku+json; version=3` or 400 missing_version; the token
as Bearer or as Basic auth's password (heroku-go's way); `RateLimit-Remaining` on every answer from
a per-token bucket of 4500 requests an hour, 429 rate_limit when empty; unique app and add-on names
(422 invalid_params); config-vars PATCH merges, `null` deletes, answers the whole map and cannot
overwrite an add-on's vars; add-ons answer `provisioning`, then are `provisioned` `provision_seconds`
later (seen by the next request); heroku-postgresql gets a real database from an attached
EmbeddedPostgres, its URL in DATABASE_URL (the app's first database) and HEROKU_POSTGRESQL_<COLOR>_URL;
eco/basic dynos cannot scale past one; webhook secrets are never answered. Releases as Heroku makes
them: v1 "Initial release" and v2 "Enable Logplex" with the app, one per config-var change that changes
something ("Set A, B config vars", "Remove A config var"), one when an add-on's vars attach and detach;
each is `pending`, then `succeeded` `release_seconds` later (seen by the next request), and
GET /apps/{app}/releases honours heroku-go's `Range: version ..; max=N,order=desc`. Team apps
(/teams/apps) carry `organization` and `team` and a `locked` flag. Response shapes are those of
Heroku's published Platform API schema (heroku-go v5.5.0's schema.json, strictProperties). Sandbox
liberties: every team name exists and the account is its member; there are no Private Spaces or SNI
endpoints (asking for one is a 422 / 404); a formation PATCH creates a missing process type (no
deploys declare them here); custom domains go `pending` -> `succeeded` like add-ons.

What the official Heroku CLI reads besides (tests/integration/test_heroku_cli.py runs it against this):
add-on attachments, one per config var prefix of an add-on (DATABASE and HEROKU_POSTGRESQL_<COLOR> for
Postgres), listed, shown and resolved (/actions/addon-attachments/resolve, /actions/addons/resolve: by
id, name, or within an app an attachment name; their 404s carry `resource` as the CLI expects);
`Accept-Expansion: addon_service,plan` and `Accept-Inclusion: addon:plan,config_vars`; add-on services
and plans with their monthly prices (`billed_price`, never null); /users/~/apps; dynos; the owner as the
app's collaborator; Range headers (`<field> [[]first]..; max=N[, order=desc]`, a 206 with Next-Range);
and, with `default_domain=True` (as `python -m sandbox.server` builds it), the app's `kind: heroku`
domain <app>-<hex>.herokuapp.com first in GET /apps/{app}/domains. The CLI reaches the Data API on this
port (HEROKU_DATA_HOST is a bare host name; it keeps HEROKU_HOST's scheme and port), so /client/... and
/postgres/... paths are answered by the linked HerokuDataApi (its auth, faults and log), with backup
URLs rewritten to this port; the port also speaks TLS (sandbox/tls.py, a self-signed 127.0.0.1
certificate in <state folder>/tls/cert.pem) so those URLs are https, as Heroku's signed S3 URLs are and
as the CLI's downloader insists (Node's https.get; trust the certificate with NODE_EXTRA_CA_CERTS).

Where it cannot be faithful: nothing runs here, so dynos are what the formation declares, reported
`up` as if the app were deployed, `ps:restart` is an empty 202, and `heroku run` (POST /dynos) and
`heroku logs` (POST /log-sessions) answer a 422 `sandbox_unsupported` with a sentence saying why, at
once; pipelines do not exist (404). The apps' web hosts are served by the stand-in apps host
(sandbox/apps.py, read through `web_hosts` and `live_env`), once something is deployed there.
Formation answers keep `dyno_size`, a field the live API added after heroku-go v5.5.0's schema
(tests/sandbox/test_heroku_schema.py allows exactly that). Prices are Heroku's list prices for Postgres
plans; add-ons of other services are free here. The default domain is off by default only because
emulator tests written before it expect custom domains alone.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox import tls
from sandbox.core import ApiError, Emulator, Handler, Logged, Request
from sandbox.heroku_catalog import (
    DYNO_SIZES,
    HEROKU_REGIONS,
    HEROKU_STACKS,
    POSTGRES_PLANS,
    POSTGRES_PRICES,
    SINGLE_DYNO_SIZES,
)
from sandbox.postgres import EmbeddedPostgres, PostgresError

if TYPE_CHECKING:
    from sandbox.heroku_data import HerokuDataApi

ACCEPT = re.compile(r"application/vnd\.heroku\+json;\s*version=3")
PG = "heroku-postgresql"
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$")
HOST_RE = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
WEBHOOK_ENTITIES = {"api:addon-attachment", "api:addon", "api:app", "api:build", "api:collaborator", "api:domain"}
WEBHOOK_ENTITIES |= {"api:dyno", "api:formation", "api:release", "api:sni-endpoint", "dyno"}
COLORS = "AMBER AQUA BLUE BRONZE CHARCOAL COBALT COPPER CRIMSON CYAN GOLD GRAY GREEN IVORY JADE LIME MAROON"
COLORS += " MAUVE NAVY OLIVE ONYX ORANGE PINK PUCE PURPLE RED ROSE SILVER TEAL TOPAZ VIOLET WHITE YELLOW"
WORDS = ("calm", "curved", "shallow", "rocky", "sleepy", "quiet", "lit", "fathomless", "damp", "polar")
NOUNS = ("river", "brook", "fjord", "harbor", "meadow", "ridge", "savannah", "tundra", "cove", "dawn")
BAD_APP_NAME = (
    "Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes."
)
MISSING_VERSION = (
    "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`."
)
RATE_LIMITED = "Your account reached the API rate limit\nPlease wait a few minutes before making new requests"
# Paths of the Heroku Data API, which the CLI reaches on this port (HEROKU_DATA_HOST=127.0.0.1 keeps
# HEROKU_HOST's scheme and port), and of the backup downloads its public URLs point to.
DATA_PATHS = ("/client/", "/postgres/")
DOWNLOAD_PATH = "/backups/"
CATALOG_TIME = "2024-01-01T00:00:00Z"  # created_at/updated_at of catalogue records (services, plans)
SERVICE_NAMES = {PG: "Heroku Postgres"}
NO_LOGS = (
    "Logs are not available in the sandbox: no dyno runs here, so there is no log stream. "
    "Use `heroku releases` and the sandbox's request log (.sandbox/emulators/requests.jsonl) instead."
)
NO_RUN = (
    "One-off dynos cannot run in the sandbox: nothing executes here (no slug, no dyno runtime). "
    "Connect to the database with the app's DATABASE_URL instead (`heroku config:get DATABASE_URL`)."
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(kind: str, name: str) -> dict[str, str]:
    """{id, name} of a catalogue entry (region, stack, plan, dyno size): a stable id per name."""
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"heroku:{kind}:{name}")), "name": name}


def _random_name(first: str | None = None) -> str:
    """Heroku-style generated names: apps "calm-river-12345", add-ons "postgresql-curved-12345"."""
    second = secrets.choice(WORDS) if first else secrets.choice(NOUNS)
    return f"{first or secrets.choice(WORDS)}-{second}-{secrets.randbelow(90000) + 10000}"


def _size(raw: Any) -> str:
    """A dyno size as the API answers it: "standard-2x" -> "Standard-2X" (the provider's formatSize)."""
    if not isinstance(raw, str) or raw.lower() not in DYNO_SIZES:
        raise _invalid(f"Invalid dyno size: {raw!r}.")
    first, *rest = raw.lower().split("-")
    return "-".join([first.capitalize(), *(part.upper() for part in rest)])


def _price(service: str, plan: str) -> dict[str, Any]:
    """A plan's monthly price as Heroku answers it; add-ons of other providers are free here."""
    cents = POSTGRES_PRICES.get(plan, 0) if service == PG else 0
    return {"cents": cents, "contract": False, "unit": "month"}


class NotFoundError(ApiError):
    """A 404 whose body names the resource that was not found (`resource`), as the resolvers answer."""

    def __init__(self, resource: str, message: str):
        super().__init__(404, "not_found", message)
        self.resource = resource


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_params", message)


def _owner(app: dict[str, Any]) -> dict[str, str]:
    return {"id": app["id"], "name": app["name"]}


class HerokuApi(Emulator):
    service = "heroku"

    def __init__(
        self,
        *args: Any,
        token: str | None = None,
        postgres: EmbeddedPostgres | None = None,
        provision_seconds: float = 0.5,
        release_seconds: float = 0.2,
        rate_limit_per_hour: int = 4500,
        default_domain: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.token = token  # None: any non-empty token is accepted
        # Whether GET /apps/{app}/domains lists the app's `kind: heroku` record (<app>-<hex>.herokuapp.com)
        # before its custom domains, as Heroku does; `python -m sandbox.server` turns it on.
        self.default_domain = default_domain
        self.data_api: HerokuDataApi | None = None  # set by HerokuDataApi(heroku=...): served here too
        self.certificate: Path | None = None  # the loopback TLS certificate once started (None: no openssl)
        self.postgres = postgres
        self.provision_seconds = provision_seconds
        self.release_seconds = release_seconds
        self.rate_limit_per_hour = rate_limit_per_hour
        self._buckets: dict[str, tuple[float, float]] = {}  # token -> (requests left, when counted)
        for table, empty in self._tables().items():  # state files written before these tables existed
            self.state.setdefault(table, empty)
        self.state["account"].setdefault("country_of_residence", None)
        for addon in self.state["addons"].values():  # add-ons made before prices were answered
            if addon.get("billed_price") is None:
                addon["billed_price"] = _price(*addon["plan"]["name"].split(":", 1))
        if self.state_file and not self.state_file.exists():
            self.save()  # the account's id stays the same across restarts
        route = self.route
        route("GET", "/account", lambda req: (200, self.state["account"]))
        route("GET", "/apps", lambda req: (200, list(self.state["apps"].values())))
        route("POST", "/apps", self.create_app)
        route("GET", "/apps/{app}", lambda req: (200, self._app(req)))
        route("PATCH", "/apps/{app}", self.update_app)
        route("DELETE", "/apps/{app}", self.delete_app)
        route("GET", "/apps/{app}/config-vars", lambda req: (200, self.state["config_vars"][self._app(req)["id"]]))
        route("PATCH", "/apps/{app}/config-vars", self.update_config_vars)
        route("GET", "/apps/{app}/releases", self.list_releases)
        route("GET", "/apps/{app}/releases/{release}", lambda req: (200, self._release(req)))
        route("GET", "/apps/{app}/buildpack-installations", lambda req: (200, self._buildpacks(self._app(req))))
        route("PUT", "/apps/{app}/buildpack-installations", self.update_buildpacks)
        route("POST", "/apps/{app}/acm", lambda req: (200, self._set_acm(req, True)))
        route("PATCH", "/apps/{app}/acm", lambda req: (200, self._set_acm(req, None)))
        route("DELETE", "/apps/{app}/acm", lambda req: (200, self._set_acm(req, False)))
        route("POST", "/teams/apps", self.create_team_app)
        route("GET", "/teams/apps/{app}", lambda req: (200, self._team_app(self._app(req))))
        route("PATCH", "/teams/apps/{app}", self.update_team_app)
        route("GET", "/addons", lambda req: (200, self._expanded(req, list(self.state["addons"].values()))))
        route("POST", "/apps/{app}/addons", self.create_addon)
        for base in ("/addons/{addon}", "/apps/{app}/addons/{addon}"):
            route("GET", base, lambda req: (200, self._addon_view(req, self._addon(req))))
            route("PATCH", base, self.update_addon)
            route("DELETE", base, lambda req: (200, self._deprovision(self._addon(req))))
        route("GET", "/apps/{app}/formation", lambda req: (200, list(self.state["formation"][self._app(req)["id"]].values())))
        route("PATCH", "/apps/{app}/formation", self.batch_formation)
        route("GET", "/apps/{app}/formation/{type}", lambda req: (200, self._formation(self._app(req), req.params["type"])))
        route("PATCH", "/apps/{app}/formation/{type}", self.update_formation)
        route("POST", "/apps/{app}/domains", self.create_domain)
        route("GET", "/apps/{app}/domains/{domain}", lambda req: (200, self._domain(req)))
        route("PATCH", "/apps/{app}/domains/{domain}", self.update_domain)
        route("DELETE", "/apps/{app}/domains/{domain}", self.delete_domain)
        route("POST", "/apps/{app}/webhooks", self.create_webhook)
        route("GET", "/apps/{app}/webhooks/{hook}", lambda req: (200, self._webhook(req)))
        route("PATCH", "/apps/{app}/webhooks/{hook}", self.update_webhook)
        route("DELETE", "/apps/{app}/webhooks/{hook}", self.delete_webhook)
        for table in ("addons", "webhooks"):  # the app's records, in creation order
            route("GET", f"/apps/{{app}}/{table}", self._lister(table))
        # What the official Heroku CLI reads besides (see the "official Heroku CLI" section below).
        route("GET", "/apps/{app}/domains", self.list_domains)
        route("GET", "/users/{user}", lambda req: (200, self._user(req)))
        route("GET", "/users/{user}/apps", lambda req: (200, [*self.state["apps"].values()] if self._user(req) else []))
        route("GET", "/addon-attachments", lambda req: (200, self._included(req, self._all_attachments())))
        one_attachment: Handler = lambda req: (200, self._included(req, [self._attachment(req)])[0])  # noqa: E731
        route("GET", "/addon-attachments/{attachment}", one_attachment)
        route("GET", "/apps/{app}/addon-attachments", self.list_app_attachments)
        route("GET", "/apps/{app}/addon-attachments/{attachment}", one_attachment)
        addon_attachments: Handler = lambda req: (200, self._included(req, self._attachments(self._addon(req))))  # noqa: E731
        route("GET", "/addons/{addon}/addon-attachments", addon_attachments)
        route("POST", "/actions/addon-attachments/resolve", self.resolve_attachments)
        route("POST", "/actions/addons/resolve", self.resolve_addons)
        route("GET", "/addon-services/{service}", lambda req: (200, self._service(req.params["service"])))
        route("GET", "/addon-services/{service}/plans", self.list_plans)
        route("GET", "/addon-services/{service}/plans/{plan}", lambda req: (200, self._plan_record(req)))
        route("GET", "/apps/{app}/dynos", lambda req: (200, self._dynos(self._app(req))))
        route("GET", "/apps/{app}/dynos/{dyno}", lambda req: (200, self._dyno(req)))
        route("DELETE", "/apps/{app}/dynos", lambda req: (202, self._restart(req)))
        route("DELETE", "/apps/{app}/dynos/{dyno}", lambda req: (202, self._restart(req)))
        route("POST", "/apps/{app}/dynos", self.refuse(NO_RUN))
        route("POST", "/apps/{app}/log-sessions", self.refuse(NO_LOGS))
        route("GET", "/apps/{app}/collaborators", lambda req: (200, [self._owner_collaborator(self._app(req))]))
        route("GET", "/apps/{app}/pipeline-couplings", self.no_pipeline)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        def settled(req: Request) -> tuple[int, Any]:
            self.settle()  # under the lock, like the handler: what was pending catches up first
            try:
                status, body = handler(req)
            except PostgresError as failure:  # handlers touch Postgres before they change any state
                raise ApiError(503, "unavailable", f"The sandbox's Postgres failed: {failure}") from None
            except NotFoundError as missing:  # the resolvers' 404s name the resource, as the CLI expects
                return 404, {"id": "not_found", "message": str(missing), "resource": missing.resource}
            return status, copy.deepcopy(body)  # answered outside the lock: never a live state object

        super().route(method, pattern, settled)

    def initial_state(self) -> dict[str, Any]:
        now = _now()
        account: dict[str, Any] = {"id": str(uuid.uuid4()), "email": "sandbox@launchplan.invalid", "name": "Sandbox"}
        account.update(allow_tracking=False, beta=False, created_at=now, updated_at=now, last_login=now, federated=False)
        account.update(default_organization=None, default_team=None, delinquent_at=None, suspended_at=None)
        account.update(identity_provider=None, sms_number=None, two_factor_authentication=False, verified=True)
        # Records as answered; what the API never answers lives in the private tables.
        return {"account": account, **self._tables()}

    @staticmethod
    def _tables() -> dict[str, Any]:
        return {
            "apps": {},  # id -> app
            "config_vars": {},  # app id -> {name: value}
            "addons": {},  # id -> add-on
            "formation": {},  # app id -> {process type: formation}
            "domains": {},  # id -> domain
            "webhooks": {},  # id -> webhook
            "addons_private": {},  # add-on id -> {ready_at, database, url, vars}
            "domains_pending": {},  # domain id -> when it turns succeeded
            "webhook_secrets": {},  # webhook id -> {secret, authorization}
            "releases": {},  # app id -> [release], oldest first
            "releases_pending": {},  # release id -> when it turns succeeded
            "buildpacks": {},  # app id -> [buildpack installation]
            "team_locked": {},  # app id -> locked flag of a team app
        }

    # --- auth, Accept, rate limit ---------------------------------------------------------
    @staticmethod
    def _token(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:].strip() or None
        if auth.startswith("Basic "):  # heroku-go: Basic base64(email:api-key)
            try:
                return base64.b64decode(auth[6:]).decode().partition(":")[2] or None
            except ValueError:
                return None
        return None

    def authorized(self, request: Request) -> bool:
        token = self._token(request)
        return token is not None and (self.token is None or token == self.token)

    def _spend(self, token: str) -> int:
        """Takes one request from the token's bucket; answers what is left, -1 when it was empty."""
        with self.lock:
            capacity, now = float(self.rate_limit_per_hour), time.monotonic()
            left, since = self._buckets.get(token, (capacity, now))
            left = min(capacity, left + (now - since) * capacity / 3600)
            if left < 1:
                self._buckets[token] = (left, now)
                return -1
            self._buckets[token] = (left - 1, now)
            return int(left - 1)

    def dispatch(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if request.path.startswith(DATA_PATHS) and self.data_api is not None:
            return self._data_dispatch(request)  # another host on Heroku: its own auth, faults and limits
        left = self._spend(self._token(request) or "")
        headers = {"RateLimit-Remaining": str(max(left, 0))}
        if left < 0:
            return 429, self.error_body(429, "rate_limit", RATE_LIMITED), headers
        if not ACCEPT.search(request.headers.get("accept", "")):
            return 400, self.error_body(400, "missing_version", MISSING_VERSION), headers
        status, body, extra = super().dispatch(request)
        return status, body, {**headers, **extra, **getattr(request, "response_headers", {})}

    # --- lookups ---------------------------------------------------------------------------
    def find(self, table: str, ref: str, keys: tuple[str, ...] = ("id", "name")) -> dict[str, Any] | None:
        return next((r for r in self.state[table].values() if ref in (r[k] for k in keys)), None)

    def _app(self, req: Request) -> dict[str, Any]:
        app = self.find("apps", req.params["app"])
        if app is None:
            raise ApiError(404, "not_found", "Couldn't find that app.")
        return app

    def _one(self, req: Request, table: str, param: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        """A record by id (or name); under /apps/{app} it must also be that app's."""
        found = self.find(table, req.params[param].lower() if table == "domains" else req.params[param], keys)
        if found is None or ("app" in req.params and found["app"]["id"] != self._app(req)["id"]):
            raise ApiError(404, "not_found", f"Couldn't find that {what}.")
        return found

    def _addon(self, req: Request) -> dict[str, Any]:
        return self._one(req, "addons", "addon", ("id", "name"), "add on")

    def _domain(self, req: Request) -> dict[str, Any]:
        return self._one(req, "domains", "domain", ("id", "hostname"), "domain")

    def _webhook(self, req: Request) -> dict[str, Any]:
        return self._one(req, "webhooks", "hook", ("id",), "webhook")

    def _addon_view(self, req: Request, addon: dict[str, Any]) -> dict[str, Any]:
        return self._expanded(req, [addon])[0]

    def _lister(self, table: str) -> Handler:
        if table == "addons":
            return lambda req: (200, self._expanded(req, self._records(table, self._app(req)["id"])))
        return lambda req: (200, self._records(table, self._app(req)["id"]))

    def _records(self, table: str, app_id: str) -> list[dict[str, Any]]:
        return [r for r in self.state[table].values() if r["app"]["id"] == app_id]

    def _formation(self, app: dict[str, Any], ref: str) -> dict[str, Any]:
        """A process type's formation, by type or id."""
        formation = self.state["formation"][app["id"]]
        found = formation.get(ref) or next((f for f in formation.values() if f["id"] == ref), None)
        if found is None:
            raise ApiError(404, "not_found", "Couldn't find that process type.")
        return dict(found)

    def database_of(self, addon_ref: str) -> dict[str, Any] | None:
        """For the Data API emulator: a Postgres add-on, its app, database name, URL and config vars."""
        with self.lock:
            self.settle()
            addon = self.find("addons", addon_ref)
            if addon is None or addon["addon_service"]["name"] != PG:
                return None
            app = self.state["apps"][addon["app"]["id"]]
            return copy.deepcopy({"addon": addon, "app": app, **self.state["addons_private"][addon["id"]]})

    # --- for the stand-in apps host (sandbox/apps.py) ----------------------------------------
    def web_hosts(self) -> dict[str, str]:
        """Host name -> app id: each app's web_url host and custom domains, what DNS would route to it."""
        with self.lock:
            hosts = {urlsplit(a["web_url"]).hostname or "": a["id"] for a in self.state["apps"].values()}
            hosts.update({d["hostname"]: d["app"]["id"] for d in self.state["domains"].values()})
            return hosts

    def live_env(self, ref: str) -> tuple[str, str, dict[str, str]] | None:
        """An app's (by id or name) id, name and config vars as the API would answer them now."""
        with self.lock:
            self.settle()  # an add-on due to be provisioned has its vars by now
            app = self.find("apps", ref)
            return None if app is None else (app["id"], app["name"], dict(self.state["config_vars"][app["id"]]))

    # --- lazy state changes ----------------------------------------------------------------
    def settle(self) -> None:
        """Due add-ons become `provisioned` (their config vars appear), due domains `succeeded`."""
        now, changed = time.time(), False
        for addon_id, private in self.state["addons_private"].items():
            addon = self.state["addons"][addon_id]
            if addon["state"] == "provisioning" and now >= private["ready_at"]:
                addon.update(state="provisioned", updated_at=_now())
                self.state["config_vars"][addon["app"]["id"]].update(dict.fromkeys(private["vars"], private["url"]))
                if private["vars"]:
                    attachment = private["vars"][0].removesuffix("_URL")
                    self._new_release(addon["app"]["id"], f"Attach {attachment} (@ref:{addon['name']})")
                changed = True
        for release_id, ready_at in list(self.state["releases_pending"].items()):
            if now >= ready_at:
                for release in self._all_releases():
                    if release["id"] == release_id:
                        release.update(status="succeeded", updated_at=_now())
                del self.state["releases_pending"][release_id]
                changed = True
        for domain_id, ready_at in list(self.state["domains_pending"].items()):
            if now >= ready_at:
                self.state["domains"][domain_id].update(status="succeeded", updated_at=_now())
                del self.state["domains_pending"][domain_id]
                changed = True
        if changed:
            self.save()

    # --- apps and config vars --------------------------------------------------------------
    def _check_app_name(self, name: Any, app_id: str | None = None) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise _invalid(BAD_APP_NAME)
        if any(a["name"] == name and a["id"] != app_id for a in self.state["apps"].values()):
            raise _invalid("Name is already taken")
        return name

    def create_app(self, req: Request) -> tuple[int, Any]:
        return 201, self._make_app(req.body or {}, team=None)

    def _make_app(self, body: dict[str, Any], team: str | None) -> dict[str, Any]:
        if body.get("space"):
            raise _invalid("Private Spaces are not available in this sandbox: leave `space` out.")
        name = self._check_app_name(body.get("name") or _random_name())
        region, stack = body.get("region") or "us", body.get("stack") or "heroku-24"
        if region not in HEROKU_REGIONS or stack not in HEROKU_STACKS:
            raise ApiError(404, "not_found", f"Couldn't find that {'region' if region not in HEROKU_REGIONS else 'stack'}.")
        now, app_id = _now(), str(uuid.uuid4())
        app: dict[str, Any] = {"id": app_id, "name": name, "region": _ref("region", region), "stack": _ref("stack", stack)}
        owner = _ref("team", team) if team else None
        app.update(build_stack=_ref("stack", stack), organization=owner, team=owner, space=None)
        app.update(owner={k: self.state["account"][k] for k in ("id", "email")}, acm=False, archived_at=None)
        app.update(buildpack_provided_description=None, internal_routing=None, maintenance=False)
        app.update(released_at=now, repo_size=None, slug_size=None, created_at=now, updated_at=now)
        app.update(git_url=f"https://git.heroku.com/{name}.git", web_url=f"https://{name}-{secrets.token_hex(6)}.herokuapp.com/")
        self.state["apps"][app_id] = app
        self.state["config_vars"][app_id], self.state["formation"][app_id] = {}, {}
        self.state["buildpacks"][app_id], self.state["releases"][app_id] = [], []
        self._new_release(app_id, "Initial release", pending=False)
        self._new_release(app_id, "Enable Logplex", pending=False)
        return app

    # --- team apps -------------------------------------------------------------------------
    def create_team_app(self, req: Request) -> tuple[int, Any]:
        body = req.body or {}
        team = body.get("team") if not body.get("personal") else None
        if team is not None and (not isinstance(team, str) or not team):
            raise _invalid("team must be the name of a team.")
        app = self._make_app(body, team=team)
        self.state["team_locked"][app["id"]] = bool(body.get("locked")) if team else False
        return 201, self._team_app(app)

    def _team_app(self, app: dict[str, Any]) -> dict[str, Any]:
        """The team-app view of an app (schema definition `team-app`)."""
        if not app.get("team"):
            raise ApiError(404, "not_found", "Couldn't find that app in a team.")
        view = {k: v for k, v in app.items() if k not in ("acm", "organization")}
        view.update(joined=False, locked=self.state["team_locked"].get(app["id"], False))
        return view

    def update_team_app(self, req: Request) -> tuple[int, Any]:
        app, body = self._app(req), req.body or {}
        view = self._team_app(app)
        if "locked" in body:
            if not isinstance(body["locked"], bool):
                raise _invalid("locked must be true or false.")
            self.state["team_locked"][app["id"]] = body["locked"]
            app["updated_at"] = _now()
            view = self._team_app(app)
        return 200, view

    # --- releases, buildpacks, ACM ---------------------------------------------------------
    def _all_releases(self) -> list[dict[str, Any]]:
        return [r for releases in self.state["releases"].values() for r in releases]

    def _new_release(self, app_id: str, description: str, pending: bool = True) -> dict[str, Any]:
        releases = self.state["releases"].setdefault(app_id, [])
        for earlier in releases:
            earlier["current"] = False
        app, now = self.state["apps"][app_id], _now()
        release: dict[str, Any] = {"id": str(uuid.uuid4()), "version": len(releases) + 1, "description": description}
        release.update(app=_owner(app), user={k: self.state["account"][k] for k in ("id", "email")}, slug=None)
        release.update(addon_plan_names=[a["plan"]["name"] for a in self._records("addons", app_id)], current=True)
        release.update(output_stream_url=None, created_at=now, updated_at=now)
        release["status"] = "pending" if pending and self.release_seconds > 0 else "succeeded"
        if release["status"] == "pending":
            self.state["releases_pending"][release["id"]] = time.time() + self.release_seconds
        releases.append(release)
        app["released_at"] = now
        return release

    def _release(self, req: Request) -> dict[str, Any]:
        ref = req.params["release"]
        for release in self.state["releases"].get(self._app(req)["id"], []):
            if ref in (release["id"], str(release["version"])):
                return release
        raise ApiError(404, "not_found", "Couldn't find that release.")

    def list_releases(self, req: Request) -> tuple[int, Any]:
        """Honours heroku-go's and the CLI's Range header: `version ..; max=N, order=desc` (see _ranged)."""
        return self._ranged(req, list(self.state["releases"].get(self._app(req)["id"], [])), limit=200)

    def _buildpacks(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        return self.state["buildpacks"].setdefault(app["id"], [])

    def update_buildpacks(self, req: Request) -> tuple[int, Any]:
        app, updates = self._app(req), (req.body or {}).get("updates")
        if not isinstance(updates, list) or not all(isinstance(u, dict) and isinstance(u.get("buildpack"), str) for u in updates):
            raise _invalid("updates must be a list of {buildpack}.")
        installed = []
        for ordinal, update in enumerate(updates):
            ref = update["buildpack"]
            if not ref:
                raise _invalid("buildpack must not be empty.")
            url = ref if "://" in ref or ref.startswith("urn:") else f"urn:buildpack:{ref}"
            name = ref.removeprefix("urn:buildpack:")
            installed.append({"buildpack": {"url": url, "name": name}, "ordinal": ordinal})
        self.state["buildpacks"][app["id"]] = installed
        return 200, installed

    def _set_acm(self, req: Request, enabled: bool | None) -> dict[str, Any]:
        app = self._app(req)
        if enabled is not None:  # PATCH refreshes: nothing to do here
            app.update(acm=enabled, updated_at=_now())
        return app

    def update_app(self, req: Request) -> tuple[int, Any]:
        app, body = self._app(req), req.body or {}
        if "name" in body and body["name"] != app["name"]:
            old, new = app["name"], self._check_app_name(body["name"], app["id"])
            app.update(name=new, git_url=f"https://git.heroku.com/{new}.git", web_url=app["web_url"].replace(old, new, 1))
            for table in ("addons", "domains", "webhooks"):
                for record in self._records(table, app["id"]):
                    record["app"]["name"] = new
            for formation in self.state["formation"][app["id"]].values():
                formation["app"]["name"] = new
        if "maintenance" in body:
            app["maintenance"] = bool(body["maintenance"])
        if body.get("build_stack"):
            if body["build_stack"] not in HEROKU_STACKS:
                raise ApiError(404, "not_found", "Couldn't find that stack.")
            app["build_stack"] = _ref("stack", body["build_stack"])  # `stack` itself changes on the next build
        app["updated_at"] = _now()
        return 200, app

    def delete_app(self, req: Request) -> tuple[int, Any]:
        app = self._app(req)
        for addon in self._records("addons", app["id"]):
            self._deprovision(addon)
        for table in ("domains", "webhooks"):
            for record in self._records(table, app["id"]):
                del self.state[table][record["id"]]
                self.state["domains_pending" if table == "domains" else "webhook_secrets"].pop(record["id"], None)
        for release in self.state["releases"].pop(app["id"], []):
            self.state["releases_pending"].pop(release["id"], None)
        self.state["buildpacks"].pop(app["id"], None)
        self.state["team_locked"].pop(app["id"], None)
        del self.state["config_vars"][app["id"]], self.state["formation"][app["id"]], self.state["apps"][app["id"]]
        return 200, app

    def update_config_vars(self, req: Request) -> tuple[int, Any]:
        app, body = self._app(req), req.body
        if not isinstance(body, dict) or "" in body or not all(isinstance(v, str | None) for v in body.values()):
            raise _invalid("Config vars must be an object of names to string values (null deletes a var).")
        attached = {v for a in self._records("addons", app["id"]) for v in self.state["addons_private"][a["id"]]["vars"]}
        if set(body) & attached:
            raise _invalid(f"Cannot overwrite attachment values {', '.join(sorted(set(body) & attached))}.")
        config = self.state["config_vars"][app["id"]]
        set_keys = sorted(k for k, v in body.items() if v is not None and config.get(k) != v)
        removed = sorted(k for k, v in body.items() if v is None and k in config)
        for key, value in body.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        if set_keys or removed:  # one release per change, described as Heroku does
            parts = []
            if set_keys:
                parts.append(f"Set {', '.join(set_keys)} config var{'s' if len(set_keys) > 1 else ''}")
            if removed:
                parts.append(f"Remove {', '.join(removed)} config var{'s' if len(removed) > 1 else ''}")
            self._new_release(app["id"], " and ".join(parts))
        return 200, config

    # --- add-ons ---------------------------------------------------------------------------
    @staticmethod
    def _plan(raw: Any, service_of: str | None = None) -> tuple[str, str]:
        """(service, plan) from "heroku-postgresql:standard-0" or {"name": ...}; a bare plan name
        ("standard-2") when changing the plan of an add-on of `service_of`."""
        name = raw.get("name") if isinstance(raw, dict) else raw
        if not isinstance(name, str) or not name:
            raise _invalid("plan is required, e.g. heroku-postgresql:essential-0.")
        if service_of and ":" not in name:
            name = f"{service_of}:{name}"
        service, _, plan = name.partition(":")
        if service != PG:
            return service, plan or "basic"
        info = POSTGRES_PLANS.get(plan or "essential-0")
        if info is None:
            raise ApiError(404, "not_found", f'Couldn\'t find either the add-on service or the add-on plan of "{name}".')
        if info.retired:
            raise _invalid(f"The plan {name} is no longer available. Use {PG}:{info.replacement}.")
        return service, info.name

    def _check_addon_name(self, name: Any, addon_id: str | None = None) -> str:
        if not isinstance(name, str) or not re.match(r"^[a-zA-Z][A-Za-z0-9_-]+$", name):
            raise _invalid("Name must start with a letter and can only contain letters, digits, dashes and underscores.")
        if any(a["name"] == name and a["id"] != addon_id for a in self.state["addons"].values()):
            raise _invalid("Name is already taken")
        return name

    def create_addon(self, req: Request) -> tuple[int, Any]:
        app, body = self._app(req), req.body or {}
        service, plan = self._plan(body.get("plan"))
        name = self._check_addon_name(body.get("name") or _random_name(service.removeprefix("heroku-")))
        addon_id, now = str(uuid.uuid4()), _now()
        private: dict[str, Any] = {"ready_at": time.time(), "database": None, "url": None, "vars": []}
        if service == PG:  # the database is made now; its vars appear once provisioned
            private.update(self._new_database(app, (body.get("attachment") or {}).get("name")))
            private["ready_at"] += self.provision_seconds
        addon: dict[str, Any] = {"id": addon_id, "name": name, "app": _owner(app)}
        addon["addon_service"] = _ref("addon-service", service)
        addon.update(plan=_ref("plan", f"{service}:{plan}"), actions=[], config_vars=private["vars"])
        addon.update(provider_id=private["database"] or addon_id, billed_price=_price(service, plan))
        addon["billing_entity"] = {**_owner(app), "type": "app"}
        addon.update(state="provisioning", created_at=now, updated_at=now)
        sso = f"https://addons-sso.heroku.com/apps/{app['id']}/addons/{addon_id}"
        addon["web_url"] = f"https://data.heroku.com/datastores/{addon_id}" if service == PG else sso
        self.state["addons"][addon_id], self.state["addons_private"][addon_id] = addon, private
        self.settle()  # an add-on with nothing to wait for is provisioned at once
        return 201, addon

    def _new_database(self, app: dict[str, Any], attachment: str | None) -> dict[str, Any]:
        """A real database when Postgres is attached (else an unreachable URL), and its config var names."""
        taken = {v for a in self._records("addons", app["id"]) for v in self.state["addons_private"][a["id"]]["vars"]}
        color = next(c for c in COLORS.split() if f"HEROKU_POSTGRESQL_{c}_URL" not in taken)
        names = [f"HEROKU_POSTGRESQL_{color}_URL"]
        if attachment or "DATABASE_URL" not in taken:  # the app's first database is its DATABASE
            names.insert(0, f"{(attachment or 'DATABASE').upper()}_URL")
        database = "d" + secrets.token_hex(7)
        if self.postgres is not None:
            url = self.postgres.create_database(database)
        else:
            url = f"postgres://u{secrets.token_hex(7)}:{secrets.token_hex(32)}@no-postgres.sandbox.invalid:5432/{database}"
        return {"database": database, "url": url, "vars": names}

    def update_addon(self, req: Request) -> tuple[int, Any]:
        addon, body = self._addon(req), req.body or {}
        if body.get("plan"):
            current = addon["addon_service"]["name"]
            service, plan = self._plan(body["plan"], current)
            if service != current:
                raise _invalid(f"Cannot change {current} to a plan of {service}.")
            addon["plan"] = _ref("plan", f"{service}:{plan}")  # an in-place upgrade: same add-on, same data
            addon["billed_price"] = _price(service, plan)
        if body.get("name"):
            addon["name"] = self._check_addon_name(body["name"], addon["id"])
        addon["updated_at"] = _now()
        return 200, addon

    def _deprovision(self, addon: dict[str, Any]) -> dict[str, Any]:
        private = self.state["addons_private"][addon["id"]]
        if private["database"] and self.postgres is not None:
            self.postgres.drop_database(private["database"])
        config = self.state["config_vars"][addon["app"]["id"]]
        attached = [var for var in private["vars"] if var in config]
        for var in private["vars"]:
            config.pop(var, None)
        if attached:
            self._new_release(addon["app"]["id"], f"Detach {attached[0].removesuffix('_URL')} (@ref:{addon['name']})")
        del self.state["addons"][addon["id"]], self.state["addons_private"][addon["id"]]
        return {**addon, "state": "deprovisioned", "updated_at": _now()}

    # --- formation -------------------------------------------------------------------------
    def _scaled(self, app: dict[str, Any], ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """The formation of process type `ref` after the update in `body`: validated, not stored."""
        try:
            current = self._formation(app, ref)
        except ApiError:  # sandbox liberty: no deploys here, so a PATCH declares the process type
            current = {"id": str(uuid.uuid4()), "type": ref, "app": _owner(app), "command": "", "created_at": _now()}
            current.update(quantity=1 if ref == "web" else 0, size="Standard-1X")
        size_in = body.get("size") or (body.get("dyno_size") or {}).get("name")  # v5 sends size, v6 dyno_size
        size = _size(size_in) if size_in else current["size"]
        quantity = body.get("quantity", current["quantity"])
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise _invalid("quantity must be a whole number, 0 or more.")
        if size.lower() in SINGLE_DYNO_SIZES and quantity > 1:
            raise _invalid(f"Cannot update to more than 1 {size} size dynos per process type.")
        return {**current, "size": size, "dyno_size": _ref("dyno-size", size), "quantity": quantity, "updated_at": _now()}

    def update_formation(self, req: Request) -> tuple[int, Any]:
        app = self._app(req)
        formation = self._scaled(app, req.params["type"], req.body or {})
        self.state["formation"][app["id"]][formation["type"]] = formation
        return 200, formation

    def batch_formation(self, req: Request) -> tuple[int, Any]:
        app, updates = self._app(req), (req.body or {}).get("updates")
        if not isinstance(updates, list) or not all(isinstance(u, dict) and u.get("type") for u in updates):
            raise _invalid("updates must be a list of {type, quantity, size}.")
        scaled = [self._scaled(app, u["type"], u) for u in updates]  # all validated before any is stored
        for formation in scaled:
            self.state["formation"][app["id"]][formation["type"]] = formation
        return 200, scaled

    # --- domains and app webhooks ----------------------------------------------------------
    def create_domain(self, req: Request) -> tuple[int, Any]:
        app, hostname = self._app(req), str((req.body or {}).get("hostname") or "").lower()
        if not HOST_RE.match(hostname) or hostname.endswith((".herokuapp.com", ".herokudns.com")):
            raise _invalid(f"{hostname!r} is not a valid custom domain name.")
        if self.find("domains", hostname, ("hostname",)):
            raise _invalid(f"{hostname} is currently in use by another app.")
        if (req.body or {}).get("sni_endpoint") is not None:
            raise ApiError(404, "not_found", "Couldn't find that SNI endpoint.")
        domain_id, now = str(uuid.uuid4()), _now()
        domain: dict[str, Any] = {"id": domain_id, "hostname": hostname, "kind": "custom", "app": _owner(app)}
        domain["status"] = "pending"
        domain.update(cname=f"{hostname.replace('*', 'wildcard').replace('.', '-')}.herokudns.com", sni_endpoint=None)
        domain.update(acm_status=None, acm_status_reason=None, created_at=now, updated_at=now)
        self.state["domains"][domain_id] = domain
        self.state["domains_pending"][domain_id] = time.time() + self.provision_seconds
        return 201, domain

    def update_domain(self, req: Request) -> tuple[int, Any]:
        domain, body = self._domain(req), req.body or {}
        if "sni_endpoint" not in body:
            raise _invalid("sni_endpoint is required (null or an SNI endpoint).")
        if body["sni_endpoint"] is not None:  # no SNI endpoints in the sandbox
            raise ApiError(404, "not_found", "Couldn't find that SNI endpoint.")
        domain.update(sni_endpoint=None, updated_at=_now())
        return 200, domain

    def delete_domain(self, req: Request) -> tuple[int, Any]:
        domain = self._domain(req)
        del self.state["domains"][domain["id"]]
        self.state["domains_pending"].pop(domain["id"], None)
        return 200, domain

    @staticmethod
    def _check_webhook(body: dict[str, Any]) -> None:
        include, url = body.get("include"), body.get("url")
        if not isinstance(include, list) or not include or not set(include) <= WEBHOOK_ENTITIES:
            raise _invalid(f"include must be a non-empty list of {', '.join(sorted(WEBHOOK_ENTITIES))}.")
        if body.get("level") not in ("notify", "sync"):
            raise _invalid("level must be notify or sync.")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
            raise _invalid("url must be an http(s) URL.")

    def create_webhook(self, req: Request) -> tuple[int, Any]:
        app, body = self._app(req), req.body or {}
        self._check_webhook(body)
        hook_id, now = str(uuid.uuid4()), _now()
        hook: dict[str, Any] = {"id": hook_id, "app": _owner(app), "include": list(body["include"]), "level": body["level"]}
        hook.update(url=body["url"], created_at=now, updated_at=now)
        self.state["webhooks"][hook_id] = hook
        self.state["webhook_secrets"][hook_id] = {k: body.get(k) for k in ("secret", "authorization")}
        return 201, hook

    def update_webhook(self, req: Request) -> tuple[int, Any]:
        hook, body = self._webhook(req), req.body or {}
        merged = {**hook, **{k: v for k, v in body.items() if k in ("include", "level", "url") and v is not None}}
        self._check_webhook(merged)
        hook.update(merged, updated_at=_now())
        kept = self.state["webhook_secrets"][hook["id"]]  # write-only: stored, never answered
        kept.update({k: body[k] for k in ("secret", "authorization") if body.get(k) is not None})
        return 200, hook

    def delete_webhook(self, req: Request) -> tuple[int, Any]:
        hook = self._webhook(req)
        del self.state["webhooks"][hook["id"]]
        self.state["webhook_secrets"].pop(hook["id"], None)
        return 200, hook

    # --- what the official Heroku CLI reads besides ------------------------------------------
    def _user(self, req: Request) -> dict[str, Any]:
        """The account, by `~`, id or email (there is only one user here)."""
        account = self.state["account"]
        if req.params["user"] not in ("~", account["id"], account["email"]):
            raise ApiError(404, "not_found", "Couldn't find that user.")
        return account

    def _default_domain_record(self, app: dict[str, Any]) -> dict[str, Any]:
        """The app's `kind: heroku` domain, <app>-<hex>.herokuapp.com (its web_url's host)."""
        hostname = urlsplit(app["web_url"]).hostname or f"{app['name']}.herokuapp.com"
        record: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"heroku:domain:{app['id']}"))}
        record.update(hostname=hostname, kind="heroku", app=_owner(app), status="none", cname=None, sni_endpoint=None)
        record.update(acm_status=None, acm_status_reason=None, created_at=app["created_at"], updated_at=app["created_at"])
        return record

    def list_domains(self, req: Request) -> tuple[int, Any]:
        app = self._app(req)
        custom = self._records("domains", app["id"])
        return self._ranged(req, [self._default_domain_record(app), *custom] if self.default_domain else custom)

    def _ranged(self, req: Request, items: list[dict[str, Any]], limit: int = 1000) -> tuple[int, Any]:
        """A list honouring Heroku's Range header, `<field> [[]first]..[last][; max=N][, order=desc]`: sorted
        by the field, from after `]first` (or at `first`), at most N; a 206 with Next-Range when cut."""
        spec = req.headers.get("range", "").strip()
        if not spec:
            return (206 if len(items) > limit else 200), items[:limit]
        head, _, params = spec.partition(";")
        field, _, bounds = head.strip().partition(" ")
        options = {}
        for part in params.replace(";", ",").split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                options[key.strip()] = value.strip()
        descending = options.get("order") == "desc"
        if items and all(field in item for item in items):
            items = sorted(items, key=lambda r: r[field], reverse=descending)
        first = bounds.strip().partition("..")[0]
        if first:
            exclusive, value = first.startswith("]"), first.lstrip("]")
            at = next((i for i, item in enumerate(items) if str(item.get(field)) == value), None)
            if at is not None:
                items = items[at + 1 if exclusive else at :]
        if options.get("max", "").isdigit():
            limit = min(int(options["max"]), 1000)
        if len(items) <= limit:
            return 200, items
        order = ", order=desc" if descending else ""
        req.response_headers = {"Next-Range": f"{field} ]{items[limit - 1][field]}..; max={limit}{order}"}  # type: ignore[attr-defined]
        return 206, items[:limit]

    # add-on services, plans and expansion (Accept-Expansion: addon_service,plan)
    def _service(self, name: str) -> dict[str, Any]:
        if name != PG and not any(a["addon_service"]["name"] == name for a in self.state["addons"].values()):
            raise ApiError(404, "not_found", "Couldn't find that add-on service.")
        service: dict[str, Any] = {**_ref("addon-service", name), "cli_plugin_name": None}
        service.update(human_name=SERVICE_NAMES.get(name, name.replace("-", " ").title()), state="ga")
        service.update(supports_multiple_installations=True, supports_sharing=True)
        service.update(created_at=CATALOG_TIME, updated_at=CATALOG_TIME)
        return service

    def _plan_view(self, slug: str) -> dict[str, Any]:
        """The plan record (schema definition `plan`) of "service:plan"."""
        service, _, plan = slug.partition(":")
        record: dict[str, Any] = {**_ref("plan", slug), "addon_service": _ref("addon-service", service)}
        record.update(compliance=None, default=plan == "essential-0", description=f"{SERVICE_NAMES.get(service, service)} {plan}")
        private = plan.startswith(("private", "shield"))
        record.update(human_name=plan.replace("-", " ").title(), installable_inside_private_network=private)
        record.update(installable_outside_private_network=not private, price=_price(service, plan))
        record.update(space_default=False, state="public", visible=True, created_at=CATALOG_TIME, updated_at=CATALOG_TIME)
        return record

    def list_plans(self, req: Request) -> tuple[int, Any]:
        service = self._service(req.params["service"])["name"]
        names = [p.name for p in POSTGRES_PLANS.values() if not p.retired] if service == PG else ["basic"]
        return 200, [self._plan_view(f"{service}:{name}") for name in names]

    def _plan_record(self, req: Request) -> dict[str, Any]:
        service = self._service(req.params["service"])["name"]
        ref = req.params["plan"].partition(":")[2] or req.params["plan"]
        names = [p.name for p in POSTGRES_PLANS.values() if not p.retired] if service == PG else ["basic"]
        found = next((n for n in names if ref in (n, _ref("plan", f"{service}:{n}")["id"])), None)
        if found is None:
            raise ApiError(404, "not_found", "Couldn't find that plan.")
        return self._plan_view(f"{service}:{found}")

    def _expanded(self, req: Request, addons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add-ons as answered: with Accept-Expansion, `addon_service` and `plan` become whole records."""
        wanted = {part.strip() for part in req.headers.get("accept-expansion", "").split(",")}
        shown = []
        for addon in addons:
            view = dict(addon)
            if "addon_service" in wanted:
                view["addon_service"] = self._service(addon["addon_service"]["name"])
            if "plan" in wanted:
                view["plan"] = self._plan_view(addon["plan"]["name"])
            shown.append(view)
        return shown

    # add-on attachments: one per config var prefix of an add-on (DATABASE, HEROKU_POSTGRESQL_AMBER)
    def _attachments(self, addon: dict[str, Any]) -> list[dict[str, Any]]:
        private = self.state["addons_private"][addon["id"]]
        names = [var.removesuffix("_URL") for var in private["vars"]]
        names = names or [addon["addon_service"]["name"].upper().replace("-", "_")]
        attachments = []
        for name in names:
            attachment: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"heroku:attachment:{addon['id']}:{name}"))}
            attachment.update(name=name, addon={"id": addon["id"], "name": addon["name"], "app": dict(addon["app"])})
            attachment.update(app=dict(addon["app"]), namespace=None, log_input_url=None, web_url=addon["web_url"])
            attachment.update(created_at=addon["created_at"], updated_at=addon["updated_at"])
            attachments.append(attachment)
        return attachments

    def _all_attachments(self, app_id: str | None = None) -> list[dict[str, Any]]:
        addons = self.state["addons"].values() if app_id is None else self._records("addons", app_id)
        return [attachment for addon in addons for attachment in self._attachments(addon)]

    def _included(self, req: Request, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Attachments as answered: Accept-Inclusion `addon:plan` adds the add-on's plan, `config_vars` the
        attachment's config var names."""
        wanted = {part.strip() for part in req.headers.get("accept-inclusion", "").split(",")}
        shown = []
        for attachment in attachments:
            view = copy.deepcopy(attachment)
            addon = self.state["addons"][attachment["addon"]["id"]]
            if "addon:plan" in wanted:
                view["addon"]["plan"] = dict(addon["plan"])
            if "config_vars" in wanted:
                private = self.state["addons_private"][addon["id"]]
                view["config_vars"] = [v for v in private["vars"] if v == f"{attachment['name']}_URL"]
            shown.append(view)
        return shown

    def _attachment(self, req: Request) -> dict[str, Any]:
        ref = req.params["attachment"]
        app_id = self._app(req)["id"] if "app" in req.params else None
        keys = ("id",) if app_id is None else ("id", "name")
        found = next((a for a in self._all_attachments(app_id) if ref in (a[k] for k in keys)), None)
        if found is None:
            raise ApiError(404, "not_found", "Couldn't find that add on attachment.")
        return found

    def list_app_attachments(self, req: Request) -> tuple[int, Any]:
        return 200, self._included(req, self._all_attachments(self._app(req)["id"]))

    def _resolve_app(self, body: dict[str, Any], ref_key: str) -> tuple[str, dict[str, Any] | None]:
        ref = body.get(ref_key)
        if not isinstance(ref, str) or not ref:
            raise _invalid(f"{ref_key} is required.")
        app_ref = body.get("app")
        if "::" in ref:
            app_ref, ref = ref.split("::", 1)
        if not app_ref:
            return ref, None
        app = self.find("apps", app_ref)
        if app is None:
            raise NotFoundError("app", "Couldn't find that app.")
        return ref, app

    def resolve_attachments(self, req: Request) -> tuple[int, Any]:
        """By attachment id, or (within the app) attachment name or its add-on's name or id."""
        body = req.body or {}
        ref, app = self._resolve_app(body, "addon_attachment")
        service = body.get("addon_service")
        found = []
        for attachment in self._all_attachments(app["id"] if app else None):
            names = (attachment["id"],) if app is None else (attachment["id"], attachment["name"], *attachment["addon"].values())
            addon = self.state["addons"][attachment["addon"]["id"]]
            if ref in names and (not service or addon["addon_service"]["name"] == service):
                found.append(attachment)
        if not found:
            raise NotFoundError("add_on attachment", "Couldn't find that add on attachment.")
        return 200, self._included(req, found)

    def resolve_addons(self, req: Request) -> tuple[int, Any]:
        """By add-on id or name, or (within the app) the name of one of its attachments."""
        body = req.body or {}
        ref, app = self._resolve_app(body, "addon")
        service = body.get("addon_service")
        found = []
        for addon in self._records("addons", app["id"]) if app else self.state["addons"].values():
            names = {addon["id"], addon["name"]} | ({a["name"] for a in self._attachments(addon)} if app else set())
            if ref in names and (not service or addon["addon_service"]["name"] == service):
                found.append(addon)
        if not found:
            raise NotFoundError("add_on", "Couldn't find that add on.")
        return 200, self._expanded(req, found)

    # dynos: what the formation runs, as if the app were deployed (see the module docstring)
    def _dynos(self, app: dict[str, Any]) -> list[dict[str, Any]]:
        releases = self.state["releases"].get(app["id"]) or []
        current = next((r for r in reversed(releases) if r["status"] == "succeeded"), None)
        dynos = []
        for formation in self.state["formation"][app["id"]].values():
            for number in range(1, formation["quantity"] + 1):
                name = f"{formation['type']}.{number}"
                dyno: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"heroku:dyno:{app['id']}:{name}"))}
                dyno.update(name=name, type=formation["type"], size=formation["size"], state="up", attach_url=None)
                dyno.update(command=formation["command"], app=_owner(app))
                dyno["release"] = {"id": current["id"], "version": current["version"]} if current else None
                dyno.update(created_at=formation["updated_at"], updated_at=formation["updated_at"])
                dynos.append(dyno)
        return dynos

    def _dyno(self, req: Request) -> dict[str, Any]:
        ref = req.params["dyno"]
        found = next((d for d in self._dynos(self._app(req)) if ref in (d["id"], d["name"])), None)
        if found is None:
            raise ApiError(404, "not_found", "Couldn't find that dyno.")
        return found

    def _restart(self, req: Request) -> dict[str, Any]:
        """ps:restart: nothing runs, so there is nothing to restart; Heroku answers an empty 202."""
        if "dyno" in req.params:
            self._dyno(req)
        else:
            self._app(req)
        return {}

    def refuse(self, message: str) -> Handler:
        """What cannot work without a dyno runtime (`heroku run`, `heroku logs`): a clear 422 at once."""

        def refused(req: Request) -> tuple[int, Any]:
            self._app(req)  # an unknown app is still a 404, as on Heroku
            raise ApiError(422, "sandbox_unsupported", message)

        return refused

    def _owner_collaborator(self, app: dict[str, Any]) -> dict[str, Any]:
        """A personal app's one collaborator: its owner."""
        account = self.state["account"]
        collaborator: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"heroku:collaborator:{app['id']}"))}
        collaborator.update(app=_owner(app), permissions=[], role="owner", created_at=app["created_at"])
        collaborator.update(updated_at=app["created_at"], user={k: account[k] for k in ("email", "federated", "id")})
        return collaborator

    def no_pipeline(self, req: Request) -> tuple[int, Any]:
        self._app(req)
        raise ApiError(404, "not_found", "This app is not in a pipeline: there are no pipelines in the sandbox.")

    # --- the Data API on this port, and backup downloads over TLS -----------------------------
    def _data_dispatch(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        """A Data API request that came to this port (the CLI's way): answered by the Data API emulator,
        its backup URLs pointing here, https when this port speaks TLS."""
        assert self.data_api is not None
        status, body, headers = self.data_api.dispatch(request)
        if self.server is not None:
            scheme = "https" if self.certificate else "http"
            mine = f"{scheme}://127.0.0.1:{self.server.server_address[1]}{DOWNLOAD_PATH}"
            body = _replaced(body, f"{self.data_api.base_url}{DOWNLOAD_PATH}", mine)
        return status, body, headers

    def record(self, entry: Logged) -> None:
        """Data API requests served on this port are logged as the Data API's."""
        if self.data_api is not None and entry.path.startswith(DATA_PATHS):
            self.data_api.record(Logged(self.data_api.service, entry.method, entry.path, entry.status, entry.ms))
        else:
            super().record(entry)

    def start(self, port: int = 0) -> str:
        """Plain HTTP for the API; TLS too on the same port (for the https backup URLs the CLI downloads),
        with a self-signed loopback certificate kept beside the state (see sandbox/tls.py)."""
        url = super().start(port)
        assert self.server is not None
        folder = self.state_file.parent / "tls" if self.state_file else Path(tempfile.mkdtemp(prefix="heroku-tls-"))
        made = tls.certificate(folder)
        if made:
            self.certificate = made[0]
            tls.serve_tls_too(self.server, *made)
        emulator, json_handler = self, self.server.RequestHandlerClass

        class Handler(json_handler):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                data = emulator.data_api
                if not (data is not None and self.path.startswith(DOWNLOAD_PATH) and data.serve_download(self)):
                    super().do_GET()

        self.server.RequestHandlerClass = Handler
        return url


def _replaced(body: Any, old: str, new: str) -> Any:
    """`body` with every string starting with `old` starting with `new` instead."""
    if isinstance(body, str):
        return new + body[len(old) :] if body.startswith(old) else body
    if isinstance(body, list):
        return [_replaced(item, old, new) for item in body]
    if isinstance(body, dict):
        return {key: _replaced(value, old, new) for key, value in body.items()}
    return body
