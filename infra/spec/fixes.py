"""Pydantic's generic validation errors turned into launchplan problems that say what to write:
the key path, what is wrong, and a fix with an example (`write a mapping like {hour: 2, timezone:
UTC}`, `use a whole number from 32 to 512`, `did you mean 'region'?`). The offending value is never
part of a message."""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError

from infra.spec.problems import Problem, did_you_mean
from infra.spec.secrecy import could_be_secret, shown

# What to write, by key name: the examples people copy.
EXAMPLES: dict[str, str] = {
    "apps": "apps: {my-app: {region: us}}",
    "backups": "backups: {hour: 2, timezone: UTC}",
    "connectionLimit": "connectionLimit: 5",
    "domains": "domains: [app.example.com]",
    "endpoints": "endpoints: {calendlyApi: https://api.calendly.com}",
    "env": "env: {RAILS_ENV: production}",
    "events": "events: [invitee.created]",
    "expectStatus": "expectStatus: 200",
    "extensions": "extensions: [pg_stat_statements, uuid-ossp]",
    "formation": "formation: {web: {size: basic, quantity: 1}}",
    "framework": "framework: nextjs",
    "fromConfig": "fromConfig: apiToken",
    "generatedEnv": "generatedEnv: {SECRET_KEY_BASE: {length: 128}}",
    "gitBranch": "gitBranch: staging",
    "grants": "grants: [{schema: public, objectType: table, privileges: [SELECT]}]",
    "group": "group: https://api.calendly.com/groups/AAAA",
    "healthCheck": "healthCheck: {path: /healthz, expectStatus: 200}",
    "heroku": "launchplan:heroku: {apps: {my-app: {region: us}}}",
    "herokuApp": "herokuApp: my-app",
    "hour": "hour: 2",
    "key": "key: API_BASE_URL",
    "length": "length: 64",
    "login": "login: true",
    "objectType": "objectType: table",
    "organization": "organization: https://api.calendly.com/organizations/AAAA",
    "path": "path: /healthz",
    "plan": "plan: essential-0",
    "postgres": "postgres: {plan: essential-0, backups: {hour: 2, timezone: UTC}}",
    "privileges": "privileges: [SELECT]",
    "projects": "projects: {my-project: {framework: nextjs}}",
    "protect": "protect: true",
    "protectDatabases": "launchplan:protectDatabases: true",
    "provider": "provider: calendly",
    "quantity": "quantity: 1",
    "receiver": "receiver: {herokuApp: my-app, env: WEBHOOK_SIGNING_KEY}",
    "region": "region: us",
    "roles": "roles: {reporting: {login: true, grants: [{privileges: [SELECT]}]}}",
    "rootDirectory": "rootDirectory: apps/web",
    "sandbox": "launchplan:sandbox: true",
    "schema": "schema: public",
    "schemas": "schemas: [reporting]",
    "scope": "scope: organization",
    "secretEnv": "secretEnv: {SMTP_PASSWORD: smtpPassword}",
    "sensitive": "sensitive: true",
    "size": "size: basic",
    "sslmode": "sslmode: require",
    "stack": "stack: heroku-24",
    "targets": "targets: [production, preview]",
    "team": "team: my-team",
    "timeoutSeconds": "timeoutSeconds: 10",
    "timezone": "timezone: America/Los_Angeles",
    "url": "url: https://app.example.com/webhooks/calendly",
    "user": "user: https://api.calendly.com/users/AAAA",
    "value": "value: '30'",
    "vercel": "launchplan:vercel: {projects: {my-project: {framework: nextjs}}}",
    "vercelProject": "vercelProject: my-project",
    "webhooks": "launchplan:webhooks: {bookings: {provider: calendly, url: https://app.example.com/hook, ...}}",
}

# An entry of a mapping or list, by the key that holds it.
ENTRY_EXAMPLES: dict[str, str] = {
    "apps": "my-app: {region: us, formation: {web: {size: basic}}}",
    "projects": "my-project: {framework: nextjs}",
    "formation": "web: {size: basic, quantity: 1}",
    "generatedEnv": "SECRET_KEY_BASE: {length: 128}",
    "roles": "reporting: {login: true}",
    "grants": "- {schema: public, objectType: table, privileges: [SELECT]}",
    "webhooks": "bookings: {provider: calendly, url: https://app.example.com/hook, events: [invitee.created], "
    "organization: https://api.calendly.com/organizations/AAAA, receiver: {herokuApp: my-app, env: CALENDLY_SIGNING_KEY}}",
    "env": "- {key: API_BASE_URL, value: https://api.example.com, targets: [production]}",
}

_WORDS = {
    "string_type": "text",
    "int_type": "whole number",
    "bool_type": "true or false",
    "float_type": "number",
    "dict_type": "mapping",
    "model_type": "mapping",
    "list_type": "list",
    "int_from_float": "whole number",
}


def _strip(tp: Any) -> Any:
    """Optional[X], Annotated[X, ...] -> X (a discriminated union stays a union)."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_field(model: type[BaseModel], key: str) -> tuple[str, Any] | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name, info
    return None


def type_at(root: Any, loc: tuple[Any, ...]) -> Any:
    """The declared type at a validation error's location (dict keys, list indices, union tags)."""
    tp = root
    for part in loc:
        tp = _strip(tp)
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            found = _model_field(tp, str(part))
            if found is None:
                return None
            tp = found[1].annotation
        elif origin is dict:
            tp = get_args(tp)[1]
        elif origin is list:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [m for m in get_args(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
            tagged = [m for m in members if part in get_args(m.model_fields.get("provider", _NoField).annotation)]
            if not tagged:
                return None
            tp = tagged[0]
        else:
            return None
    return _strip(tp)


class _NoField:
    annotation: Any = None


def _field_info(root: Any, loc: tuple[Any, ...]) -> Any:
    parent = type_at(root, loc[:-1])
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        found = _model_field(parent, str(loc[-1]))
        return found[1] if found else None
    return None


def _last_key(loc: tuple[Any, ...]) -> str:
    """The nearest named key of a location: ('apps', 'x', 'env', 0) -> 'env'."""
    named = [p for p in loc if isinstance(p, str) and p not in ("calendly", "arrivy")]
    return named[-1] if named else ""


def _example(loc: tuple[Any, ...], root: Any, section: str) -> str:
    key = _last_key(loc) or section
    if loc and isinstance(loc[-1], int) and key in ENTRY_EXAMPLES:
        return ENTRY_EXAMPLES[key]
    parent = type_at(root, loc[:-1]) if loc else None
    entry = len(loc) >= 2 and isinstance(loc[-2], str) and loc[-2] in ENTRY_EXAMPLES
    if entry and get_origin(_strip(parent)) is dict:  # an entry of apps/formation/roles/...
        return ENTRY_EXAMPLES[loc[-2]]
    return EXAMPLES.get(key, "")


def _range_fix(info: Any, kind: str) -> str:
    low: Any = None
    high: Any = None
    low_open = high_open = False
    for meta in getattr(info, "metadata", []) or []:
        if isinstance(meta, Ge):
            low = meta.ge
        elif isinstance(meta, Gt):
            low, low_open = meta.gt, True
        elif isinstance(meta, Le):
            high = meta.le
        elif isinstance(meta, Lt):
            high, high_open = meta.lt, True
    whole = getattr(info, "annotation", None) is int
    noun = "a whole number" if whole else "a number"
    if low is not None and high is not None:
        if low_open:
            return f"use {noun} above {low} and up to {high}"
        return f"use {noun} from {low} to {high}"
    if low is not None:
        return f"use {noun} {'above' if low_open else 'of at least'} {low}"
    if high is not None:
        return f"use {noun} {'below' if high_open else 'of at most'} {high}"
    return f"use {noun} in range"


def problems_from(exc: ValidationError, root_path: str, root: Any) -> list[Problem]:
    """Every validation error of one section, as problems with a key path and a fix."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = root_path + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        # The discriminator's tag shows up in the loc of union members; drop it.
        path = re.sub(r"\.(calendly|arrivy)(?=\.|\[|$)", "", path)
        ctx = err.get("ctx") or {}
        if err["type"] == "launchplan":
            if ctx.get("key"):
                path += f".{ctx['key']}"
            problems.append(Problem(path, err["msg"], str(ctx.get("fix", ""))))
        else:
            problems.append(Problem(path, *generic_message(err, loc, root, root_path.rsplit(":", 1)[-1])))
    return problems


def generic_message(err: Any, loc: tuple[Any, ...], root: Any, section: str) -> tuple[str, str]:
    """(message, fix) for one of pydantic's own errors. err["input"] is read only to pick a
    did-you-mean among the allowed words; it is never written into either text."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    given = err.get("input")
    key = _last_key(loc) or section
    example = _example(loc, root, section)
    like = f", e.g. {example}" if example else ""
    if kind == "extra_forbidden":
        parent = type_at(root, loc[:-1])
        options = []
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            options = [info.alias or name for name, info in parent.model_fields.items()]
        unknown = str(loc[-1]) if loc else ""
        hint = did_you_mean(unknown, options) if not could_be_secret(unknown) else ""
        allowed = f"the keys here are: {', '.join(sorted(options))}" if options else "run `launchplan schema` for the keys"
        return "unknown key", f"{hint}remove it or fix its spelling ({allowed})"
    if kind == "missing":
        return "is required but missing", f"add it{like}"
    if kind in _WORDS:
        word = _WORDS[kind]
        if kind == "string_type":
            return f"wrong type: expected {word}", f"write {word}{like} (quote numbers and booleans meant as text, e.g. '30')"
        if kind in ("dict_type", "model_type"):
            return f"wrong type: expected {word}", f"write a mapping{' like ' + example if example else ''}"
        if kind == "list_type":
            return f"wrong type: expected {word}", f"write a list{' like ' + example if example else ' like [a, b]'}"
        if kind in ("int_type", "int_from_float"):
            return f"wrong type: expected {word}", f"write a whole number without quotes{like}"
        if kind == "bool_type":
            return f"wrong type: expected {word}", f"write true or false without quotes{like}"
        return f"wrong type: expected {word}", f"write a number without quotes{like}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "an allowed value"))
        choices = re.findall(r"'([^']*)'", expected)
        hint = did_you_mean(given, choices) if isinstance(given, str) and not could_be_secret(given) else ""
        return "is not one of the allowed values", f"{hint}use {expected}"
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        hint = did_you_mean(tag, ["calendly", "arrivy"]) if isinstance(tag, str) else ""
        return f"unknown provider {shown(tag)}", f"{hint}use provider: calendly or provider: arrivy"
    if kind == "union_tag_not_found":
        return "needs a 'provider'", "add provider: calendly or provider: arrivy"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"out of range ({err['msg'].lower()})", _range_fix(_field_info(root, loc), kind)
    if kind == "too_short":
        return "must not be empty", f"list at least one item{like}"
    return err["msg"], f"see `launchplan schema` for {key or 'this key'}{like}"
