"""`launchplan drift STACK | --all`: three audits in one report.

1. declared vs live: `pulumi refresh --preview-only`, read from its engine event log,
   per resource and property;
2. out of band: config vars and Vercel env vars live on the platform that the stack
   does not manage (a refresh cannot see those);
3. staging vs production parity from the two specs: keys in one only, differing
   plans and backup schedules, and one secret value used in both stacks.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import Progress
from rich.text import Text

from infra.providers.http import PlatformApiError
from infra.spec.catalog import HEROKU_MANAGED_VARS
from infra.spec.problems import SpecError
from scripts.console import EXIT_DRIFT, err, fail, fail_spec, out, pick_stack
from scripts.output import ADD, CHANGE, DELETE, Printer, inline, legend
from scripts.project import find_project_root, stack_names
from scripts.pulumi_cli import EngineMissingError
from scripts.stacks import Stack, StackError

INTERNAL = ("__provider", "__pulumi_raw_state_delta")


@dataclass
class Drift:
    stack: str
    audit: str  # live | out-of-band | parity
    resource: str
    detail: str


def live(stack: Stack) -> list[Drift]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        stack.pulumi("refresh", "--preview-only", "--non-interactive", "--event-log", str(log))
        events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    found = []
    for event in events:
        meta = (event.get("resOutputsEvent") or {}).get("metadata") or {}
        if meta.get("op") not in ("update", "delete"):
            continue
        name = meta["urn"].rsplit("::", 1)[-1]
        if meta["op"] == "delete":
            found.append(Drift(stack.name, "live", name, "deleted outside Pulumi"))
            continue
        old, new = (meta.get("old") or {}).get("outputs") or {}, (meta.get("new") or {}).get("outputs") or {}
        # The engine names changed properties in `diffs`, and down to a map key in `detailedDiff`
        # (`vars.NODE_ENV`, also inside a secret map: the key is named, its value never is);
        # secret values are masked on both sides.
        keys = list(meta.get("detailedDiff") or meta.get("diffs") or [])
        keys = keys or [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]
        for key in sorted(k for k in keys if _path(k)[0] not in INTERNAL):
            before, after = _at(old, key), _at(new, key)
            if _is_secret(before) or _is_secret(after):
                found.append(Drift(stack.name, "live", name, f"{key}: changed outside Pulumi (a secret: values hidden)"))
            else:
                found.append(Drift(stack.name, "live", name, f"{key}: declared {_show(before)}, live {_show(after)}"))
    return found


def _path(key: str) -> list[str | int]:
    """The parts of an engine property path: `vars.NODE_ENV`, `env[0].key`, `tags["a.b"]`."""
    parts: list[str | int] = []
    for name, index, quoted in re.findall(r'([^.\[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]', key):
        parts.append(int(index) if index else (quoted if quoted or not name else name))
    return parts or [key]


def _at(outputs: dict[str, Any], key: str) -> Any:
    """The value at a property path; a secret on the way masks everything under it; None if absent."""
    value: Any = outputs
    for part in _path(key):
        if _is_secret(value):
            return value
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _is_secret(value: Any) -> bool:
    return value == "[secret]" or (isinstance(value, dict) and "ciphertext" in value)


def _show(value: Any) -> str:
    return inline(value)


def out_of_band(stack: Stack) -> list[Drift]:
    found = []
    if stack.spec.heroku.apps:
        with stack.heroku() as heroku:
            for name in stack.spec.heroku.apps:
                live_vars = heroku.request("GET", f"/apps/{name}/config-vars", ok_missing=True) or {}
                for key in sorted(set(live_vars) - stack.spec.heroku_env_keys(name)):
                    if not HEROKU_MANAGED_VARS.match(key):
                        found.append(Drift(stack.name, "out-of-band", name, f"config var {key} is set but not declared"))
    if stack.spec.vercel.projects:
        with stack.vercel() as vercel:
            for name in stack.spec.vercel.projects:
                declared = stack.spec.vercel_env_slots(name)
                page = vercel.request("GET", f"/v9/projects/{name}/env", params=stack.vercel_params(), ok_missing=True) or {}
                for env in page.get("envs", []):
                    extra = sorted(t for t in env.get("target", []) if (env["key"], t) not in declared)
                    if extra:
                        found.append(
                            Drift(
                                stack.name,
                                "out-of-band",
                                name,
                                f"env var {env['key']} on {', '.join(extra)} is set but not declared",
                            )
                        )
    return found


# --- sensitive values: compared by the platform's metadata, never by value ---------------------------

VERCEL_ENV = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
HEROKU_APP = "heroku:app/app:App"
CLOCK_SKEW_SECONDS = 2.0  # the platform's clock against this machine's: changes closer than this are not told apart


@dataclass
class SensitiveChange:
    resource: str
    detail: str
    urn: str


def _epoch(stamp: Any) -> float | None:
    """Seconds since the epoch of a platform time (Vercel: epoch ms; Heroku/Pulumi: ISO 8601)."""
    if isinstance(stamp, (int, float)):
        return float(stamp) / 1000 if stamp > 1e11 else float(stamp)
    if isinstance(stamp, str) and stamp:
        from datetime import datetime

        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _resources(stack: Stack) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = json.loads(stack.pulumi("stack", "export")).get("deployment", {}).get("resources") or []
    return resources


def sensitive_changes(stack: Stack, resources: list[dict[str, Any]] | None = None) -> list[SensitiveChange]:
    """Sensitive values changed outside Pulumi, told by the platform's metadata: a Vercel sensitive env
    var updated after Pulumi last wrote it (Vercel never returns the value, so a refresh cannot see it);
    a Heroku release that set config vars after Pulumi last changed the app."""
    resources = _resources(stack) if resources is None else resources
    found: list[SensitiveChange] = []
    envs = [r for r in resources if r.get("type") == VERCEL_ENV and (r.get("outputs") or {}).get("sensitive")]
    if envs:
        with stack.vercel() as vercel:
            pages: dict[str, dict[str, Any]] = {}
            for r in envs:
                outs = r.get("outputs") or {}
                project, team = str(outs.get("projectId")), outs.get("teamId")
                if project not in pages:
                    params = {"teamId": team} if team else stack.vercel_params()
                    pages[project] = vercel.request("GET", f"/v9/projects/{project}/env", params=params, ok_missing=True) or {}
                live = next((e for e in pages[project].get("envs", []) if e.get("id") == r.get("id")), None)
                written, updated = _epoch(r.get("modified")), _epoch((live or {}).get("updatedAt"))
                if live and written and updated and updated > written + CLOCK_SKEW_SECONDS:
                    found.append(
                        SensitiveChange(
                            r["urn"].rsplit("::", 1)[-1],
                            f"sensitive value of {outs.get('key')} changed outside Pulumi (Vercel updated it at "
                            f"{_iso(updated)}, Pulumi last wrote it at {_iso(written)}; the value itself is never readable)",
                            r["urn"],
                        )
                    )
    apps = [r for r in resources if r.get("type") == HEROKU_APP]
    if apps:
        with stack.heroku() as heroku:
            for r in apps:
                name = str((r.get("outputs") or {}).get("name"))
                # Config vars reach an app through several resources (the app, config associations, add-ons):
                # a release after Pulumi's latest write to the stack was made by someone else.
                written = max((_epoch(x.get("modified")) or 0.0 for x in resources), default=0.0)
                releases = heroku.request("GET", f"/apps/{name}/releases", ok_missing=True) or []
                for release in releases:
                    made = _epoch(release.get("created_at"))
                    text = str(release.get("description") or "")
                    if written and made and made > written + CLOCK_SKEW_SECONDS and "config var" in text:
                        found.append(
                            SensitiveChange(
                                name,
                                f"release v{release.get('version')} ({text}) at {_iso(made)}, after Pulumi last changed "
                                "the app: config vars changed outside Pulumi",
                                r["urn"],
                            )
                        )
    return found


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uncomparable(stack: Stack) -> list[str]:
    """Values no audit can compare at all: neither the value nor any metadata of it comes back."""
    notes = []
    for name, hook in stack.spec.webhooks.items():
        provider = type(hook).__name__.replace("WebhookSpec", "")
        if provider == "Calendly":
            notes.append(f"{name}: the Calendly signing key is never returned and has no update time; it cannot be compared")
        else:
            notes.append(f"{name}: the {provider} webhook secret lives in a dashboard with no API; it cannot be compared")
    return notes


def parity(staging: Stack, production: Stack) -> list[Drift]:
    found = []
    apps_a, apps_b = sorted(staging.spec.heroku.apps), sorted(production.spec.heroku.apps)
    for name_a, name_b in zip(apps_a, apps_b, strict=False):
        a, b = staging.spec.heroku.apps[name_a], production.spec.heroku.apps[name_b]
        label = f"{name_a} / {name_b}"
        keys_a = set(a.env) | set(a.secret_env) | set(a.generated_env)
        keys_b = set(b.env) | set(b.secret_env) | set(b.generated_env)
        for key in sorted(keys_a - keys_b):
            found.append(Drift("parity", "parity", label, f"env key {key} only in {staging.name}"))
        for key in sorted(keys_b - keys_a):
            found.append(Drift("parity", "parity", label, f"env key {key} only in {production.name}"))
        plan_a = a.postgres.plan if a.postgres else None
        plan_b = b.postgres.plan if b.postgres else None
        if plan_a != plan_b:
            found.append(
                Drift("parity", "parity", label, f"Postgres plan {plan_a} in {staging.name}, {plan_b} in {production.name}")
            )
        back_a = a.postgres.backups if a.postgres else None
        back_b = b.postgres.backups if b.postgres else None
        if back_a != back_b:
            found.append(
                Drift(
                    "parity",
                    "parity",
                    label,
                    f"backups {_backups(back_a)} in {staging.name}, {_backups(back_b)} in {production.name}",
                )
            )
    for name in sorted(set(staging.spec.vercel.projects) ^ set(production.spec.vercel.projects)):
        where = staging.name if name in staging.spec.vercel.projects else production.name
        found.append(Drift("parity", "parity", name, f"Vercel project only in {where}"))
    found += shared_secrets(staging, production)
    return found


def _backups(backups: Any) -> str:
    return f"daily {backups.at}" if backups else "none"


def shared_secrets(a: Stack, b: Stack) -> list[Drift]:
    """The same secret value in two stacks is a finding: one leak would open both."""
    digests: dict[str, dict[str, str]] = {}
    for stack in (a, b):
        digests[stack.name] = {k: hashlib.sha256(v.encode()).hexdigest() for k, v in stack.secrets().items() if v}
    return [
        Drift("parity", "parity", key, f"the same secret value is set in {a.name} and {b.name}")
        for key in sorted(set(digests[a.name]) & set(digests[b.name]))
        if digests[a.name][key] == digests[b.name][key]
    ]


# --- the report ----------------------------------------------------------------------

AUDITS = {
    "live": "declared vs live (pulumi refresh --preview-only)",
    "sensitive": "sensitive values changed outside Pulumi (told by the platform's metadata)",
    "out-of-band": "set on the platform but not declared",
    "parity": "staging vs production",
}


def _mark(finding: Drift) -> str:
    if finding.audit == "out-of-band":
        return ADD
    if finding.audit == "live" and finding.detail == "deleted outside Pulumi":
        return DELETE
    return CHANGE


def print_drift(stacks: list[str], findings: list[Drift], notes: list[str], console: Console) -> None:
    """Findings by stack, then audit, then resource, each detail with Pulumi's marker."""
    p = Printer(console)
    if not findings:
        p.line(Text("No drift", style="green"), f" in {', '.join(stacks) or 'no deployed stack'}.")
    else:
        count = len(findings)
        p.line(Text("drift", style="bold"), f": {count} finding{'s' if count != 1 else ''} in {', '.join(stacks)}")
        p.line(legend((CHANGE, "changed"), (DELETE, "deleted outside Pulumi"), (ADD, "set but not declared")), indent=2)
        grouped: dict[str, dict[str, dict[str, list[Drift]]]] = {}
        for f in findings:
            grouped.setdefault(f.stack, {}).setdefault(f.audit, {}).setdefault(f.resource, []).append(f)
        for stack, audits in grouped.items():
            p.blank()
            p.line(Text(stack, style="bold"))
            for audit, resources in audits.items():
                p.line(f"{AUDITS.get(audit, audit)}:", indent=2)
                for resource, found in resources.items():
                    p.line(Text(resource, style="bold"), indent=4)
                    for f in found:
                        p.line(f.detail, indent=6, mark=_mark(f))
    if notes:
        p.blank()
        p.line(Text("Cannot be compared at all:", style="bold"))
        for note in notes:
            p.line(note, indent=2)


# --- the command ---------------------------------------------------------------------


def drift_command(
    stack: Annotated[Optional[str], typer.Argument(help="The stack to audit.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every deployed stack, in parallel.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    stack_option: Annotated[Optional[str], typer.Option("--stack", "-s", help="The stack, as `pulumi --stack` takes it.")] = None,
) -> None:
    """Declared vs live, out-of-band vars, staging vs production. Exit 0 clean, 3 when drift is found."""

    stack = pick_stack(stack, stack_option, required=False)
    if (stack is None) == (not all_stacks):
        fail("name one stack (STACK or --stack STACK), or pass --all")
    project = find_project_root()
    try:
        if all_stacks:
            names = stack_names(project)
            stacks = [s for s in (Stack(project, n) for n in names) if s.exists()]
        else:
            assert stack is not None
            stacks = [Stack(project, stack)]
            if not stacks[0].exists():
                fail(stacks[0].absent("compare"))

        def audit(s: Stack) -> list[Drift]:
            changed = [Drift(s.name, "sensitive", c.resource, c.detail) for c in sensitive_changes(s)]
            return [*live(s), *changed, *out_of_band(s)]

        findings: list[Drift] = []
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("auditing", total=len(stacks))
            with ThreadPoolExecutor(max_workers=4) as pool:
                for result in pool.map(audit, stacks):
                    findings += result
                    progress.advance(task)
        by_name = {s.name: s for s in stacks}
        if "staging" in by_name and "production" in by_name:
            findings += parity(by_name["staging"], by_name["production"])
    except SpecError as exc:
        fail_spec(exc)
    except (StackError, PlatformApiError, EngineMissingError) as exc:
        fail(str(exc))
    notes = [f"{s.name}: {note}" for s in stacks for note in uncomparable(s)]
    if as_json:
        report = {"stacks": [s.name for s in stacks], "drift": [asdict(f) for f in findings], "uncomparable": notes}
        print(json.dumps(report, indent=2))
    else:
        print_drift([s.name for s in stacks], findings, notes, out)
    raise typer.Exit(EXIT_DRIFT if findings else 0)
