"""Reading a stack's `launchplan:*` config into a validated Spec, before any resource
is registered.

Every problem is collected, not just the first, and each one names the stack,
the full key path (`launchplan:heroku.apps.<app>.postgres.plan`) and the fix.
Values are never echoed back in messages: a misplaced credential must not end
up in a terminal or a CI log because it failed validation.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter, ValidationError

from infra.spec.common import NAMESPACE, full_key, suggested_config_key
from infra.spec.fixes import EXAMPLES, problems_from
from infra.spec.heroku import Heroku
from infra.spec.problems import Problem, SpecError, did_you_mean, set_secret_command
from infra.spec.secrecy import looks_secret, looks_secret_key, query_credentials, secret_value, url_password
from infra.spec.stack_config import StackConfig
from infra.spec.stack_spec import Spec
from infra.spec.vercel import Vercel
from infra.spec.webhooks import CalendlyWebhookSpec, Endpoints, WebhookSpec

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
            if SECTIONS[key] is bool:
                problems.append(
                    Problem(f"{NAMESPACE}:{key}", "is not a structured value (true or false)", f"write {EXAMPLES[key]}")
                )
            else:
                problems.append(
                    Problem(
                        f"{NAMESPACE}:{key}", "is not a structured value", f"write it as a YAML mapping, e.g. {EXAMPLES[key]}"
                    )
                )

    planted = _planted_secrets(parsed, stack)
    problems.extend(planted)
    sandbox = parsed.get("sandbox", False) is True
    context = {"stack": stack, "sandbox": sandbox}
    sections: dict[str, Any] = {}
    for key, value in parsed.items():
        try:
            sections[key] = TypeAdapter(SECTIONS[key]).validate_python(value, context=context)
        except ValidationError as exc:
            found = problems_from(exc, f"{NAMESPACE}:{key}", SECTIONS[key])
            flagged = {p.path for p in planted}
            problems.extend(p for p in found if p.path not in flagged)

    spec: Spec | None = None
    typos: dict[str, str] = {}
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
        typos = _typo_targets(spec, config)
        problems.extend(_cross_checks(spec, config, require_secrets, typos))

    referenced = set(spec.secret_refs()) if spec else _raw_secret_refs(parsed)
    for key in sorted(raw):
        full = f"{NAMESPACE}:{key}"
        if key in SECTIONS or full in referenced | {f"{NAMESPACE}:calendlyToken"} or full in typos.values():
            continue
        leaked = (looks_secret_key(full) or secret_value(raw[key]) is not None) and not config.is_secret(full)
        if leaked:
            problems.append(
                Problem(
                    full,
                    "unknown key holding what looks like a credential in plain text (not shown)",
                    f"remove it with `pulumi config rm --stack {stack} {full}`; if an app needs it, "
                    f"run `{set_secret_command(stack, full)}` and reference it from secretEnv / a Vercel env var",
                )
            )
            continue
        problems.append(
            Problem(
                full,
                "unknown key (not a spec section and not a secret the spec references)",
                f"{did_you_mean(key, list(SECTIONS))}remove it with `pulumi config rm --stack {stack} {full}` "
                f"or reference it from secretEnv / a Vercel env var",
            )
        )
    problems.extend(_plain_credentials(config, referenced))

    if problems:
        raise SpecError(stack, problems)
    assert spec is not None
    return spec


def _plain_credentials(config: StackConfig, referenced: set[str]) -> list[Problem]:
    """A provider's credential (any namespace but launchplan's) set in plain text in the stack file."""
    problems = []
    for key, value in sorted(config.values.items()):
        if key.startswith(f"{NAMESPACE}:") or key in referenced or config.is_secret(key):
            continue
        if looks_secret_key(key) or secret_value(value) is not None:
            problems.append(
                Problem(
                    key,
                    "looks like a credential set as plain text in the stack file (not shown)",
                    f"run `pulumi config rm --stack {config.stack} {key}` then `{set_secret_command(config.stack, key)}`",
                )
            )
    return problems


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any, str | None]]:
    """(path, leaf, mapping key the leaf sits under) for every text leaf and every mapping key."""
    if isinstance(value, dict):
        for k, v in value.items():
            key_path = f"{path}.{k}"
            yield (path, k, None)  # the key itself, at its parent's path
            if isinstance(v, (dict, list)):
                yield from _walk(v, key_path)
            else:
                yield (key_path, v, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                yield from _walk(v, f"{path}[{i}]")
            else:
                yield (f"{path}[{i}]", v, None)


def _planted_secrets(parsed: dict[str, Any], stack: str) -> list[Problem]:
    """Text anywhere in the spec that carries a credential (whatever its key is called): a plain
    env value that is a token or a URL with a password, a token pasted into any other field. Names
    that look secret and config key references are checked by the models themselves."""
    problems: list[Problem] = []
    for section, value in parsed.items():
        root = f"{NAMESPACE}:{section}"
        for path, leaf, under in _walk(value, root):
            if not isinstance(leaf, str):
                continue
            parts = path.split(".")
            in_env = len(parts) >= 2 and parts[-2] == "env" and section == "heroku" and under is not None
            vercel_value = under == "value" and section == "vercel"
            if under is None and not path.endswith("]"):  # a mapping key
                kind = secret_value(leaf)
                if kind:
                    problems.append(
                        Problem(
                            path,
                            f"has a key that looks like {kind} (not shown)",
                            "remove it: a key names a setting, never a secret",
                        )
                    )
                continue
            if GO_TIME_TEXT.match(leaf):
                problems.append(
                    Problem(
                        path,
                        f"is an unquoted date or time, which Pulumi reads as a timestamp and hands over as '{leaf}'",
                        "quote it to keep the text as written, e.g. '2024-01-01'",
                    )
                )
                continue
            if path.endswith(".fromConfig") or ".secretEnv." in path:
                continue  # key references: checked (and never echoed) by the models
            if (under == "url" or section == "endpoints") and (url_password(leaf) or query_credentials(leaf)):
                continue  # check_url refuses a credential in a URL's userinfo or query, with the exact fix
            if in_env and looks_secret(under or ""):
                continue  # the name already says secret: the model reports it with its fix
            kind = secret_value(leaf, plain_expected=in_env or vercel_value)
            if not kind:
                continue
            if in_env or vercel_value:
                name = under if in_env else _sibling_key(parsed, path)
                config_key = suggested_config_key(name or "SECRET_VALUE")
                declare = f"declare it as secretEnv: {{{name}: {config_key}}}" if in_env else f"write fromConfig: {config_key}"
                problems.append(
                    Problem(
                        path,
                        f"{name or 'this env var'} holds what looks like {kind}, given as a plain value (not shown)",
                        f"remove the value from this file, run `{set_secret_command(stack, full_key(config_key))}` "
                        f"(it prompts for the value), and {declare}",
                    )
                )
            else:
                problems.append(
                    Problem(
                        path,
                        f"holds what looks like {kind} (not shown)",
                        "remove it: credentials never go in a stack file; set them with `pulumi config set --secret` "
                        "and reference them from secretEnv / fromConfig",
                    )
                )
    return problems


# How the engine hands over an unquoted YAML timestamp (Go's time.Time.String()).
GO_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? [+-]\d{4} \S+$")


def _sibling_key(parsed: dict[str, Any], path: str) -> str | None:
    """The `key` beside a Vercel env var's `value` (launchplan:vercel.projects.web.env[0].value)."""
    node: Any = parsed
    tokens = path.removeprefix(f"{NAMESPACE}:").replace("[", ".[").split(".")[:-1]
    for token in tokens:
        if token.startswith("["):
            index = int(token[1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.get(token) if isinstance(node, dict) else None
    key = node.get("key") if isinstance(node, dict) else None
    return key if isinstance(key, str) and not secret_value(key) else None


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


def _cross_checks(spec: Spec, config: StackConfig, require_secrets: bool, typos: dict[str, str]) -> list[Problem]:
    """What no single section can check alone: references between sections, conflicts, and the secrets' state."""
    return [
        *_receiver_problems(spec),
        *_delivery_conflicts(spec),
        *_heroku_duplicate_env(spec),
        *_vercel_duplicate_env(spec),
        *_calendly_url_conflicts(spec),
        *_domain_conflicts(spec),
        *_secret_problems(spec, config, require_secrets, typos),
    ]


def _delivery_conflicts(spec: Spec) -> list[Problem]:
    """Two webhooks delivering their signing secrets into one env var: one overwrites the other,
    and the other sender's signatures can then never be verified."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], str] = {}
    for d in spec.deliveries():
        place = f"Heroku app {d.heroku_app}" if d.heroku_app else f"Vercel project {d.vercel_project}"
        targets = ("*",) if d.heroku_app else d.targets
        for target in targets:
            slot = (place, d.env, target)
            if slot in seen and seen[slot] != d.webhook:
                other = seen[slot]
                problems.append(
                    Problem(
                        d.path,
                        f"webhooks {other} and {d.webhook} both deliver their signing secret into {d.env} of {place}: "
                        f"one would overwrite the other, and {other}'s signatures could never be verified",
                        f"give each webhook its own env var, e.g. env: {d.env}_{d.webhook.upper().replace('-', '_')}",
                    )
                )
                break
            seen.setdefault(slot, d.webhook)
    return problems


def _calendly_url_conflicts(spec: Spec) -> list[Problem]:
    """Calendly keeps one subscription per callback URL: a second webhook for it deletes the first."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name, hook in spec.webhooks.items():
        if not isinstance(hook, CalendlyWebhookSpec):
            continue
        if hook.url in seen:
            problems.append(
                Problem(
                    f"{NAMESPACE}:webhooks.{name}.url",
                    f"webhooks {seen[hook.url]} and {name} register the same URL with Calendly, which keeps one "
                    "subscription per URL: creating one would delete the other",
                    f"merge them into one webhook listing both sets of events, or give {name} its own URL path",
                )
            )
        seen.setdefault(hook.url, name)
    return problems


def _domain_conflicts(spec: Spec) -> list[Problem]:
    """A domain points at one app: the same one on two apps (or on Heroku and Vercel) fights itself."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    owners = [(f"{NAMESPACE}:heroku.apps.{n}.domains", a.domains) for n, a in spec.heroku.apps.items()]
    owners += [(f"{NAMESPACE}:vercel.projects.{n}.domains", p.domains) for n, p in spec.vercel.projects.items()]
    for path, domains in owners:
        for domain in domains:
            if domain in seen:
                problems.append(
                    Problem(
                        path,
                        f"domain {domain} is also declared at {seen[domain]}: a domain can point at one app only",
                        "keep it on the app or project that should serve it, and remove it here",
                    )
                )
            seen.setdefault(domain, path)
    return problems


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
            if key in seen and not (path.endswith(".receiver.env") and seen[key].endswith(".receiver.env")):
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
                both_webhooks = slot in seen_t and path.endswith(".receiver.env") and seen_t[slot].endswith(".receiver.env")
                if slot in seen_t and not both_webhooks:
                    problems.append(
                        Problem(
                            path,
                            f"env key {key} is declared twice for target {target} (also at {seen_t[slot]})",
                            "keep one declaration per target",
                        )
                    )
                seen_t.setdefault(slot, path)
    return problems


def _typo_targets(spec: Spec, config: StackConfig) -> dict[str, str]:
    """A referenced secret key that is not set, mapped to the set-but-unreferenced key it most
    likely meant (`launchplan:smtpPasword` -> `launchplan:smtpPassword`). Outside launchplan's own
    namespace only keys that name a credential count (heroku:url is a provider setting, not a typo)."""
    refs = spec.secret_refs()
    unreferenced = [k for k in config.values if k not in refs and k.split(":", 1)[-1] not in SECTIONS]
    typos: dict[str, str] = {}
    for key in sorted(refs):
        if config.is_set(key):
            continue
        ns, name = key.split(":", 1)
        candidates = {
            k.split(":", 1)[1]: k
            for k in unreferenced
            if k.startswith(f"{ns}:") and k not in typos.values() and (ns == NAMESPACE or looks_secret_key(k))
        }
        match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
        if match:
            typos[key] = candidates[match[0]]
    return typos


def _secret_problems(spec: Spec, config: StackConfig, require_secrets: bool, typos: dict[str, str]) -> list[Problem]:
    """Secret config keys: each must be set, and set as a secret; a misspelt reference is named."""
    stack = spec.stack
    problems: list[Problem] = []
    for key, used_at in sorted(spec.secret_refs().items(), key=lambda kv: kv[1]):
        if not config.is_set(key):
            if key in typos:
                meant = typos[key]
                short = meant.removeprefix(f"{NAMESPACE}:")
                problems.append(
                    Problem(
                        used_at,
                        f"reads secret config key {key}, which stack {stack} does not set; {meant} is set but read by nothing",
                        f"did you mean '{short}'? write {short} here (or rename the config key to match)",
                    )
                )
                continue
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
