"""Vercel REST API emulator: teams, projects, env vars, project domains, deployment
protection, and the two public lists the Terraform provider's validators fetch.

Routes and JSON shapes are the ones github.com/vercel/terraform-provider-vercel v1.14.1
(the upstream of pulumiverse-vercel 1.14.3) sends and parses (its client/*.go), each
also under the version Vercel documents today (e.g. GET /v10 and /v9/projects/{id}).
With VERCEL_API_URL pointing here the plugin sends every Vercel host to this server and
names the original host in X-Forwarded-Host, which is how "/" tells the framework list
(api-frameworks.zeit.sh) from the region list (dcs.vercel-infra.com).

Rules modelled on the real API (codes and messages are close, not verbatim): Bearer auth;
errors as {"error": {"code", "message"}};
`teamId` scopes every call (id or slug); sensitive values are never returned, and are
refused on development; a key may exist once per target and branch (400 ENV_CONFLICT)
unless the create asks `?upsert=true`, which overwrites; gitBranch only on preview; a
domain belongs to one project; deleting a project deletes its env vars and domains.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import re
import secrets
import string
import time
from pathlib import Path
from typing import Any

from sandbox.core import ApiError, Emulator, Handler, Request

FRAMEWORKS_HOST = "api-frameworks.zeit.sh"
REGIONS_HOST = "dcs.vercel-infra.com"
TARGETS = ("production", "preview", "development")

_FRAMEWORKS = """nextjs Next.js | vite Vite | remix Remix | react-router React Router | astro Astro | sveltekit SvelteKit |
sveltekit-1 SvelteKit (v1) | svelte Svelte | nuxtjs Nuxt | vue Vue.js | create-react-app Create React App | gatsby Gatsby |
angular Angular | solidstart SolidStart (v0) | solidstart-1 SolidStart (v1) | preact Preact | ember Ember.js | hugo Hugo |
jekyll Jekyll | eleventy Eleventy | docusaurus-2 Docusaurus (v2+) | docusaurus Docusaurus (v1) | hexo Hexo | zola Zola |
hydrogen Hydrogen | redwoodjs RedwoodJS | blitzjs Blitz.js | storybook Storybook | vitepress VitePress | vuepress VuePress |
parcel Parcel | sanity Sanity | sanity-v3 Sanity (v3) | ionic-react Ionic React | ionic-angular Ionic Angular |
polymer Polymer | stencil Stencil | umijs UmiJS | saber Saber | gridsome Gridsome | scully Scully | dojo Dojo |
brunch Brunch | middleman Middleman | mkdocs MkDocs | hono Hono | express Express | nestjs NestJS | fastapi FastAPI |
flask Flask | nitro Nitro"""
FRAMEWORKS = dict(item.strip().split(" ", 1) for item in _FRAMEWORKS.split("|"))

_REGIONS = """iad1 Washington, D.C., USA | sfo1 San Francisco, USA | pdx1 Portland, USA | cle1 Cleveland, USA |
gru1 São Paulo, Brazil | lhr1 London, United Kingdom | dub1 Dublin, Ireland | cdg1 Paris, France |
fra1 Frankfurt, Germany | arn1 Stockholm, Sweden | bom1 Mumbai, India | sin1 Singapore | hkg1 Hong Kong |
hnd1 Tokyo, Japan | kix1 Osaka, Japan | icn1 Seoul, South Korea | syd1 Sydney, Australia | cpt1 Cape Town, South Africa"""
REGIONS = dict(item.strip().split(" ", 1) for item in _REGIONS.split("|"))
CAPS = ["V2_DEPLOYMENT_CREATE", "BUILDS", "FUNCTIONS"]

# Every project field the provider reads or PATCHes, with a new project's value; a PATCH
# may set exactly these (plus name), anything else is refused as the real API does.
PROJECT_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(["framework", "rootDirectory", "buildCommand", "devCommand", "installCommand", "outputDirectory"]),
    **dict.fromkeys(["commandForIgnoringBuildStep", "publicSource", "enablePreviewFeedback", "gitComments"]),
    **dict.fromkeys(["passwordProtection", "trustedIps", "optionsAllowlist"]),  # deployment protection: off
    **dict.fromkeys(["gitLFS", "serverlessFunctionZeroConfigFailover", "customerSupportCodeVisibility"], False),
    **dict.fromkeys(["productionDeploymentsFastLane", "directoryListing"], False),
    **dict.fromkeys(["autoExposeSystemEnvs", "autoAssignCustomDomains", "gitForkProtection"], True),
    "ssoProtection": {"deploymentType": "prod_deployment_urls_and_all_previews"},  # Vercel's "standard protection"
    "oidcTokenConfig": {"enabled": False},
    "serverlessFunctionRegion": "iad1",
    "skewProtectionMaxAge": 0,
    "resourceConfig": {},
}
COERCED = {"buildCommand", "devCommand", "installCommand", "outputDirectory", "publicSource"}  # falsy -> null on create
ENV_FIELDS = {"key", "value", "target", "type", "gitBranch", "comment"}
ENV_TYPES = {"encrypted", "sensitive", "plain"}
NAME_RE = re.compile(r"^[a-z0-9._-]{1,100}$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _now() -> int:
    return int(time.time() * 1000)  # Vercel timestamps are epoch milliseconds


def _new_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _bad(message: str, code: str = "bad_request", status: int = 400) -> ApiError:
    return ApiError(status, code, message)


class VercelApi(Emulator):
    service = "vercel"

    def __init__(self, *args: Any, token: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.token = token  # None: any Bearer token is accepted
        route = self.route
        route("GET", "/", self.public_list)
        route("GET", "/v2/teams/{team}", self.get_team)
        for v in ("v8", "v9", "v10"):
            route("GET", f"/{v}/projects/{{project}}/env", self.list_envs)
        for v in ("v8", "v11"):
            route("POST", f"/{v}/projects", self.create_project)
        for v in ("v9", "v10"):
            route("GET", f"/{v}/projects/{{project}}", self.get_project)
        route("PATCH", "/v9/projects/{project}", self.update_project)
        route("PATCH", "/v10/projects/{project}/protection-bypass", self.protection_bypass)
        for v in ("v8", "v9"):
            route("DELETE", f"/{v}/projects/{{project}}", self.delete_project)
            route("DELETE", f"/{v}/projects/{{project}}/env/{{env}}", self.delete_env)
            route("GET", f"/{v}/projects/{{project}}/domains/{{domain}}", self.get_domain)
            route("PATCH", f"/{v}/projects/{{project}}/domains/{{domain}}", self.update_domain)
            route("DELETE", f"/{v}/projects/{{project}}/domains/{{domain}}", self.delete_domain)
        route("POST", "/v9/projects/{project}/env", self.create_env)  # the provider's: answers the variable
        route("POST", "/v10/projects/{project}/env", self.create_envs)  # one or many: {"created", "failed"}
        route("GET", "/v1/projects/{project}/env/{env}", self.get_env)
        route("PATCH", "/v9/projects/{project}/env/{env}", self.update_env)
        route("POST", "/v10/projects/{project}/domains", self.create_domain)

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        def copied(req: Request) -> tuple[int, Any]:
            status, body = handler(req)  # runs under the lock: the copy cannot see a concurrent write
            return status, copy.deepcopy(body)

        super().route(method, pattern, copied)

    def initial_state(self) -> dict[str, Any]:
        team = {"id": "team_sandbox000000000000000001", "slug": "sandbox", "name": "Sandbox"}
        return {
            "user": {"id": "user_sandbox000000000000000001", "username": "sandbox"},
            "teams": {team["id"]: {**team, "sensitiveEnvironmentVariablePolicy": "off"}},
            "projects": {},  # project id -> project (as answered)
            "envs": {},  # env id -> variable (+ projectId)
            "domains": {},  # domain name -> project domain
        }

    def authorized(self, request: Request) -> bool:
        if request.headers.get("x-forwarded-host") in (FRAMEWORKS_HOST, REGIONS_HOST):
            return True  # the two lists are public: the validators send no token
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and len(auth) > 7 and (self.token is None or auth[7:] == self.token)

    def error_body(self, status: int, error_id: str, message: str) -> Any:
        return {"error": {"code": error_id, "message": message}}

    def fault_exempt(self, request: Request) -> bool:
        # The validators' lists come from public CDN hosts, not the rate-limited API.
        return request.headers.get("x-forwarded-host") in (FRAMEWORKS_HOST, REGIONS_HOST)

    # --- lookups -------------------------------------------------------------------------
    def _account(self, req: Request) -> str:
        """The account a call acts for: the team named by ?teamId= (id or slug), else the user."""
        team_ref = req.query.get("teamId") or req.query.get("slug")
        if not team_ref:
            return str(self.state["user"]["id"])
        for team in self.state["teams"].values():
            if team_ref in (team["id"], team["slug"]):
                return str(team["id"])
        raise _bad("Not authorized", "forbidden", 403)

    def _project(self, req: Request) -> dict[str, Any]:
        account, ref = self._account(req), req.params["project"]
        for project in self.state["projects"].values():
            if project["accountId"] == account and ref in (project["id"], project["name"]):
                return project
        raise _bad("Project not found", "not_found", 404)

    def _env(self, req: Request) -> dict[str, Any]:
        project = self._project(req)
        env = self.state["envs"].get(req.params["env"])
        if env is None or env["projectId"] != project["id"]:
            raise _bad("Environment Variable not found", "not_found", 404)
        return env

    def _domain(self, req: Request) -> dict[str, Any]:
        project = self._project(req)
        domain = self.state["domains"].get(req.params["domain"].lower())
        if domain is None or domain["projectId"] != project["id"]:
            raise _bad(f"The domain {req.params['domain']} is not assigned to this project", "not_found", 404)
        return domain

    # --- public lists and teams ----------------------------------------------------------
    def public_list(self, req: Request) -> tuple[int, Any]:
        host = req.headers.get("x-forwarded-host")
        if host == FRAMEWORKS_HOST:  # the provider reads [{"slug"}]
            return 200, [{"name": name, "slug": slug} for slug, name in FRAMEWORKS.items()]
        if host == REGIONS_HOST:  # {region: {"caps"}}: regions with V2_DEPLOYMENT_CREATE are valid
            return 200, {code: {"code": code, "city": city, "caps": CAPS} for code, city in REGIONS.items()}
        raise _bad("The page could not be found", "not_found", 404)

    def get_team(self, req: Request) -> tuple[int, Any]:
        for team in self.state["teams"].values():
            if req.params["team"] in (team["id"], team["slug"]):
                return 200, team
        raise _bad("Team not found", "not_found", 404)

    # --- projects --------------------------------------------------------------------------
    def _check_project_fields(self, body: dict[str, Any], allowed: set[str]) -> None:
        extra = sorted(set(body) - allowed)
        if extra:
            raise _bad(f"Invalid request: should NOT have additional property `{extra[0]}`.")
        if body.get("framework") is not None and body["framework"] not in FRAMEWORKS:
            raise _bad(f"Invalid request: `framework` should be one of the framework slugs, got {body['framework']!r}.")
        if body.get("serverlessFunctionRegion") and body["serverlessFunctionRegion"] not in REGIONS:
            raise _bad(f"Invalid region {body['serverlessFunctionRegion']!r}.")

    def _check_name(self, name: Any, account: str, project_id: str | None = None) -> None:
        if not isinstance(name, str) or not NAME_RE.match(name) or "---" in name:
            raise _bad("Project names can be up to 100 characters long and must be lowercase: letters, digits, '.', '_', '-'.")
        for other in self.state["projects"].values():
            if other["accountId"] == account and other["name"] == name and other["id"] != project_id:
                raise _bad(f"Project {name!r} already exists, please use a different name.", "conflict", 409)

    def create_project(self, req: Request) -> tuple[int, Any]:
        body, account = req.body or {}, self._account(req)
        self._check_project_fields(body, {*PROJECT_DEFAULTS, "name", "environmentVariables", "gitRepository"})
        self._check_name(body.get("name"), account)
        if body.get("gitRepository"):  # linking needs a Git integration, which is not emulated
            raise _bad("This sandbox has no Git integration: create the project without gitRepository.", "repo_not_found")
        envs = [self._new_env(env, "") for env in body.get("environmentVariables") or []]
        now = _now()
        fields = {k: v for k, v in body.items() if k in PROJECT_DEFAULTS and v is not None and (v or k not in COERCED)}
        project = {**PROJECT_DEFAULTS, **fields, "id": _new_id("prj_", 28), "name": body["name"], "accountId": account}
        project.update(createdAt=now, updatedAt=now, link=None, protectionBypass={})
        self._put_envs(project["id"], envs, upsert=False)  # first: a clash must leave no project behind
        self.state["projects"][project["id"]] = project
        return 200, project

    def get_project(self, req: Request) -> tuple[int, Any]:
        return 200, self._project(req)

    def update_project(self, req: Request) -> tuple[int, Any]:
        project, body = self._project(req), dict(req.body or {})
        self._check_project_fields(body, {*PROJECT_DEFAULTS, "name"})
        if "name" in body:
            self._check_name(body["name"], project["accountId"], project["id"])
        if isinstance(body.get("passwordProtection"), dict):  # the password is write-only
            body["passwordProtection"] = {"deploymentType": body["passwordProtection"].get("deploymentType")}
        if (body.get("ssoProtection") or {}).get("deploymentType") == "none":
            body["ssoProtection"] = None  # "none" is how the provider says "off"; Vercel stores null
        if "resourceConfig" in body:
            body["resourceConfig"] = {**project["resourceConfig"], **(body["resourceConfig"] or {})}
        project.update(body, updatedAt=_now())  # a null clears a field, an omitted one stays
        return 200, project

    def delete_project(self, req: Request) -> tuple[int, Any]:
        project = self._project(req)
        del self.state["projects"][project["id"]]
        for table in ("envs", "domains"):  # Vercel prunes what belonged to the project
            self.state[table] = {k: v for k, v in self.state[table].items() if v["projectId"] != project["id"]}
        return 204, None

    def protection_bypass(self, req: Request) -> tuple[int, Any]:
        project, body = self._project(req), req.body or {}
        bypass = project["protectionBypass"]
        revoke = body.get("revoke")
        if revoke:
            if revoke.get("secret") not in bypass:
                raise _bad("Protection bypass secret not found", "not_found", 404)
            del bypass[revoke["secret"]]
        else:  # {} (or {"generate": ...}): one automation secret per project
            bypass.clear()
            user = self.state["user"]["id"]
            bypass[secrets.token_hex(16)] = {"createdAt": _now(), "createdBy": user, "scope": "automation-bypass"}
        return 200, {"protectionBypass": bypass}

    # --- environment variables -------------------------------------------------------------
    def _new_env(self, body: Any, project_id: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
        """A validated variable from a create body, or from an edit merged onto `current`."""
        if not isinstance(body, dict):
            raise _bad("Invalid request: each environment variable must be an object.")
        extra = sorted(set(body) - ENV_FIELDS)
        if extra:
            raise _bad(f"Invalid request: should NOT have additional property `{extra[0]}`.")
        env = {**(current or {"type": "encrypted", "gitBranch": None, "comment": ""}), **body}
        if not isinstance(env.get("key"), str) or not ENV_KEY_RE.match(env["key"]):
            raise _bad("Invalid request: `key` must be letters, digits and underscores, not starting with a digit.")
        if not isinstance(env.get("value"), str):
            raise _bad("Invalid request: missing required property `value`.")
        if env["type"] not in ENV_TYPES:
            raise _bad(f"Invalid request: `type` should be one of {sorted(ENV_TYPES)}.")
        target = env.get("target")
        if not isinstance(target, list) or not target or not set(target) <= set(TARGETS):
            raise _bad("Invalid request: `target` should be a non-empty list of production, preview, development.")
        if env["type"] == "sensitive" and "development" in target:
            raise _bad("Sensitive Environment Variables cannot be created in the Development Environment.")
        if env.get("gitBranch") and target != ["preview"]:
            raise _bad("A Git branch can only be set on Environment Variables that target preview only.")
        now = _now()
        env.update(target=sorted(set(target), key=TARGETS.index), projectId=project_id, updatedAt=now)
        env.setdefault("createdAt", now)
        env.setdefault("id", _new_id("", 16))
        env.setdefault("configurationId", None)
        return env

    def _put_envs(self, project_id: str, envs: list[dict[str, Any]], upsert: bool) -> list[dict[str, Any]]:
        """Stores all the variables or none. A key lives once per target and branch: a clash is
        refused, unless upsert lets the new variable replace the one existing variable it clashes with."""
        pool = [e for e in self.state["envs"].values() if e["projectId"] == project_id]
        for i, env in enumerate(envs):
            env["projectId"] = project_id
            clashes = [
                other
                for other in pool + envs[:i]
                if other["id"] != env["id"]
                and other["key"] == env["key"]
                and (other.get("gitBranch") or None) == (env.get("gitBranch") or None)
                and set(other["target"]) & set(env["target"])
            ]
            if clashes and not (upsert and len(clashes) == 1 and clashes[0]["id"] in self.state["envs"]):
                taken = sorted(set(env["target"]) & set(clashes[0]["target"]), key=TARGETS.index)
                raise _bad(f"A variable with the name `{env['key']}` already exists for the target {taken[0]}.", "ENV_CONFLICT")
            if clashes:
                env.update(id=clashes[0]["id"], createdAt=clashes[0]["createdAt"])
        for env in envs:
            self.state["envs"][env["id"]] = env
        return envs

    def _shown(self, env: dict[str, Any], decrypt: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in env.items() if k != "projectId"}
        if env["type"] == "sensitive":  # write-only: never answered, not even encrypted
            del out["value"]
            out["decrypted"] = False
        elif not decrypt and env["type"] == "encrypted":  # as Vercel answers it without ?decrypt=true
            out["value"] = base64.b64encode(hashlib.sha256(env["value"].encode()).digest()).decode()
            out["decrypted"] = False
        else:
            out["decrypted"] = True
        return out

    def create_env(self, req: Request) -> tuple[int, Any]:
        project = self._project(req)
        [env] = self._put_envs(project["id"], [self._new_env(req.body, project["id"])], req.query.get("upsert") == "true")
        return 201, self._shown(env, decrypt=False)

    def create_envs(self, req: Request) -> tuple[int, Any]:
        project, body = self._project(req), req.body
        many = isinstance(body, list)
        envs = [self._new_env(item, project["id"]) for item in (body if many else [body])]
        created = [self._shown(e, False) for e in self._put_envs(project["id"], envs, req.query.get("upsert") == "true")]
        return 201, {"created": created if many else created[0], "failed": []}

    def list_envs(self, req: Request) -> tuple[int, Any]:
        project = self._project(req)
        decrypt = req.query.get("decrypt") == "true"
        envs = [self._shown(e, decrypt) for e in self.state["envs"].values() if e["projectId"] == project["id"]]
        return 200, {"envs": envs, "pagination": {"count": len(envs), "next": None, "prev": None}}

    def get_env(self, req: Request) -> tuple[int, Any]:
        return 200, self._shown(self._env(req))  # this route answers the decrypted value

    def update_env(self, req: Request) -> tuple[int, Any]:
        current = self._env(req)
        env = self._new_env(req.body or {}, current["projectId"], current=current)
        self._put_envs(current["projectId"], [env], upsert=False)
        return 200, self._shown(env, decrypt=False)

    def delete_env(self, req: Request) -> tuple[int, Any]:
        env = self._env(req)
        del self.state["envs"][env["id"]]
        return 200, self._shown(env, decrypt=False)

    # --- project domains -------------------------------------------------------------------
    def _check_redirect(self, domain: dict[str, Any]) -> None:
        redirect, code = domain.get("redirect"), domain.get("redirectStatusCode")
        if code is not None and (not redirect or code not in (301, 302, 307, 308)):
            raise _bad("`redirectStatusCode` must be 301, 302, 307 or 308, and needs `redirect`.")
        target = self.state["domains"].get(redirect or "")
        if redirect and (target is None or target["projectId"] != domain["projectId"] or redirect == domain["name"]):
            raise _bad(f"The redirect target {redirect} must be another domain of this project.", "invalid_redirect")

    def create_domain(self, req: Request) -> tuple[int, Any]:
        project, body = self._project(req), req.body or {}
        extra = sorted(set(body) - {"name", "gitBranch", "redirect", "redirectStatusCode"})
        name = str(body.get("name") or "").lower()
        if extra or not DOMAIN_RE.match(name):
            raise _bad(f"Invalid request: {'unknown property ' + extra[0] if extra else 'invalid domain name ' + repr(name)}.")
        if name in self.state["domains"]:
            raise _bad(f"Cannot add {name} since it's already in use by a project.", "domain_already_in_use", 409)
        now = _now()
        domain = {"name": name, "apexName": ".".join(name.split(".")[-2:]), "projectId": project["id"], "verified": True}
        domain.update({k: body.get(k) or None for k in ("redirect", "redirectStatusCode", "gitBranch")})
        domain.update(customEnvironmentId=None, createdAt=now, updatedAt=now)
        self._check_redirect(domain)
        self.state["domains"][name] = domain
        return 200, domain

    def get_domain(self, req: Request) -> tuple[int, Any]:
        return 200, self._domain(req)

    def update_domain(self, req: Request) -> tuple[int, Any]:
        domain, body = self._domain(req), req.body or {}
        extra = sorted(set(body) - {"gitBranch", "redirect", "redirectStatusCode"})
        if extra:
            raise _bad(f"Invalid request: should NOT have additional property `{extra[0]}`.")
        updated = {**domain, **body, "updatedAt": _now()}
        self._check_redirect(updated)
        domain.update(updated)
        return 200, domain

    def delete_domain(self, req: Request) -> tuple[int, Any]:
        del self.state["domains"][self._domain(req)["name"]]
        return 200, {}

    # --- for the stand-in apps host (sandbox/apps.py) ----------------------------------------
    def web_hosts(self) -> dict[str, str]:
        """Host name -> project id: each project's <name>.vercel.app and its domains. Project names are
        unique per account only; when two accounts share one, the older project keeps the host."""
        with self.lock:
            projects = sorted(self.state["projects"].values(), key=lambda p: p["createdAt"], reverse=True)
            hosts = {f"{p['name']}.vercel.app": p["id"] for p in projects}
            hosts.update({name: d["projectId"] for name, d in self.state["domains"].items()})
            return hosts

    def live_env(self, ref: str) -> tuple[str, str, dict[str, str]] | None:
        """A project's (by id, else the oldest of that name) id, name and production env vars (sensitive
        ones included: the deployed app sees their values, only the API hides them)."""
        with self.lock:
            projects = sorted(self.state["projects"].values(), key=lambda p: p["createdAt"])
            project = next((p for p in projects if p["id"] == ref), None) or next((p for p in projects if p["name"] == ref), None)
            if project is None:
                return None
            envs = self.state["envs"].values()
            env = {e["key"]: e["value"] for e in envs if e["projectId"] == project["id"] and "production" in e["target"]}
            return project["id"], project["name"], env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.vercel", description="Run the Vercel API emulator.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--state", type=Path, help="JSON file the state is kept in across restarts")
    parser.add_argument("--log", type=Path, help="append one JSON line per request to this file")
    parser.add_argument("--token", help="the only API token accepted (default: any Bearer token)")
    args = parser.parse_args(argv)
    api = VercelApi(args.state, args.log, token=args.token)
    print(f"Vercel API emulator on {api.start(args.port)}  (VERCEL_API_URL for the vercel plugin)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()


if __name__ == "__main__":
    main()
