"""The stack spec: what a stack's `launchplan:*` config may declare, validated
before any resource is registered.

Every problem is collected, not just the first, and each one names the stack,
the full key path (`launchplan:heroku.apps.<app>.postgres.plan`) and the fix.
Values are never echoed back in messages: a misplaced credential must not end
up in a terminal or a CI log because it failed validation.
"""

from __future__ import annotations

import difflib
import json
import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, ValidationInfo
from pydantic import field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from infra import catalog
from infra.stack_config import StackConfig

NAMESPACE = "launchplan"
Target = Literal["production", "preview", "development"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str

    def render(self, stack: str) -> str:
        return f"[stack {stack}] {self.path}: {self.message}\n    fix: {self.fix}"


class SpecError(Exception):
    """Raised with every problem found in a stack's config."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        body = "\n".join(p.render(stack) for p in problems)
        super().__init__(f"Stack '{stack}' config has {count}; nothing was changed.\n{body}")


def _fail(message: str, fix: str, key: str | None = None) -> PydanticCustomError:
    """A validation error with its fix; `key` extends the path to one entry of a mapping."""
    return PydanticCustomError("launchplan", message, {"fix": fix, "key": key or ""})


def _closest(word: str, options: set[str] | list[str] | tuple[str, ...]) -> str:
    match = difflib.get_close_matches(word, list(options), n=1)
    return f"did you mean '{match[0]}'? " if match else ""


def _secret_cmd(stack: str, key: str) -> str:
    return f"pulumi config set --secret --stack {stack} {key}"


def _config_key_for(env_name: str) -> str:
    """SMTP_PASSWORD -> smtpPassword: the config key we suggest for an env var."""
    return to_camel(env_name.lower())


def full_key(key: str) -> str:
    return key if ":" in key else f"{NAMESPACE}:{key}"


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


# --- Heroku ------------------------------------------------------------------------------


class GeneratedSecret(Model):
    """A secret the stack owns (e.g. Rails SECRET_KEY_BASE): made by pulumi-random once,
    kept across updates, and changed only when these settings change."""

    length: int = Field(64, ge=32, le=512)


class Backups(Model):
    hour: int
    timezone: str

    @field_validator("hour")
    @classmethod
    def _hour(cls, hour: int) -> int:
        if not 0 <= hour <= 23:
            raise _fail(f"hour {hour} is outside 0-23", "use a 24-hour clock hour, e.g. 2 for 02:00")
        return hour

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, tz: str) -> str:
        zones = _timezones()
        if tz not in zones:
            raise _fail(
                f"'{tz}' is not an IANA timezone",
                f"{_closest(tz, zones)}use a name from the IANA database, e.g. America/Los_Angeles or UTC",
            )
        return tz


@cache
def _timezones() -> set[str]:
    return zoneinfo.available_timezones()


class Grant(Model):
    schema_name: str = Field("public", alias="schema")
    object_type: Literal["table", "sequence", "function", "schema", "database"] = "table"
    privileges: list[
        Literal[
            "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER",
            "USAGE", "CREATE", "CONNECT", "TEMPORARY", "EXECUTE", "ALL",
        ]
    ] = Field(min_length=1)


class Role(Model):
    login: bool = True
    connection_limit: int = Field(-1, ge=-1)
    grants: list[Grant] = []


def _unique_identifiers(values: list[str], what: str) -> list[str]:
    for value in values:
        if not catalog.PG_IDENTIFIER.match(value):
            raise _fail(f"'{value}' is not a valid {what} name", "use lower-case letters, digits and _")
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise _fail(f"{what} listed twice: {', '.join(dupes)}", "list each once")
    return sorted(values)  # order carries no meaning; sorted keeps diffs quiet


class Postgres(Model):
    plan: str
    protect: bool | None = None
    backups: Backups | None = None
    extensions: list[str] = []
    schemas: list[str] = []
    roles: dict[str, Role] = {}
    sslmode: Literal["require", "verify-full", "disable"] = "require"

    @field_validator("plan")
    @classmethod
    def _plan(cls, plan: str) -> str:
        plan = plan.removeprefix("heroku-postgresql:")
        info = catalog.POSTGRES_PLANS.get(plan)
        if info is None:
            current = [p for p, i in catalog.POSTGRES_PLANS.items() if not i.retired]
            raise _fail(
                f"'{plan}' is not a Heroku Postgres plan",
                f"{_closest(plan, current)}use essential-0..2, or standard-, premium-, private- or shield- "
                "followed by 0 or 2..10",
            )
        if info.retired:
            raise _fail(f"plan '{plan}' is retired by Heroku", f"use '{info.replacement}'")
        return plan

    @field_validator("extensions", "schemas")
    @classmethod
    def _names(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _unique_identifiers(values, info.field_name[:-1] if info.field_name else "name")

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: dict[str, Role]) -> dict[str, Role]:
        for name in roles:
            if not catalog.PG_IDENTIFIER.match(name):
                raise _fail(f"'{name}' is not a valid role name", "use lower-case letters, digits and _", name)
        return roles

    @model_validator(mode="after")
    def _backups_fit_plan(self) -> Postgres:
        info = catalog.POSTGRES_PLANS[self.plan]
        if self.backups and not info.scheduled_backups:
            raise _fail(
                f"plan '{self.plan}' cannot hold scheduled backups (backups are declared)",
                "use a plan with scheduled backups, e.g. standard-0, or remove 'backups'",
            )
        return self


class HealthCheck(Model):
    path: str
    expect_status: int = Field(200, ge=100, le=599)
    timeout_seconds: float = Field(10.0, gt=0, le=120)

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") or " " in path:
            raise _fail(f"'{path}' is not a URL path", "start it with '/', e.g. /healthz")
        return path


class Formation(Model):
    size: str
    quantity: int = Field(1, ge=0, le=100)

    @field_validator("size")
    @classmethod
    def _size(cls, size: str) -> str:
        size = size.lower()
        if size not in catalog.DYNO_SIZES:
            raise _fail(
                f"'{size}' is not a Heroku dyno size",
                f"{_closest(size, catalog.DYNO_SIZES)}use one of: {', '.join(sorted(catalog.DYNO_SIZES))}",
            )
        return size

    @model_validator(mode="after")
    def _scale(self) -> Formation:
        if self.size in catalog.SINGLE_DYNO_SIZES and self.quantity > 1:
            raise _fail(
                f"{self.size} dynos cannot run {self.quantity} per process type",
                "use quantity 1, or a standard-1x (or larger) size to scale out",
            )
        return self


def _env_names(env: dict[str, Any], extend_path: bool = True) -> None:
    for name in env:
        if not catalog.ENV_NAME.match(name):
            raise _fail(f"'{name}' is not a valid env var name", "use letters, digits and _ (not starting with a digit)",
                        name if extend_path else None)


def _hostnames(domains: list[str]) -> list[str]:
    for domain in domains:
        if not catalog.HOSTNAME.match(domain):
            raise _fail(f"'{domain}' is not a hostname", "write a bare lower-case hostname, e.g. app.example.com")
    dupes = sorted({d for d in domains if domains.count(d) > 1})
    if dupes:
        raise _fail(f"domain listed twice: {', '.join(dupes)}", "list each domain once")
    return sorted(domains)


class HerokuApp(Model):
    region: str = "us"
    stack: str = "heroku-24"
    formation: dict[str, Formation] = {}
    domains: list[str] = []
    env: dict[str, str] = {}
    secret_env: dict[str, str] = {}
    generated_env: dict[str, GeneratedSecret] = {}
    postgres: Postgres | None = None
    health_check: HealthCheck | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, region: str) -> str:
        if region not in catalog.HEROKU_REGIONS:
            raise _fail(f"'{region}' is not a Heroku Common Runtime region", "use 'us' or 'eu'")
        return region

    @field_validator("stack")
    @classmethod
    def _stack(cls, stack: str) -> str:
        if stack not in catalog.HEROKU_STACKS:
            raise _fail(
                f"'{stack}' is not a supported Heroku stack",
                f"{_closest(stack, catalog.HEROKU_STACKS)}use one of: {', '.join(sorted(catalog.HEROKU_STACKS))}",
            )
        return stack

    @field_validator("formation")
    @classmethod
    def _formation(cls, formation: dict[str, Formation]) -> dict[str, Formation]:
        for process in formation:
            if not catalog.PROCESS_TYPE.match(process):
                raise _fail(f"'{process}' is not a Procfile process type", "use lower-case letters, e.g. web or worker", process)
        return formation

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        return _hostnames(domains)

    @field_validator("env")
    @classmethod
    def _plain_env(cls, env: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        _env_names(env)
        stack = (info.context or {}).get("stack", "STACK")
        for name in env:
            if catalog.HEROKU_MANAGED_VARS.match(name):
                raise _fail(f"{name} is set by Heroku itself", f"remove {name}: the Postgres add-on provides it", name)
            if catalog.looks_secret(name):
                key = _config_key_for(name)
                raise _fail(
                    f"{name} looks like a secret but is given as a plain value",
                    f"remove the value from this file, run `{_secret_cmd(stack, full_key(key))}` "
                    f"(it prompts for the value), and declare it as secretEnv: {{{name}: {key}}}",
                    name,
                )
        return env

    @field_validator("secret_env", "generated_env")
    @classmethod
    def _other_env(cls, env: dict[str, Any]) -> dict[str, Any]:
        _env_names(env)
        for name, ref in env.items():
            if catalog.HEROKU_MANAGED_VARS.match(name):
                raise _fail(f"{name} is set by Heroku itself", f"remove {name}: the Postgres add-on provides it", name)
            if isinstance(ref, str) and not catalog.CONFIG_KEY.match(ref):
                raise _fail(f"'{ref}' is not a config key name", "use a camelCase name such as smtpPassword", name)
        return env


class Heroku(Model):
    team: str | None = None
    apps: dict[str, HerokuApp] = {}

    @field_validator("apps")
    @classmethod
    def _app_names(cls, apps: dict[str, HerokuApp]) -> dict[str, HerokuApp]:
        for name in apps:
            if not catalog.HEROKU_APP_NAME.match(name):
                raise _fail(
                    f"'{name}' is not a valid Heroku app name",
                    "use 3-30 lower-case letters, digits and dashes, starting with a letter",
                    name,
                )
        return apps


# --- Vercel ------------------------------------------------------------------------------


class VercelEnvVar(Model):
    key: str
    value: str | None = None
    secret: str | None = None
    targets: list[Target] = Field(min_length=1)
    sensitive: bool | None = None
    git_branch: str | None = None
    comment: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        _env_names({key: None}, extend_path=False)
        return key

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        if len(set(targets)) != len(targets):
            raise _fail("a target is listed twice", "list each of production, preview, development once")
        return sorted(targets, key=catalog.VERCEL_TARGETS.index)

    @model_validator(mode="after")
    def _source_and_sensitivity(self, info: ValidationInfo) -> VercelEnvVar:
        stack = (info.context or {}).get("stack", "STACK")
        if (self.value is None) == (self.secret is None):
            raise _fail(f"{self.key} needs exactly one of 'value' or 'secret'", "give a plain value or a secret config key")
        if self.value is not None and catalog.looks_secret(self.key):
            key = _config_key_for(self.key)
            raise _fail(
                f"{self.key} looks like a secret but is given as a plain value",
                f"remove the value from this file, run `{_secret_cmd(stack, full_key(key))}` "
                f"(it prompts for the value), and write secret: {key}",
            )
        if self.sensitive and "development" in self.targets:
            raise _fail(
                f"{self.key} is sensitive but targets development (Vercel refuses sensitive values there)",
                "drop 'development' from targets or set sensitive: false",
            )
        if self.git_branch and self.targets != ["preview"]:
            raise _fail("gitBranch only applies to the preview target", "set targets: [preview] or remove gitBranch")
        return self

    @property
    def is_sensitive(self) -> bool:
        """Secrets default to Vercel's write-only 'sensitive' type wherever Vercel allows it."""
        if self.sensitive is not None:
            return self.sensitive
        return self.secret is not None and "development" not in self.targets


class VercelProject(Model):
    framework: str | None = None
    root_directory: str | None = None
    domains: list[str] = []
    env: list[VercelEnvVar] = []
    health_check: HealthCheck | None = None

    @field_validator("framework")
    @classmethod
    def _framework(cls, framework: str | None) -> str | None:
        if framework is not None and framework not in catalog.VERCEL_FRAMEWORKS:
            raise _fail(
                f"'{framework}' is not a Vercel framework preset",
                f"{_closest(framework, catalog.VERCEL_FRAMEWORKS)}use a preset slug such as nextjs or vite",
            )
        return framework

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        return _hostnames(domains)


class Vercel(Model):
    team: str | None = None
    projects: dict[str, VercelProject] = {}

    @field_validator("projects")
    @classmethod
    def _names(cls, projects: dict[str, VercelProject]) -> dict[str, VercelProject]:
        for name in projects:
            if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", name) or "---" in name:
                raise _fail(f"'{name}' is not a valid Vercel project name", "use up to 100 lower-case letters, digits, . _ -", name)
        return projects


# --- Webhooks ----------------------------------------------------------------------------


def check_url(url: str, info: ValidationInfo) -> str:
    """https everywhere; plain http only to loopback, and only in a sandbox stack."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        if (info.context or {}).get("sandbox"):
            return url
        raise _fail(
            f"'{url}' is plain http on loopback, which only a sandbox stack may use",
            "use an https URL, or set launchplan:sandbox: true for a local sandbox stack",
        )
    raise _fail(f"'{url}' is not an https URL", "use https://... (webhooks carry signed payloads)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class Receiver(Model):
    """Where the webhook's signing secret is delivered, so sender and receiver agree."""

    heroku_app: str | None = None
    vercel_project: str | None = None
    env: str
    targets: list[Target] = ["production"]

    @model_validator(mode="after")
    def _one_place(self) -> Receiver:
        if (self.heroku_app is None) == (self.vercel_project is None):
            raise _fail("a receiver needs exactly one of herokuApp or vercelProject", "name the app that verifies the signature")
        _env_names({self.env: None}, extend_path=False)
        return self


def _unique_events(events: list[str]) -> list[str]:
    dupes = sorted({e for e in events if events.count(e) > 1})
    if dupes:
        raise _fail(f"event listed twice: {', '.join(dupes)}", "list each event once")
    return sorted(events)


class CalendlyWebhook(Model):
    provider: Literal["calendly"]
    url: str
    events: list[str] = Field(min_length=1)
    organization: str
    scope: Literal["user", "organization", "group"] = "organization"
    user: str | None = None
    group: str | None = None
    receiver: Receiver

    @field_validator("url")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        return check_url(url, info)

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str]) -> list[str]:
        for event in events:
            if event not in catalog.CALENDLY_EVENTS:
                raise _fail(
                    f"'{event}' is not a Calendly webhook event",
                    f"{_closest(event, catalog.CALENDLY_EVENTS)}use one of: {', '.join(sorted(catalog.CALENDLY_EVENTS))}",
                )
        return _unique_events(events)

    @field_validator("organization", "user", "group")
    @classmethod
    def _uri(cls, uri: str | None, info: ValidationInfo) -> str | None:
        if uri is not None and not re.match(r"^https?://[^/]+/(organizations|users|groups)/[A-Za-z0-9-]+$", uri):
            raise _fail(
                f"'{uri}' is not a Calendly {info.field_name} URI",
                f"copy the URI from GET /users/me, e.g. https://api.calendly.com/{info.field_name}s/AAAA",
            )
        return uri

    @model_validator(mode="after")
    def _scope(self) -> CalendlyWebhook:
        if self.scope == "user" and not self.user:
            raise _fail("scope 'user' needs 'user'", "add user: <your user URI>")
        if self.scope == "group" and not self.group:
            raise _fail("scope 'group' needs 'group'", "add group: <the group URI>")
        return self


class ArrivyWebhook(Model):
    """Arrivy has no registration API: this is a declared manual step."""

    provider: Literal["arrivy"]
    url: str
    events: list[str] = Field(min_length=1)
    receiver: Receiver

    @field_validator("url")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        return check_url(url, info)

    @field_validator("events")
    @classmethod
    def _events(cls, events: list[str]) -> list[str]:
        for event in events:
            if not catalog.ARRIVY_EVENT_PATTERN.match(event):
                raise _fail(f"'{event}' is not an Arrivy event type", "use Arrivy's upper-case names, e.g. TASK_CREATED")
        return _unique_events(events)


Webhook = Annotated[Union[CalendlyWebhook, ArrivyWebhook], Field(discriminator="provider")]


class Endpoints(Model):
    """API base URLs launchplan's own code calls; overridden only to reach a local sandbox."""

    heroku_api: str = "https://api.heroku.com"
    heroku_data_api: str = "https://api.data.heroku.com"
    calendly_api: str = "https://api.calendly.com"
    vercel_api: str = "https://api.vercel.com"

    @field_validator("*")
    @classmethod
    def _url(cls, url: str, info: ValidationInfo) -> str:
        return check_url(url, info).rstrip("/")


# --- The whole spec ------------------------------------------------------------------------


class Spec(Model):
    stack: str
    sandbox: bool = False
    protect_databases: bool
    heroku: Heroku = Heroku()
    vercel: Vercel = Vercel()
    webhooks: dict[str, Webhook] = {}
    endpoints: Endpoints = Endpoints()

    def database_protected(self, app: HerokuApp) -> bool:
        if app.postgres is None:
            return False
        return self.protect_databases if app.postgres.protect is None else app.postgres.protect

    def secret_refs(self) -> dict[str, str]:
        """Every secret config key the spec reads, mapped to the key path that reads it."""
        refs: dict[str, str] = {}
        if self.heroku.apps:
            refs.setdefault("heroku:apiKey", "launchplan:heroku.apps (provider credential)")
        if self.vercel.projects:
            refs.setdefault("vercel:apiToken", "launchplan:vercel.projects (provider credential)")
        if any(isinstance(w, CalendlyWebhook) for w in self.webhooks.values()):
            refs.setdefault(f"{NAMESPACE}:calendlyToken", "launchplan:webhooks (Calendly API token)")
        for app_name, app in self.heroku.apps.items():
            for env, key in app.secret_env.items():
                refs.setdefault(full_key(key), f"launchplan:heroku.apps.{app_name}.secretEnv.{env}")
        for project_name, project in self.vercel.projects.items():
            for i, var in enumerate(project.env):
                if var.secret:
                    refs.setdefault(full_key(var.secret), f"launchplan:vercel.projects.{project_name}.env[{i}].secret")
        return refs


# Top-level keys of the launchplan namespace and the model each one holds.
SECTIONS: dict[str, Any] = {
    "sandbox": bool,
    "protectDatabases": bool,
    "heroku": Heroku,
    "vercel": Vercel,
    "webhooks": dict[str, Webhook],
    "endpoints": Endpoints,
}


def load_spec(config: StackConfig, *, require_secrets: bool = True) -> Spec:
    """Validate a stack's config into a Spec, or raise SpecError listing every problem.

    require_secrets=False (the offline plan) tolerates secrets not set yet; a secret set
    as plain text is still an error.
    """
    problems: list[Problem] = []
    raw = config.namespace(NAMESPACE)
    stack = config.stack

    parsed: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in SECTIONS:
            continue
        try:
            parsed[key] = json.loads(text) if SECTIONS[key] is not bool else _parse_bool(text)
        except (ValueError, TypeError):
            want = "true or false" if SECTIONS[key] is bool else "a YAML mapping"
            problems.append(Problem(f"{NAMESPACE}:{key}", "is not a structured value", f"write it as {want}"))

    sandbox = parsed.get("sandbox", False) is True
    context = {"stack": stack, "sandbox": sandbox}
    sections: dict[str, Any] = {}
    for key, value in parsed.items():
        try:
            sections[key] = TypeAdapter(SECTIONS[key]).validate_python(value, context=context)
        except ValidationError as exc:
            problems.extend(_problems_from(exc, f"{NAMESPACE}:{key}"))

    spec: Spec | None = None
    if not problems:
        protect_default = stack == "production" or stack.startswith("prod")
        spec = Spec(
            stack=stack,
            sandbox=sandbox,
            protect_databases=sections.get("protectDatabases", protect_default),
            heroku=sections.get("heroku", Heroku()),
            vercel=sections.get("vercel", Vercel()),
            webhooks=sections.get("webhooks", {}),
            endpoints=sections.get("endpoints", Endpoints()),
        )
        problems.extend(_cross_checks(spec, config, require_secrets))

    referenced = set(spec.secret_refs()) if spec else _raw_secret_refs(parsed)
    for key in sorted(raw):
        if key not in SECTIONS and f"{NAMESPACE}:{key}" not in referenced:
            problems.append(
                Problem(
                    f"{NAMESPACE}:{key}",
                    "unknown key (not a spec section and not a secret the spec references)",
                    f"{_closest(key, list(SECTIONS))}remove it with `pulumi config rm --stack {stack} {NAMESPACE}:{key}` "
                    f"or reference it from secretEnv / a Vercel env var",
                )
            )

    if problems:
        raise SpecError(stack, problems)
    assert spec is not None
    return spec


def _raw_secret_refs(value: Any) -> set[str]:
    """Secret keys referenced by a config that failed validation (best effort, for the unknown-key check)."""
    refs: set[str] = {f"{NAMESPACE}:calendlyToken"}
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "secretEnv" and isinstance(v, dict):
                refs |= {full_key(x) for x in v.values() if isinstance(x, str)}
            elif k == "secret" and isinstance(v, str):
                refs.add(full_key(v))
            else:
                refs |= _raw_secret_refs(v)
    elif isinstance(value, list):
        for v in value:
            refs |= _raw_secret_refs(v)
    return refs


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(text)


def _cross_checks(spec: Spec, config: StackConfig, require_secrets: bool) -> list[Problem]:
    stack = spec.stack
    problems: list[Problem] = []

    # Webhook receivers must exist, and a receiver's env key must not collide.
    heroku_extra: dict[str, dict[str, str]] = {}
    vercel_extra: dict[str, list[tuple[str, list[str], str]]] = {}
    for name, hook in spec.webhooks.items():
        path = f"{NAMESPACE}:webhooks.{name}.receiver"
        r = hook.receiver
        if r.heroku_app is not None:
            if r.heroku_app not in spec.heroku.apps:
                problems.append(Problem(f"{path}.herokuApp", f"no Heroku app '{r.heroku_app}' is declared",
                                        f"{_closest(r.heroku_app, list(spec.heroku.apps))}name an app under launchplan:heroku.apps"))
            heroku_extra.setdefault(r.heroku_app, {})[r.env] = f"{path}.env"
        if r.vercel_project is not None:
            if r.vercel_project not in spec.vercel.projects:
                problems.append(Problem(f"{path}.vercelProject", f"no Vercel project '{r.vercel_project}' is declared",
                                        f"{_closest(r.vercel_project, list(spec.vercel.projects))}name a project under launchplan:vercel.projects"))
            vercel_extra.setdefault(r.vercel_project, []).append((r.env, list(r.targets), f"{path}.env"))

    # Duplicate env keys within one Heroku app (across env, secretEnv, generatedEnv, receivers).
    for app_name, app in spec.heroku.apps.items():
        seen: dict[str, str] = {}
        base = f"{NAMESPACE}:heroku.apps.{app_name}"
        sources = [
            *((k, f"{base}.env.{k}") for k in app.env),
            *((k, f"{base}.secretEnv.{k}") for k in app.secret_env),
            *((k, f"{base}.generatedEnv.{k}") for k in app.generated_env),
            *((k, p) for k, p in heroku_extra.get(app_name, {}).items()),
        ]
        for key, path in sources:
            if key in seen:
                problems.append(Problem(path, f"env key {key} is declared twice in app {app_name} (also at {seen[key]})",
                                        "keep one declaration"))
            seen.setdefault(key, path)

    # Duplicate env keys within one Vercel target (and git branch).
    for project_name, project in spec.vercel.projects.items():
        seen_t: dict[tuple[str, str, str], str] = {}
        base = f"{NAMESPACE}:vercel.projects.{project_name}"
        entries = [(v.key, list(v.targets), v.git_branch or "", f"{base}.env[{i}].key") for i, v in enumerate(project.env)]
        entries += [(k, t, "", p) for k, t, p in vercel_extra.get(project_name, [])]
        for key, targets, branch, path in entries:
            for target in targets:
                slot = (key, target, branch)
                if slot in seen_t:
                    problems.append(Problem(path, f"env key {key} is declared twice for target {target} (also at {seen_t[slot]})",
                                            "keep one declaration per target"))
                seen_t.setdefault(slot, path)

    # Secret config keys: each must be set, and set as a secret.
    for key, used_at in sorted(spec.secret_refs().items(), key=lambda kv: kv[1]):
        if not config.is_set(key):
            if not require_secrets:
                continue
            problems.append(Problem(used_at, f"reads secret config key {key}, which stack {stack} does not set",
                                    f"run `{_secret_cmd(stack, key)}`"))
        elif not config.is_secret(key):
            problems.append(Problem(used_at, f"secret config key {key} is set as plain text",
                                    f"run `pulumi config rm --stack {stack} {key}` then `{_secret_cmd(stack, key)}`"))
    return problems


def _problems_from(exc: ValidationError, root: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        path = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        # The discriminator's tag shows up in the loc of union members; drop it.
        path = re.sub(r"\.(calendly|arrivy)(?=\.|$)", "", path)
        ctx = err.get("ctx") or {}
        if err["type"] == "launchplan":
            if ctx.get("key"):
                path += f".{ctx['key']}"
            problems.append(Problem(path, err["msg"], str(ctx.get("fix", ""))))
        else:
            problems.append(Problem(path, *_generic_message(err)))
    return problems


def _generic_message(err: Any) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key", "remove it or fix its spelling (run `launchplan schema` to list the keys)"
    if kind == "missing":
        return "is required but missing", "add it (run `launchplan schema` for its type)"
    words = {"string_type": "text", "int_type": "whole number", "bool_type": "true or false",
             "float_type": "number", "dict_type": "mapping", "model_type": "mapping", "list_type": "list",
             "int_from_float": "whole number"}
    if kind in words:
        hint = " (quote numbers and booleans meant as text, e.g. '30')" if kind == "string_type" else ""
        return f"wrong type: expected {words[kind]}", f"write {words[kind]}{hint}"
    if kind == "literal_error":
        return "is not one of the allowed values", f"use {ctx.get('expected', 'an allowed value')}"
    if kind == "union_tag_invalid":
        return f"unknown provider {ctx.get('tag')!r}", f"use {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "needs a 'provider'", "add provider: calendly or provider: arrivy"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {k: v for k, v in ctx.items()}
        return f"out of range ({err['msg'].lower()})", f"use a value within {bound}"
    if kind == "too_short":
        return "must not be empty", "list at least one item"
    return err["msg"], "see `launchplan schema`"


def json_schema() -> dict[str, Any]:
    """JSON Schema of a stack file's `config:` block, for editors' YAML language servers."""
    props: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    for key, model in SECTIONS.items():
        schema = TypeAdapter(model).json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        props[f"{NAMESPACE}:{key}"] = schema
    secure = {"type": "object", "properties": {"secure": {"type": "string"}}, "required": ["secure"],
              "additionalProperties": False}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "launchplan stack file (Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "config": {
                "type": "object",
                "properties": props,
                "patternProperties": {"^[a-z][a-z0-9-]*:[A-Za-z][A-Za-z0-9_]*$": {"anyOf": [secure, {"type": ["string", "number", "boolean"]}]}},
                "additionalProperties": False,
            },
        },
        "$defs": defs,
    }
