"""`launchplan gate STACK`: decide from `pulumi preview --json` whether a change may be applied.

Every step is classified (op, resource, changed inputs). The gate fails, naming
the resource and the reason, on: delete or replace of a database add-on, an app,
a domain or a backup schedule; a database plan downgrade; a stack whose spec
protects its databases but declares no backups; an input that was secret and
becomes plain; and anything in production unless the same commit's preview of
staging passed this gate (recorded in the records folder). `--allow URN
--reason TEXT` lets one named step through and records why.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from infra.spec.catalog import POSTGRES_PLANS, plan_rank
from infra.spec.load import load_spec
from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig
from scripts import gate_records
from scripts.console import EXIT_BLOCKED, err, fail, fail_spec, out, pick_stack, require_writable
from scripts.output import ABSENT, CHANGE, Printer, diff_lines, mark_of, simplify_type
from scripts.project import find_project_root
from scripts.project import stack_file as project_stack_file
from scripts.pulumi_cli import cause_label, failure_cause
from scripts.rehearsal import team_root
from scripts.stacks import Stack, StackError

SECRET = "[secret]"
DESTRUCTIVE = {"delete", "replace", "create-replacement", "delete-replaced", "discard", "discard-replaced"}
GUARDED = {
    "heroku:addon/addon:Addon": "database add-on",
    "heroku:app/app:App": "Heroku app",
    "vercel:index/project:Project": "Vercel project",
    "heroku:domain/domain:Domain": "domain",
    "vercel:index/projectDomain:ProjectDomain": "domain",
    "pulumi-python:dynamic/heroku:BackupSchedule": "backup schedule",
}


class GateInputError(ValueError):
    """Bad input to the gate (malformed preview, unknown --allow): nothing was decided."""


@dataclass
class Step:
    op: str
    urn: str
    type: str
    name: str
    changed: list[str]
    replace_reasons: list[str]
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass
class Finding:
    urn: str
    name: str
    reason: str
    allowed_because: str | None = None


@dataclass
class Verdict:
    stack: str
    commit: str
    steps: list[Step]
    findings: list[Finding] = field(default_factory=list)
    policy_errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.policy_errors and all(f.allowed_because for f in self.findings)


def parse_preview(text: str, source: str) -> list[Step]:
    """Steps of a `pulumi preview --json` document, or GateInputError naming what is wrong."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise GateInputError(f"{source} is not JSON ({exc}): pass the output of `pulumi preview --json`") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise GateInputError(f"{source} has no 'steps' list: pass the output of `pulumi preview --json`")
    steps = []
    for i, raw in enumerate(doc["steps"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) or not isinstance(raw.get("urn"), str):
            raise GateInputError(f"{source}: steps[{i}] needs an 'op' and a 'urn'")
        parts = raw["urn"].split("::")
        if len(parts) < 4:
            raise GateInputError(f"{source}: steps[{i}].urn {raw['urn']!r} is not a Pulumi URN")
        old = (raw.get("oldState") or {}).get("inputs") or {}
        new = (raw.get("newState") or {}).get("inputs") or {}
        changed = raw.get("diffReasons") or sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        steps.append(
            Step(
                raw["op"],
                raw["urn"],
                parts[2].rsplit("$", 1)[-1],
                parts[3],
                list(changed),
                list(raw.get("replaceReasons") or []),
                old,
                new,
            )
        )
    return steps


def policy_errors(text: str) -> list[str]:
    """Policy-pack violations and other errors the preview reported."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    return [d.get("message", "").strip() for d in doc.get("diagnostics") or [] if d.get("severity") == "error"]


# The engine's own refusal to replace or delete a protected resource (a preview shows it as an error
# diagnostic, and for a replacement it forces on dependents, e.g. an app's region, no step at all).
PROTECTED = re.compile(
    r'unable to (replace|delete) resource "(urn:[^"]+)"(?: as part of replacing "(urn:[^"]+)")?\s+'
    r"as it is currently marked for protection"
)


def protection_findings(text: str) -> tuple[list[Finding], list[str]]:
    """Findings for the protected resources the engine refused to touch, and the error diagnostics
    left over once those are taken out."""
    findings, left = [], []
    for message in policy_errors(text):
        match = PROTECTED.search(message)
        if match is None:
            left.append(message)
            continue
        action, urn, cause = match.groups()
        kind = GUARDED.get(urn.split("::")[2].rsplit("$", 1)[-1], "resource")
        verb = "replaced" if action == "replace" else "deleted"
        reason = f"protected {kind} would be {verb}"
        if cause:
            cause_type = cause.split("::")[2].rsplit("$", 1)[-1]
            reason += f" as part of replacing {GUARDED.get(cause_type, cause_type)} {cause.rsplit('::', 1)[-1]}"
        findings.append(Finding(urn, urn.rsplit("::", 1)[-1], reason + ": the engine refuses while it is protected"))
    return findings, left


def classify(step: Step) -> list[str]:
    reasons = []
    kind = GUARDED.get(step.type)
    if kind and step.op in DESTRUCTIVE:
        action = "deleted" if step.op == "delete" else "replaced"
        why = f" (because {', '.join(step.replace_reasons)} changed)" if step.replace_reasons else ""
        reasons.append(f"{kind} would be {action}{why}")
    if step.type == "heroku:addon/addon:Addon" and step.op == "update":
        old_plan = str(step.old.get("plan", "")).removeprefix("heroku-postgresql:")
        new_plan = str(step.new.get("plan", "")).removeprefix("heroku-postgresql:")
        if old_plan in POSTGRES_PLANS and new_plan in POSTGRES_PLANS and plan_rank(new_plan) < plan_rank(old_plan):
            reasons.append(f"database plan downgrade {old_plan} -> {new_plan}")
    if step.op in ("update", "replace", "create-replacement"):
        for key, before in step.old.items():
            if before == SECRET and key in step.new and step.new[key] != SECRET:
                reasons.append(f"input '{key}' was secret and would become plain")
    return reasons


def spec_findings(stack: str, stack_file: Path | None) -> list[Finding]:
    """A stack whose spec protects a database must also declare its backups."""
    if stack_file is None or not stack_file.is_file():
        return []
    spec = load_spec(StackConfig.from_file(stack_file, stack), require_secrets=False)
    return [
        Finding(
            f"launchplan:heroku.apps.{name}.postgres",
            name,
            "the spec protects this database but declares no backups: add postgres.backups",
        )
        for name, app in spec.heroku.apps.items()
        if app.postgres and spec.database_protected(app) and app.postgres.backups is None
    ]


def evaluate(
    stack: str,
    preview_text: str,
    source: str,
    *,
    commit: str,
    allows: dict[str, str],
    staging_record: gate_records.Check | None,
    stack_file: Path | None,
    staging: str = "staging",
) -> Verdict:
    """Judge one preview. `staging_record` is what the state backend says of the staging gate
    for this commit (only consulted for production)."""
    steps = parse_preview(preview_text, source)
    protected, errors = protection_findings(preview_text)
    verdict = Verdict(stack, commit, steps, policy_errors=errors)
    for step in steps:
        verdict.findings += [Finding(step.urn, step.name, reason) for reason in classify(step)]
    verdict.findings += protected
    verdict.findings += spec_findings(stack, stack_file)
    if stack == "production" and not staging_record:
        reason = staging_record.reason if staging_record is not None else "not checked"
        verdict.findings.append(Finding(f"stack:{stack}", stack, reason))

    unused = dict(allows)
    for finding in verdict.findings:
        for target in list(allows):
            if target in (finding.urn, finding.name):
                finding.allowed_because = allows[target]
                unused.pop(target, None)
    if unused:
        names = ", ".join(sorted(unused))
        raise GateInputError(f"--allow {names} matches no failing step: check the URN (see the gate's table)")
    return verdict


# --- records: which commit passed which stack ---------------------------------------------


def current_commit(project: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True)
        # Only tracked files count: CI writes previews and records beside the checkout.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=project, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


# --- reports ---------------------------------------------------------------------------


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "stack": verdict.stack,
        "commit": verdict.commit,
        "passed": verdict.passed,
        "steps": [
            {"op": s.op, "urn": s.urn, "type": s.type, "name": s.name, "changed": s.changed, "replaceReasons": s.replace_reasons}
            for s in verdict.steps
            if s.op != "same"
        ],
        "findings": [asdict(f) for f in verdict.findings],
        "policyErrors": verdict.policy_errors,
    }


def markdown(verdict: Verdict) -> str:
    icon = "✅" if verdict.passed else "❌"
    lines = [
        f"### {icon} launchplan gate: `{verdict.stack}` {'passed' if verdict.passed else 'failed'}",
        f"Commit `{verdict.commit}`.",
        "",
    ]
    changes = [s for s in verdict.steps if s.op != "same"]
    if changes:
        lines += ["| op | resource | type | changed |", "|---|---|---|---|"]
        lines += [f"| {s.op} | `{s.name}` | `{s.type}` | {', '.join(s.changed) or '—'} |" for s in changes]
    else:
        lines.append("No changes.")
    blocking = [f for f in verdict.findings if not f.allowed_because]
    allowed = [f for f in verdict.findings if f.allowed_because]
    if blocking or verdict.policy_errors:
        lines += ["", "**Blocking:**"] + [f"- `{f.name}`: {f.reason}" for f in blocking]
        lines += [f"- policy: {e}" for e in verdict.policy_errors]
    if allowed:
        lines += ["", "**Allowed explicitly:**"] + [
            f"- `{f.name}`: {f.reason}. Reason given: {f.allowed_because}" for f in allowed
        ]
    return "\n".join(lines) + "\n"


def print_verdict(verdict: Verdict, console: Console) -> None:
    """The verdict in a terminal: each change with Pulumi's marker and what changed in it (secret
    values stay `[secret]`), then what blocks it and what was let through."""
    p = Printer(console)
    word = Text("passed", style="bold green") if verdict.passed else Text("failed", style="bold red")
    p.line(Text(f"launchplan gate: {verdict.stack} ", style="bold"), word)
    p.line(f"commit {verdict.commit}", indent=2)
    changes = [s for s in verdict.steps if s.op != "same"]
    p.blank()
    if not changes:
        p.line("No changes.")
    else:
        counts: dict[str, int] = {}
        for s in changes:
            counts[s.op] = counts.get(s.op, 0) + 1
        p.line(Text("Changes: ", style="bold"), ", ".join(f"{n} to {op}" for op, n in counts.items()))
        for s in changes:
            mark = mark_of(s.op)
            p.kv(Text(simplify_type(s.type), style="cyan"), Text(s.name, style="bold"), indent=2, mark=mark, hang=6)
            for key in s.changed if s.op not in ("create", "delete") else []:
                lines = diff_lines(key, s.old.get(key, ABSENT), s.new.get(key, ABSENT))
                if lines:
                    p.diff(lines, indent=2 + len(mark) + 3)
                else:  # both sides `[secret]`, or a nested path the inputs do not show
                    hidden = SECRET in (s.old.get(key), s.new.get(key))
                    p.line(key, " (a secret: values hidden)" if hidden else "", indent=2 + len(mark) + 3, mark=CHANGE)
            if s.replace_reasons:
                p.line(f"replaced because {', '.join(s.replace_reasons)} changed", indent=2 + len(mark) + 3)
    blocking = [f for f in verdict.findings if not f.allowed_because]
    allowed = [f for f in verdict.findings if f.allowed_because]
    if blocking or verdict.policy_errors:
        p.blank()
        p.line(Text(f"Blocking ({len(blocking) + len(verdict.policy_errors)}):", style="bold red"))
        for f in blocking:
            p.line(Text(f.name, style="bold"), f": {f.reason}", indent=2, mark="!")
        for e in verdict.policy_errors:
            p.line(Text("policy", style="bold"), f": {e}", indent=2, mark="!")
        if blocking:
            p.line("let one step through with --allow NAME --reason TEXT", indent=2)
    if allowed:
        p.blank()
        p.line(Text(f"Allowed explicitly ({len(allowed)}):", style="bold yellow"))
        for f in allowed:
            p.line(Text(f.name, style="bold"), f": {f.reason}", indent=2)
            p.line(f"reason given: {f.allowed_because}", indent=6)


# --- the command ---------------------------------------------------------------------


def gate_command(
    stack: Annotated[Optional[str], typer.Argument(help="The stack whose change is judged (e.g. staging, production).")] = None,
    preview_file: Annotated[Optional[Path], typer.Option(help="Read `pulumi preview --json` output from a file.")] = None,
    allow: Annotated[Optional[list[str]], typer.Option(help="URN (or name) of one failing step to let through.")] = None,
    reason: Annotated[Optional[list[str]], typer.Option(help="Why, one per --allow, recorded in the summary.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    summary_md: Annotated[Optional[Path], typer.Option(help="Write a Markdown summary (a pull-request comment).")] = None,
    policy_pack: Annotated[Optional[Path], typer.Option(help="Policy pack the preview runs (default: ./policy).")] = None,
    staging: Annotated[str, typer.Option(help="The stack that must pass first for production.")] = "staging",
    stack_option: Annotated[Optional[str], typer.Option("--stack", "-s", help="The stack, as `pulumi --stack` takes it.")] = None,
) -> None:
    """Judge a stack's preview: exit 0 to apply, 1 when a step is blocked, 2 on bad input."""

    stack = pick_stack(stack, stack_option)
    assert stack is not None
    project = find_project_root()
    allows, reasons = allow or [], reason or []
    if len(allows) != len(reasons) or any(not r.strip() for r in reasons):
        fail("give exactly one non-empty --reason for each --allow")
    if summary_md is not None:
        require_writable(summary_md, "--summary-md")
    try:
        if project_stack_file(project, stack).is_file():  # a refused spec stops here, before any preview runs
            load_spec(StackConfig.from_file(project_stack_file(project, stack), stack), require_secrets=False)
        if preview_file is not None:
            if not preview_file.is_file():
                fail(f"preview file {preview_file} does not exist")
            text, source = preview_file.read_text(), str(preview_file)
        else:
            text, source = _run_preview(project, stack, policy_pack), f"pulumi preview --stack {stack}"
        stack_file = project_stack_file(project, stack)
        commit = current_commit(project)
        verdict = evaluate(
            stack,
            text,
            source,
            commit=commit,
            allows=dict(zip(allows, reasons, strict=True)),
            staging_record=_staging_record(project, staging, commit) if stack == "production" else None,
            stack_file=stack_file if stack_file.is_file() else None,
            staging=staging,
        )
    except SpecError as exc:
        fail_spec(exc)
    except GateInputError as exc:
        fail(str(exc))
    summary = markdown(verdict)
    if stack == staging:
        _record(project, verdict, summary)
    if summary_md is not None:
        summary_md.write_text(summary)
    if as_json:
        print(json.dumps(verdict_json(verdict), indent=2))
    else:
        print_verdict(verdict, out)
    raise typer.Exit(0 if verdict.passed else EXIT_BLOCKED)


def _staging_record(project: Path, staging: str, commit: str) -> gate_records.Check:
    """The staging gate's signed record for this commit, as the state backend holds it."""
    try:
        return gate_records.passed(Stack(project, staging), commit)
    except StackError as exc:
        return gate_records.Check(False, f"cannot read the gate record of '{staging}': {exc}")


def _record(project: Path, verdict: Verdict, summary: str) -> None:
    """A staging pass is recorded with the staging stack (a failure removes an earlier pass)."""
    try:
        gate_records.record(Stack(project, verdict.stack), verdict.commit, verdict.passed, summary)
    except (gate_records.GateRecordError, StackError) as exc:
        fail(f"the gate's verdict could not be recorded in the state backend: {exc}", EXIT_BLOCKED)


def _run_preview(project: Path, stack: str, policy_pack: Optional[Path]) -> str:
    """`pulumi preview --json` with the stack's own CLI and environment (a sandbox stack runs on the
    sandbox's backend); a failure is named as what it is (engine, network, policy, ...)."""
    binary, env = Stack(project, stack).cli()
    pack = policy_pack or (team_root(project) / "policy")  # a rehearsal runs the team's own pack
    args = [binary, "preview", "--json", "--non-interactive", "--stack", stack]
    if pack.is_dir():
        args += ["--policy-pack", str(pack)]
    with err.status(f"pulumi preview --stack {stack}…"):
        proc = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    if not proc.stdout.strip().startswith("{"):
        output = proc.stderr.strip() or proc.stdout.strip()
        kind, line = failure_cause(output)
        fail(f"`pulumi preview` of stack {stack} failed ({cause_label(kind)}): {line}\n{output}")
    return proc.stdout
