"""`launchplan clone SOURCE DESTINATION`: the destination stack's config from the source's,
by the reviewed rules in clone-rules.yaml, never blindly.

A dry run prints the review table (key, action, masked value) and writes nothing;
`--yes` writes the destination's stack file and copies the allowed secrets,
re-encrypted for the destination's secrets provider (`pulumi config cp`).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from infra.providers.http import PlatformApiError
from infra.spec.catalog import daily_at
from infra.spec.common import NAMESPACE, full_key
from infra.spec.engine_yaml import dump_document, load_data
from infra.spec.load import load_spec
from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig
from scripts.clone_data import clone_data
from scripts.console import err, fail, fail_spec, out
from scripts.output import ADD, CHANGE, DELETE, SAME, Printer, legend
from scripts.project import find_project_root, stack_file
from scripts.rehearsal import team_root
from scripts.stacks import Stack, StackError


@dataclass
class Row:
    key: str
    action: str
    value: str


@dataclass
class Plan:
    source: str
    destination: str
    sections: dict[str, Any]  # launchplan:* keys for the destination file
    rows: list[Row]
    secrets_to_copy: list[str]
    secrets_to_set: list[str]


def load_rules(path: Path, destination: str) -> dict[str, Any]:
    if not path.is_file():
        raise StackError(f"{path} does not exist: clone needs its reviewed rules file")
    rules = load_data(path.read_text()) or {}
    unknown = set(rules) - {"neverCopy", "freshSecrets", "copySecrets", "stacks"}
    if unknown:
        raise StackError(f"{path.name}: unknown keys {', '.join(sorted(unknown))}")
    dest = (rules.get("stacks") or {}).get(destination)
    if dest is None:
        raise StackError(
            f"{path.name} has no rules for destination '{destination}': add stacks.{destination} "
            "(app names, env overrides, plan, backups, domains)"
        )
    return {**rules, "dest": dest}


def _raw(stack: Stack, key: str) -> Any:
    text = StackConfig.from_file(stack.file, stack.name).namespace(NAMESPACE).get(key)
    return json.loads(text) if text else {}


@dataclass
class _Cloning:
    """What each step of plan_clone reads (the rules, the destination) and adds to (rows, secrets)."""

    source: str
    dest_name: str
    dest_rules: dict[str, Any]  # rules["stacks"][dest_name]
    never: list[str]  # env var patterns never copied
    fresh: set[str]  # env vars that must be fresh per stack
    copy_secrets: set[str]  # config keys whose secrets are copied
    dest_config: StackConfig | None
    rows: list[Row] = field(default_factory=list)
    to_copy: list[str] = field(default_factory=list)
    to_set: list[str] = field(default_factory=list)

    def add(self, key: str, action: str, value: str) -> None:
        self.rows.append(Row(key, action, value))


def plan_clone(source: Stack, destination: Stack | None, dest_name: str, rules: dict[str, Any]) -> Plan:
    c = _Cloning(
        source.name,
        dest_name,
        rules["dest"],
        list(rules.get("neverCopy") or []),
        set(rules.get("freshSecrets") or []),
        {full_key(k) for k in rules.get("copySecrets") or []},
        StackConfig.from_file(destination.file, dest_name) if destination else None,
    )
    heroku = copy.deepcopy(_raw(source, "heroku"))
    names: dict[str, str] = c.dest_rules.get("herokuApps") or {}
    apps = {}
    for src_name, app in (heroku.get("apps") or {}).items():
        if src_name not in names:
            raise StackError(f"clone rules name no {dest_name} app for {src_name}: add stacks.{dest_name}.herokuApps.{src_name}")
        apps[names[src_name]] = _clone_app(c, src_name, names[src_name], app)
    sections: dict[str, Any] = {}
    if apps:
        sections["heroku"] = {**{k: v for k, v in heroku.items() if k != "apps"}, "apps": apps}
    if _raw(source, "webhooks"):
        c.add("webhooks", "not copied", "their URLs belong to each stack: declare them in the destination")
    if _raw(source, "vercel"):
        c.add("vercel", "not copied", "Vercel projects serve every target from one project: no clone needed")
    return Plan(source.name, dest_name, sections, c.rows, c.to_copy, c.to_set)


def _clone_app(c: _Cloning, src_name: str, dst_name: str, app: dict[str, Any]) -> dict[str, Any]:
    """The source app's spec made the destination's (edited in place), its rows noted."""
    base = f"heroku.apps.{dst_name}"
    c.add(base, f"from {src_name}", "region, stack, formation, health check copied")
    app["env"] = _clone_env(c, base, app.get("env") or {})
    for env_key in app.get("generatedEnv") or {}:
        c.add(f"{base}.generatedEnv.{env_key}", "fresh secret (generated by the destination)", "[secret]")
    for env_key, config_key in (app.get("secretEnv") or {}).items():
        _clone_secret_env(c, f"{base}.secretEnv.{env_key}", env_key, config_key)
    if app.get("postgres") is not None or c.dest_rules.get("postgres"):
        app["postgres"] = _clone_postgres(c, base, app.get("postgres") or {})
    domains = (c.dest_rules.get("domains") or {}).get(src_name, [])
    if app.get("domains") or domains:
        c.add(f"{base}.domains", "set by the rules (never copied)", ", ".join(domains) or "none")
    app["domains"] = list(domains)
    if not app["domains"]:
        app.pop("domains")
    return app


def _clone_env(c: _Cloning, base: str, source_env: dict[str, str]) -> dict[str, str]:
    """Plain env vars: the never-copied ones dropped, the rules' overrides applied, sorted."""
    env = {}
    for key, value in source_env.items():
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in c.never):
            c.add(f"{base}.env.{key}", "never copied", value)
        else:
            env[key] = value
    overrides = c.dest_rules.get("env") or {}
    for key, value in overrides.items():
        c.add(f"{base}.env.{key}", "overridden" if key in env else "added", str(value))
        env[key] = str(value)
    for key in sorted(env):
        if key not in overrides:
            c.add(f"{base}.env.{key}", "copied", env[key])
    return dict(sorted(env.items()))


def _clone_secret_env(c: _Cloning, row_key: str, env_key: str, config_key: str) -> None:
    """A secret env var: copied by the rules, kept from the destination, or left to set there."""
    if env_key in c.fresh:
        raise StackError(f"{env_key} must be fresh per stack but {c.source} reads it from {config_key}: use generatedEnv for it")
    key = full_key(config_key)
    if key in c.copy_secrets:
        c.to_copy.append(key)
        c.add(row_key, "secret copied, re-encrypted", "[secret]")
    elif c.dest_config and c.dest_config.is_set(key):
        c.add(row_key, f"keeps {c.dest_name}'s own secret", "[secret]")
    else:
        c.to_set.append(key)
        c.add(row_key, "secret to set in the destination", f"pulumi config set --secret --stack {c.dest_name} {key}")


def _clone_postgres(c: _Cloning, base: str, source_pg: dict[str, Any]) -> dict[str, Any]:
    """The database settings with the rules' overrides; `protect` is left to the destination."""
    overrides = c.dest_rules.get("postgres") or {}
    pg = {**source_pg, **overrides}
    pg.pop("protect", None)  # the destination's own default decides
    c.add(f"{base}.postgres.plan", "overridden" if "plan" in overrides else "copied", str(pg.get("plan")))
    backups = pg.get("backups")
    c.add(
        f"{base}.postgres.backups",
        "overridden" if "backups" in overrides else "copied",
        f"daily {daily_at(backups['hour'], backups['timezone'])}" if backups else "none",
    )
    return pg


# --- the review, as a person reads it ----------------------------------------------------------


def mark(action: str) -> str:
    """The `pulumi preview --diff` marker of a review action, seen from the destination."""
    if action.startswith(("never copied", "not copied")):
        return DELETE
    if action.startswith(("overridden", "set by the rules")):
        return CHANGE
    if action.startswith(("added", "fresh secret", "secret to set")):
        return ADD
    return SAME  # copied, kept, re-encrypted


def print_review(plan: Plan, console: Console) -> None:
    """The review grouped by destination app, then by what happens, keys relative to the app
    (`env.LANG`), values whole."""
    p = Printer(console)
    p.line(Text(f"clone {plan.source} -> {plan.destination}", style="bold"))
    p.line(
        legend((ADD, f"new in {plan.destination}"), (DELETE, "not copied"), (CHANGE, "set by the rules")),
        indent=2,
    )
    apps: dict[str, list[Row]] = {}
    other: list[Row] = []
    for row in plan.rows:
        parts = row.key.split(".", 3)
        if parts[:2] == ["heroku", "apps"] and len(parts) >= 3:
            apps.setdefault(parts[2], []).append(row)
        else:
            other.append(row)
    for app, rows in apps.items():
        p.blank()
        base = f"heroku.apps.{app}"
        head = next((r for r in rows if r.key == base), None)
        p.line("heroku app ", Text(app, style="bold"), f", {head.action}" if head else "")
        if head is not None:
            p.line(head.value, indent=2)
        actions: dict[str, list[Row]] = {}
        for row in rows:
            if row is not head:
                actions.setdefault(row.action, []).append(row)
        for action, group in actions.items():
            p.line(f"{action}:", indent=2)
            for row in group:
                p.kv(f"{row.key.removeprefix(base + '.')}:", row.value, indent=4, mark=mark(action))
    if other:
        p.blank()
        for row in other:
            p.line(Text(row.key, style="bold"), f": {row.action}", mark=mark(row.action))
            p.line(row.value, indent=4)


def print_row_counts(
    source_app: str, destination_app: str, counts: dict[str, tuple[int | None, int | None]], console: Console
) -> None:
    """Rows per table after a data clone (`missing`: no such table); a differing count in red."""
    p = Printer(console)
    p.line(Text("row counts", style="bold"))
    rows: list[list[str | Text]] = [["table", source_app, destination_app]]
    for name, (a, b) in counts.items():
        shown = ["missing" if n is None else str(n) for n in (a, b)]
        rows.append([name, shown[0], Text(shown[1], style="" if a == b else "red")])
    p.columns(rows, indent=2)


def merged(plan: Plan, existing_text: str) -> dict[str, Any]:
    doc = (load_data(existing_text) if existing_text else None) or {}
    config = doc.get("config") or {}
    for key, value in plan.sections.items():
        config[f"{NAMESPACE}:{key}"] = value
    doc["config"] = config
    return doc


def validate(plan: Plan, project: Path) -> None:
    """The destination's new config must pass the spec before anything is written."""
    path = stack_file(project, plan.destination)
    doc = merged(plan, path.read_text() if path.is_file() else "")
    tmp = path.with_name(f".clone-check.{path.name}")
    tmp.write_text(dump_document(doc))
    try:
        load_spec(StackConfig.from_file(tmp, plan.destination), require_secrets=False)
    finally:
        tmp.unlink()


def write(plan: Plan, source: Stack, project: Path) -> Path:
    """Replace the destination file's cloned sections; keep everything else (secrets, salt, other keys)."""
    path = stack_file(project, plan.destination)
    text = path.read_text() if path.is_file() else ""
    header = []
    for line in text.splitlines():  # the file's leading comment block survives the rewrite
        if not line.startswith("#"):
            break
        header.append(line + "\n")
    path.write_text("".join(header) + dump_document(merged(plan, text), sort_keys=False, width=120))
    for key in plan.secrets_to_copy:
        source.pulumi("config", "cp", key, "--dest", plan.destination)
    return path


# --- the command ---------------------------------------------------------------------


def clone_command(
    source: Annotated[Optional[str], typer.Argument(help="The stack to clone from (e.g. staging).")] = None,
    destination: Annotated[Optional[str], typer.Argument(help="The stack to create or update (e.g. production).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Write the destination (default: a dry run).")] = False,
    rules: Annotated[Path, typer.Option(help="The reviewed clone rules.")] = Path("clone-rules.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the review as JSON.")] = False,
    data: Annotated[bool, typer.Option("--data", help="Also restore SOURCE's database into DESTINATION's.")] = False,
    confirm: Annotated[Optional[str], typer.Option(help="The destination app's name, confirming --data.")] = None,
    stack_option: Annotated[
        Optional[str], typer.Option("--stack", "-s", help="SOURCE, as `pulumi config cp --stack` takes it.")
    ] = None,
    dest_option: Annotated[
        Optional[str], typer.Option("--dest", help="DESTINATION, as `pulumi config cp --dest` takes it.")
    ] = None,
) -> None:
    """Create or update DESTINATION's config from SOURCE by reviewed rules; a dry run unless --yes.

    With --data: back up both databases, restore SOURCE's into DESTINATION's, compare row counts."""

    source, destination = _source_and_destination(source, destination, stack_option, dest_option)
    project = find_project_root()
    rules = team_root(project) / rules  # in a sandbox rehearsal, still the team's reviewed rules
    try:
        src = Stack(project, source)
        dst_file = stack_file(project, destination)
        dst = Stack(project, destination) if dst_file.is_file() else None
        plan = plan_clone(src, dst, destination, load_rules(rules, destination))
        validate(plan, project)
    except SpecError as exc:
        fail_spec(exc)
    except StackError as exc:
        fail(str(exc))
    if as_json:
        print(
            json.dumps(
                {
                    "source": source,
                    "destination": destination,
                    "written": yes,
                    "rows": [r.__dict__ for r in plan.rows],
                    "secretsToSet": plan.secrets_to_set,
                },
                indent=2,
            )
        )
    else:
        print_review(plan, out)
    if data:
        _clone_data(project, src, dst, rules, destination, confirm)
        return
    if not yes:
        live = dst.resource_count() if dst is not None and dst.exists() else 0
        if live:
            fail(f"{destination} has {live} live resources: review the table above, then pass --yes to update its config")
        err.print("Dry run: nothing written. Review the table, then run again with --yes.")
        return
    try:
        path = write(plan, src, project)
    except StackError as exc:
        fail(str(exc))
    err.print(f"wrote {path.name}; next: `pulumi preview --stack {destination}` and `launchplan gate {destination}`")


def _source_and_destination(
    source: Optional[str], destination: Optional[str], stack_option: Optional[str], dest_option: Optional[str]
) -> tuple[str, str]:
    """SOURCE and DESTINATION, positional or as `pulumi config cp` names them (--stack, --dest)."""
    named = [s for s in (source, destination) if s is not None]
    src = stack_option if stack_option is not None else (named.pop(0) if named else None)
    dst = dest_option if dest_option is not None else (named.pop(0) if named else None)
    if named:
        fail("too many stacks named: give SOURCE and DESTINATION once each (positionally, or --stack and --dest)")
    if src is None or dst is None:
        fail("name both stacks: launchplan clone SOURCE DESTINATION (or --stack SOURCE --dest DESTINATION)")
    if src == dst:
        fail(f"SOURCE and DESTINATION are both {src!r}: name two different stacks")
    return src, dst


def _clone_data(project: Path, src: Stack, dst: Stack | None, rules: Path, destination: str, confirm: Optional[str]) -> None:

    if dst is None:
        fail(f"--data needs the {destination} stack deployed first: clone its config, `pulumi up`, then --data")

    def confirmed(app_name: str) -> bool:
        if confirm is not None:
            return confirm == app_name
        if not sys.stdin.isatty():
            return False
        return typer.prompt(f"This overwrites {app_name}'s database. Type the app's name to go on") == app_name

    try:
        pairs = load_rules(rules, destination)["dest"].get("herokuApps") or {}
        for source_app, destination_app in pairs.items():
            result = clone_data(src, dst, source_app, destination_app, confirmed, lambda m: err.print(m, highlight=False))
            print_row_counts(result.source_app, result.destination_app, result.counts, out)
            out.print(f"safety backup of {destination_app} taken before the restore: {result.safety_backup}", soft_wrap=True)
            if not result.matches:
                fail("row counts differ after the restore (table above)", 1)
    except (StackError, PlatformApiError) as exc:
        fail(str(exc), 1)
