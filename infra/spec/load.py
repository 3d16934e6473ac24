"""Reading a stack's `launchplan:*` config into a validated Spec, before any resource
is registered.

Every problem is collected, not just the first, and each one names the stack,
the full key path (`launchplan:heroku.apps.<app>.postgres.plan`) and the fix.
Values are never echoed back in messages: a misplaced credential must not end
up in a terminal or a CI log because it failed validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from infra.spec.common import NAMESPACE, full_key
from infra.spec.heroku import Heroku
from infra.spec.problems import Problem, SpecError, did_you_mean, set_secret_command
from infra.spec.stack_config import StackConfig
from infra.spec.stack_spec import Spec
from infra.spec.vercel import Vercel
from infra.spec.webhooks import Endpoints, WebhookSpec

# Top-level keys of the launchplan namespace and the model each one holds.
SECTIONS: dict[str, Any] = {
    "sandbox": bool,
    "protectDatabases": bool,
    "heroku": Heroku,
    "vercel": Vercel,
    "webhooks": dict[str, WebhookSpec],
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
        if key not in SECTIONS and f"{NAMESPACE}:{key}" not in referenced | {f"{NAMESPACE}:calendlyToken"}:
            problems.append(
                Problem(
                    f"{NAMESPACE}:{key}",
                    "unknown key (not a spec section and not a secret the spec references)",
                    f"{did_you_mean(key, list(SECTIONS))}remove it with `pulumi config rm --stack {stack} {NAMESPACE}:{key}` "
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
            elif k == "fromConfig" and isinstance(v, str):
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
    """What no single section can check alone: references between sections, and the secrets' state."""
    return [
        *_receiver_problems(spec),
        *_heroku_duplicate_env(spec),
        *_vercel_duplicate_env(spec),
        *_secret_problems(spec, config, require_secrets),
    ]


def _receiver_problems(spec: Spec) -> list[Problem]:
    """Every webhook receiver names a declared app or project."""
    problems: list[Problem] = []
    for d in spec.deliveries():
        receiver = d.path.removesuffix(".env")
        if d.heroku_app is not None and d.heroku_app not in spec.heroku.apps:
            hint = did_you_mean(d.heroku_app, spec.heroku.apps)
            problems.append(
                Problem(
                    f"{receiver}.herokuApp",
                    f"no Heroku app '{d.heroku_app}' is declared",
                    f"{hint}name an app under launchplan:heroku.apps",
                )
            )
        if d.vercel_project is not None and d.vercel_project not in spec.vercel.projects:
            hint = did_you_mean(d.vercel_project, spec.vercel.projects)
            problems.append(
                Problem(
                    f"{receiver}.vercelProject",
                    f"no Vercel project '{d.vercel_project}' is declared",
                    f"{hint}name a project under launchplan:vercel.projects",
                )
            )
    return problems


def _heroku_duplicate_env(spec: Spec) -> list[Problem]:
    """Duplicate env keys within one Heroku app (across env, secretEnv, generatedEnv, receivers)."""
    problems: list[Problem] = []
    for app_name, app in spec.heroku.apps.items():
        seen: dict[str, str] = {}
        base = f"{NAMESPACE}:heroku.apps.{app_name}"
        sources = [
            *((k, f"{base}.env.{k}") for k in app.env),
            *((k, f"{base}.secretEnv.{k}") for k in app.secret_env),
            *((k, f"{base}.generatedEnv.{k}") for k in app.generated_env),
            *((d.env, d.path) for d in spec.deliveries() if d.heroku_app == app_name),
        ]
        for key, path in sources:
            if key in seen:
                problems.append(
                    Problem(
                        path, f"env key {key} is declared twice in app {app_name} (also at {seen[key]})", "keep one declaration"
                    )
                )
            seen.setdefault(key, path)
    return problems


def _vercel_duplicate_env(spec: Spec) -> list[Problem]:
    """Duplicate env keys within one Vercel target (and git branch)."""
    problems: list[Problem] = []
    for project_name, project in spec.vercel.projects.items():
        seen_t: dict[tuple[str, str, str], str] = {}
        base = f"{NAMESPACE}:vercel.projects.{project_name}"
        entries: list[tuple[str, list[str], str, str]] = [
            (v.key, list(v.targets), v.git_branch or "", f"{base}.env[{i}].key") for i, v in enumerate(project.env)
        ]
        entries += [(d.env, list(d.targets), "", d.path) for d in spec.deliveries() if d.vercel_project == project_name]
        for key, targets, branch, path in entries:
            for target in targets:
                slot = (key, target, branch)
                if slot in seen_t:
                    problems.append(
                        Problem(
                            path,
                            f"env key {key} is declared twice for target {target} (also at {seen_t[slot]})",
                            "keep one declaration per target",
                        )
                    )
                seen_t.setdefault(slot, path)
    return problems


def _secret_problems(spec: Spec, config: StackConfig, require_secrets: bool) -> list[Problem]:
    """Secret config keys: each must be set, and set as a secret."""
    stack = spec.stack
    problems: list[Problem] = []
    for key, used_at in sorted(spec.secret_refs().items(), key=lambda kv: kv[1]):
        if not config.is_set(key):
            if not require_secrets:
                continue
            problems.append(
                Problem(
                    used_at,
                    f"reads secret config key {key}, which stack {stack} does not set",
                    f"run `{set_secret_command(stack, key)}`",
                )
            )
        elif not config.is_secret(key):
            problems.append(
                Problem(
                    used_at,
                    f"secret config key {key} is set as plain text",
                    f"run `pulumi config rm --stack {stack} {key}` then `{set_secret_command(stack, key)}`",
                )
            )
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
    words = {
        "string_type": "text",
        "int_type": "whole number",
        "bool_type": "true or false",
        "float_type": "number",
        "dict_type": "mapping",
        "model_type": "mapping",
        "list_type": "list",
        "int_from_float": "whole number",
    }
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
