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
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from infra.providers.http import PlatformApiError
from infra.spec.catalog import HEROKU_MANAGED_VARS
from infra.spec.problems import SpecError
from scripts.console import EXIT_DRIFT, err, fail, out
from scripts.project import find_project_root, stack_names
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
        # The engine names changed properties in `diffs`; secret ones are masked on both sides.
        keys = meta.get("diffs") or [k for k in old.keys() | new.keys() if old.get(k) != new.get(k)]
        for key in sorted(k for k in keys if k not in INTERNAL):
            if _is_secret(old.get(key)) or _is_secret(new.get(key)):
                found.append(Drift(stack.name, "live", name, f"{key}: changed outside Pulumi (a secret: values hidden)"))
            else:
                found.append(
                    Drift(stack.name, "live", name, f"{key}: declared {_show(old.get(key))}, live {_show(new.get(key))}")
                )
    return found


def _is_secret(value: Any) -> bool:
    return value == "[secret]" or (isinstance(value, dict) and "ciphertext" in value)


def _show(value: Any) -> str:
    return json.dumps(value)


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


# --- the command ---------------------------------------------------------------------


def drift_command(
    stack: Annotated[Optional[str], typer.Argument(help="The stack to audit.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every deployed stack, in parallel.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Declared vs live, out-of-band vars, staging vs production. Exit 0 clean, 3 when drift is found."""

    if (stack is None) == (not all_stacks):
        fail("name one stack, or pass --all")
    project = find_project_root()
    try:
        if all_stacks:
            names = stack_names(project)
            stacks = [s for s in (Stack(project, n) for n in names) if s.exists()]
        else:
            assert stack is not None
            stacks = [Stack(project, stack)]
            if not stacks[0].exists():
                fail(f"stack {stack} is not deployed in this backend (`pulumi stack ls`): nothing to compare")

        def audit(s: Stack) -> list[Drift]:
            return [*live(s), *out_of_band(s)]

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
    except (StackError, SpecError, PlatformApiError) as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps({"stacks": [s.name for s in stacks], "drift": [asdict(f) for f in findings]}, indent=2))
    elif findings:
        table = Table("stack", "audit", "resource", "detail", title="drift", title_justify="left")
        for f in findings:
            table.add_row(f.stack, f.audit, escape(f.resource), escape(f.detail))
        out.print(table)
    else:
        out.print(f"[green]No drift[/] in {', '.join(s.name for s in stacks) or 'no deployed stack'}.")
    raise typer.Exit(EXIT_DRIFT if findings else 0)
