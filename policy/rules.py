"""Invariants every launchplan stack must hold, as plain functions over resources.

`__main__.py` wires them into the pack (pulumi-policy), so `pulumi preview --policy-pack
policy` enforces them and `launchplan gate` runs them; as plain functions they are
tested without the engine (tests/policy). Platform facts come from launchplan's catalog,
installed into the pack's own virtualenv (requirements.txt).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from infra.spec.catalog import POSTGRES_PLANS, is_loopback, vercel_allows_sensitive
from infra.spec.secrecy import looks_secret

ADDON = "heroku:addon/addon:Addon"
SCHEDULE = "pulumi-python:dynamic/heroku:BackupSchedule"
CONFIG = "heroku:app/configAssociation:ConfigAssociation"
VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
CALENDLY = "pulumi-python:dynamic/calendly:WebhookSubscription"


@dataclass(frozen=True)
class Res:
    type: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None

    @property
    def stack(self) -> str:
        return self.urn.split("::", 1)[0].removeprefix("urn:pulumi:")

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def production_databases_backed_up(resources: Iterable[Res]) -> list[str]:
    """A production (or protected) Heroku Postgres add-on is on a plan that holds scheduled
    backups, and has a backup schedule declared beside it."""
    resources = list(resources)
    scheduled_parents = {r.parent for r in resources if r.type == SCHEDULE}
    problems = []
    for addon in (r for r in resources if r.type == ADDON):
        plan = str(addon.props.get("plan") or "")
        if not plan.startswith("heroku-postgresql:") or not (addon.protect or addon.stack == "production"):
            continue
        info = POSTGRES_PLANS.get(plan.removeprefix("heroku-postgresql:"))
        if info is None or not info.scheduled_backups:
            problems.append(f"{addon.name}: plan {plan} cannot hold scheduled backups; use standard-0 or above")
        if addon.parent not in scheduled_parents:
            problems.append(f"{addon.name}: no backup schedule is declared for this database; add postgres.backups")
    return problems


def secret_env_vars_sensitive(res: Res) -> list[str]:
    """A secret-looking env var never travels as a plain, readable value."""
    if res.type == CONFIG:
        return [
            f"{res.name}: {key} looks like a secret but is a plain config var; use secretEnv"
            for key in sorted(res.props.get("vars") or {})
            if looks_secret(key)
        ]
    if res.type == VERCEL_ENV:
        key, targets = str(res.props.get("key", "")), list(res.props.get("targets") or [])
        if looks_secret(key) and not res.props.get("sensitive") and vercel_allows_sensitive(targets):
            return [f"{res.name}: {key} looks like a secret; make it sensitive"]
    return []


def webhooks_https(res: Res) -> list[str]:
    """Webhooks carry signed payloads: https only (plain loopback http only in the sandbox stack)."""
    if res.type != CALENDLY or not isinstance(res.props.get("url"), str):
        return []
    parts = urlsplit(res.props["url"])
    if parts.scheme == "https":
        return []
    if parts.scheme == "http" and res.stack == "sandbox" and is_loopback(parts.hostname or ""):
        return []
    return [f"{res.name}: webhook URL {res.props['url']} is not https"]
