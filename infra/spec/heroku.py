"""The Heroku part of the spec: apps, formation, env, Postgres, backups, roles."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.spec import catalog
from infra.spec.common import (
    PROVIDER_CREDENTIALS,
    HealthCheck,
    Model,
    check_env_names,
    check_hostnames,
    full_key,
    suggested_config_key,
)
from infra.spec.problems import did_you_mean, invalid, set_secret_command
from infra.spec.secrecy import secret_value, shown


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
            raise invalid(f"hour {hour} is outside 0-23", "use a 24-hour clock hour, e.g. 2 for 02:00")
        return hour

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, tz: str) -> str:
        zones = _timezones()
        if tz not in zones:
            raise invalid(
                f"{shown(tz)} is not an IANA timezone",
                f"{did_you_mean(tz, zones)}use a name from the IANA database, e.g. America/Los_Angeles or UTC",
            )
        return tz

    @property
    def at(self) -> str:
        """How people read the schedule: `02:00 America/Los_Angeles`."""
        return catalog.daily_at(self.hour, self.timezone)


@cache
def _timezones() -> set[str]:
    return zoneinfo.available_timezones()


class Grant(Model):
    schema_name: str = Field("public", alias="schema")
    object_type: Literal["table", "sequence", "function", "schema", "database"] = "table"
    privileges: list[
        Literal[
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
            "REFERENCES",
            "TRIGGER",
            "USAGE",
            "CREATE",
            "CONNECT",
            "TEMPORARY",
            "EXECUTE",
            "ALL",
        ]
    ] = Field(min_length=1)


class Role(Model):
    login: bool = True
    connection_limit: int = Field(-1, ge=-1)
    grants: list[Grant] = []


def _unique_identifiers(values: list[str], what: str, check: bool = True) -> list[str]:
    for value in values:
        if check and not catalog.PG_IDENTIFIER.match(value):
            raise invalid(f"{shown(value)} is not a valid {what} name", "use lower-case letters, digits and _")
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise invalid(f"{what} listed twice: {', '.join(dupes)}", "list each once")
    return sorted(values)  # order carries no meaning; sorted keeps diffs quiet


class PostgresSpec(Model):
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
            raise invalid(
                f"{shown(plan)} is not a Heroku Postgres plan",
                f"{did_you_mean(plan, current)}use essential-0..2, or standard-, premium-, private- or shield- "
                "followed by 0 or 2..10",
            )
        if info.retired:
            raise invalid(f"plan {shown(plan)} is retired by Heroku", f"use '{info.replacement}'")
        return plan

    @field_validator("extensions")
    @classmethod
    def _extensions(cls, values: list[str]) -> list[str]:
        # PostgreSQL's check_valid_extension_name: not empty, no "--", no leading or trailing "-",
        # no directory separator; a name, so at most 63 bytes. `uuid-ossp` is valid.
        for value in values:
            if not catalog.PG_EXTENSION.match(value) or len(value.encode()) > 63:
                raise invalid(
                    f"{shown(value)} is not a PostgreSQL extension name",
                    "use the extension's name as `heroku pg:extensions` or CREATE EXTENSION knows it, "
                    "e.g. pg_stat_statements or uuid-ossp (letters, digits, _ and single inner dashes)",
                )
        return _unique_identifiers(values, "extension", check=False)

    @field_validator("schemas")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        return _unique_identifiers(values, "schema")

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: dict[str, Role]) -> dict[str, Role]:
        for name in roles:
            if not catalog.PG_IDENTIFIER.match(name):
                raise invalid(f"{shown(name)} is not a valid role name", "use lower-case letters, digits and _", name)
        return roles

    @model_validator(mode="after")
    def _backups_fit_plan(self) -> PostgresSpec:
        info = catalog.POSTGRES_PLANS[self.plan]
        if self.backups and not info.scheduled_backups:
            raise invalid(
                f"plan '{self.plan}' cannot hold scheduled backups (backups are declared)",
                "use a plan with scheduled backups, e.g. standard-0, or remove 'backups'",
            )
        return self


class Formation(Model):
    size: str
    quantity: int = Field(1, ge=0, le=100)

    @field_validator("size")
    @classmethod
    def _size(cls, size: str) -> str:
        size = size.lower()
        if size not in catalog.DYNO_SIZES:
            raise invalid(
                f"{shown(size)} is not a Heroku dyno size",
                f"{did_you_mean(size, catalog.DYNO_SIZES)}use one of: {', '.join(sorted(catalog.DYNO_SIZES))}",
            )
        return size

    @model_validator(mode="after")
    def _scale(self) -> Formation:
        if self.size in catalog.SINGLE_DYNO_SIZES and self.quantity > 1:
            raise invalid(
                f"{self.size} dynos cannot run {self.quantity} per process type",
                "use quantity 1, or a standard-1x (or larger) size to scale out",
            )
        return self


class HerokuAppSpec(Model):
    region: str = "us"
    stack: str = "heroku-24"
    formation: dict[str, Formation] = {}
    domains: list[str] = []
    env: dict[str, str] = {}
    secret_env: dict[str, str] = {}
    generated_env: dict[str, GeneratedSecret] = {}
    postgres: PostgresSpec | None = None
    health_check: HealthCheck | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, region: str) -> str:
        if region not in catalog.HEROKU_REGIONS:
            raise invalid(f"{shown(region)} is not a Heroku Common Runtime region", "use 'us' or 'eu'")
        return region

    @field_validator("stack")
    @classmethod
    def _stack(cls, stack: str) -> str:
        if stack not in catalog.HEROKU_STACKS:
            raise invalid(
                f"{shown(stack)} is not a supported Heroku stack",
                f"{did_you_mean(stack, catalog.HEROKU_STACKS)}use one of: {', '.join(sorted(catalog.HEROKU_STACKS))}",
            )
        return stack

    @field_validator("formation")
    @classmethod
    def _formation(cls, formation: dict[str, Formation]) -> dict[str, Formation]:
        for process in formation:
            if not catalog.PROCESS_TYPE.match(process):
                raise invalid(
                    f"{shown(process)} is not a Procfile process type", "use lower-case letters, e.g. web or worker", process
                )
        return formation

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: list[str]) -> list[str]:
        return check_hostnames(domains)

    @field_validator("env")
    @classmethod
    def _plain_env(cls, env: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_env_names(env)
        stack = (info.context or {}).get("stack", "STACK")
        for name in env:
            if catalog.HEROKU_MANAGED_VARS.match(name):
                raise invalid(f"{name} is set by Heroku itself", f"remove {name}: the Postgres add-on provides it", name)
            if catalog.looks_secret(name):
                key = suggested_config_key(name)
                raise invalid(
                    f"{name} looks like a secret but is given as a plain value",
                    f"remove the value from this file, run `{set_secret_command(stack, full_key(key))}` "
                    f"(it prompts for the value), and declare it as secretEnv: {{{name}: {key}}}",
                    name,
                )
        return env

    @field_validator("secret_env", "generated_env")
    @classmethod
    def _other_env(cls, env: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        check_env_names(env)
        stack = (info.context or {}).get("stack", "STACK")
        for name, ref in env.items():
            if catalog.HEROKU_MANAGED_VARS.match(name):
                raise invalid(f"{name} is set by Heroku itself", f"remove {name}: the Postgres add-on provides it", name)
            if isinstance(ref, str):
                check_config_key_ref(ref, name, stack, "secretEnv", name)
        return env


def check_config_key_ref(ref: str, env_name: str, stack: str, where: str, key: str | None = None) -> None:
    """A reference to a secret config key (secretEnv, fromConfig): a key *name*, never the secret.
    The text is never echoed: a value pasted here is most likely the credential itself."""
    suggested = suggested_config_key(env_name)
    if full_key(suggested) in PROVIDER_CREDENTIALS or full_key(suggested) == full_key(ref):
        suggested = "app" + suggested[:1].upper() + suggested[1:]  # its own key, never launchplan's credential
    command = set_secret_command(stack, full_key(suggested))
    how = f"run `{command}` (it prompts for the value) and write {where}: {{{env_name}: {suggested}}}"
    if where == "fromConfig":
        how = f"run `{command}` (it prompts for the value) and write fromConfig: {suggested}"
    if secret_value(ref) is not None or not catalog.CONFIG_KEY.match(ref):
        raise invalid(
            "is not a config key name (the text is not shown: it looks like a value, perhaps the secret itself)",
            f"name the secret config key instead: {how}",
            key,
        )
    if full_key(ref) in PROVIDER_CREDENTIALS:
        raise invalid(
            f"reads {full_key(ref)}, the credential launchplan itself deploys with, into an app's env",
            f"give the app its own secret (least privilege; rotated on its own): {how}",
            key,
        )


class Heroku(Model):
    team: str | None = None
    apps: dict[str, HerokuAppSpec] = {}

    @field_validator("apps")
    @classmethod
    def _app_names(cls, apps: dict[str, HerokuAppSpec]) -> dict[str, HerokuAppSpec]:
        for name in apps:
            if not catalog.HEROKU_APP_NAME.match(name):
                raise invalid(
                    f"{shown(name)} is not a valid Heroku app name",
                    "use 3-30 lower-case letters, digits and dashes, starting with a letter",
                    name,
                )
        return apps
