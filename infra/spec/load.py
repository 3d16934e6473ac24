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
from dataclasses import dataclass
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
    raw = config.namespace(NAMESPACE)
    stack = config.stack
    parsed, problems = _parse_sections(raw)
    planted = _planted_secrets(parsed, stack)
    problems.extend(planted)
    sandbox = parsed.get("sandbox", False) is True
    sections, invalid = _validate_sections(parsed, {"stack": stack, "sandbox": sandbox}, {p.path for p in planted})
    problems.extend(invalid)

    spec: Spec | None = None
    typos: dict[str, str] = {}
    if not problems:
        spec = _build_spec(stack, sandbox, sections)
        typos = _typo_targets(spec, config)
        problems.extend(_cross_checks(spec, config, require_secrets, typos))

    referenced = set(spec.secret_refs()) if spec else _raw_secret_refs(parsed)
    problems.extend(_unknown_keys(config, raw, referenced | set(typos.values())))
    problems.extend(_plain_credentials(config, referenced))

    if problems:
        raise SpecError(stack, problems)
    assert spec is not None
    return spec


def _parse_sections(raw: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Each spec section's text as a value (JSON, or true/false), and a problem for each that is neither."""
    parsed: dict[str, Any] = {}
    problems: list[Problem] = []
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
    return parsed, problems


def _validate_sections(
    parsed: dict[str, Any], context: dict[str, Any], flagged: set[str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Each parsed section as its model, and the models' problems but those at paths already
    `flagged` as planted secrets."""
    sections: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in parsed.items():
        try:
            sections[key] = TypeAdapter(SECTIONS[key]).validate_python(value, context=context)
        except ValidationError as exc:
            found = problems_from(exc, f"{NAMESPACE}:{key}", SECTIONS[key])
            problems.extend(p for p in found if p.path not in flagged)
    return sections, problems


def _build_spec(stack: str, sandbox: bool, sections: dict[str, Any]) -> Spec:
    """The Spec from the validated sections, each absent one at its default."""
    protect_default = stack == "production" or stack.startswith("prod")
    return Spec(
        stack=stack,
        sandbox=sandbox,
        protect_databases=sections.get("protectDatabases", protect_default),
        heroku=sections.get("heroku", Heroku()),
        vercel=sections.get("vercel", Vercel()),
        webhooks=sections.get("webhooks", {}),
        endpoints=sections.get("endpoints", Endpoints()),
    )


def _unknown_keys(config: StackConfig, raw: dict[str, str], known: set[str]) -> list[Problem]:
    """launchplan:* keys that are neither a spec section nor a `known` key (a secret the spec
    references, or a typo's target); one holding what looks like a credential says so."""
    problems = []
    stack = config.stack
    for key in sorted(raw):
        full = f"{NAMESPACE}:{key}"
        if key in SECTIONS or full in known | {f"{NAMESPACE}:calendlyToken"}:
            continue
        if (looks_secret_key(full) or secret_value(raw[key]) is not None) and not config.is_secret(full):
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
    return problems


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


@dataclass(frozen=True)
class _Leaf:
    """A text in a spec section: a value, or (under None, not a list item) a mapping key."""

    section: str
    path: str
    text: str
    under: str | None  # the mapping key the value sits under

    @property
    def is_key(self) -> bool:
        return self.under is None and not self.path.endswith("]")

    @property
    def in_env(self) -> bool:  # a Heroku app's plain env var
        parts = self.path.split(".")
        return len(parts) >= 2 and parts[-2] == "env" and self.section == "heroku" and self.under is not None

    @property
    def vercel_value(self) -> bool:  # a Vercel env var's value
        return self.under == "value" and self.section == "vercel"


def _planted_secrets(parsed: dict[str, Any], stack: str) -> list[Problem]:
    """Text anywhere in the spec that carries a credential (whatever its key is called): a plain
    env value that is a token or a URL with a password, a token pasted into any other field. Names
    that look secret and config key references are checked by the models themselves."""
    problems: list[Problem] = []
    for section, value in parsed.items():
        for path, leaf, under in _walk(value, f"{NAMESPACE}:{section}"):
            if isinstance(leaf, str):
                problem = _planted_secret(_Leaf(section, path, leaf, under), parsed, stack)
                if problem is not None:
                    problems.append(problem)
    return problems


def _planted_secret(leaf: _Leaf, parsed: dict[str, Any], stack: str) -> Problem | None:
    """The problem with one text of the spec, if it carries a credential or a mangled timestamp."""
    if leaf.is_key:
        kind = secret_value(leaf.text)
        if not kind:
            return None
        return Problem(
            leaf.path, f"has a key that looks like {kind} (not shown)", "remove it: a key names a setting, never a secret"
        )
    if GO_TIME_TEXT.match(leaf.text):
        return Problem(
            leaf.path,
            f"is an unquoted date or time, which Pulumi reads as a timestamp and hands over as '{leaf.text}'",
            "quote it to keep the text as written, e.g. '2024-01-01'",
        )
    if _checked_by_the_models(leaf):
        return None
    kind = secret_value(leaf.text, plain_expected=leaf.in_env or leaf.vercel_value)
    if not kind:
        return None
    if leaf.in_env or leaf.vercel_value:
        return _plain_env_secret(leaf, kind, parsed, stack)
    return Problem(
        leaf.path,
        f"holds what looks like {kind} (not shown)",
        "remove it: credentials never go in a stack file; set them with `pulumi config set --secret` "
        "and reference them from secretEnv / fromConfig",
    )


def _checked_by_the_models(leaf: _Leaf) -> bool:
    """Texts whose models report a credential themselves, with a more exact fix."""
    if leaf.path.endswith(".fromConfig") or ".secretEnv." in leaf.path:
        return True  # key references: checked (and never echoed) by the models
    if (leaf.under == "url" or leaf.section == "endpoints") and (url_password(leaf.text) or query_credentials(leaf.text)):
        return True  # check_url refuses a credential in a URL's userinfo or query, with the exact fix
    return leaf.in_env and looks_secret(leaf.under or "")  # the name already says secret


def _plain_env_secret(leaf: _Leaf, kind: str, parsed: dict[str, Any], stack: str) -> Problem:
    """A credential given as an env var's plain value: the fix moves it into a secret config key."""
    name = leaf.under if leaf.in_env else _sibling_key(parsed, leaf.path)
    config_key = suggested_config_key(name or "SECRET_VALUE")
    declare = f"declare it as secretEnv: {{{name}: {config_key}}}" if leaf.in_env else f"write fromConfig: {config_key}"
    return Problem(
        leaf.path,
        f"{name or 'this env var'} holds what looks like {kind}, given as a plain value (not shown)",
        f"remove the value from this file, run `{set_secret_command(stack, full_key(config_key))}` "
        f"(it prompts for the value), and {declare}",
    )


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
