"""The `launchplan` operator command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from infra.config import SpecError

if TYPE_CHECKING:
    from scripts.sandbox_cmd import Sandbox
    from scripts.stacks import Stack

app = typer.Typer(
    help="launchplan: Heroku, Vercel and Postgres declared per stack, previewed before every change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def plan(
    stack: Annotated[Optional[str], typer.Argument(help="Stack name; reads Pulumi.<stack>.yaml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    config_file: Annotated[Optional[Path], typer.Option("--config-file", help="Read this stack file instead.")] = None,
    diff: Annotated[Optional[str], typer.Option("--diff", help="Compare with another stack (name or file).")] = None,
) -> None:
    """Render a stack's desired state offline: no Pulumi CLI, no credentials, no network."""
    from scripts import plan as planner

    try:
        rendering = planner.load(stack, config_file)
        other = None
        if diff is not None:
            path = Path(diff)
            other = planner.load(None, path) if path.suffix in (".yaml", ".yml") else planner.load(diff, None)
    except SpecError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))

    if other is not None:
        result = planner.diff(rendering, other)
        if as_json:
            print(json.dumps(result, indent=2, default=str))
        else:
            planner.print_diff(result, out)
        return
    if as_json:
        print(json.dumps(planner.plan_json(rendering), indent=2))
    else:
        planner.print_plan(rendering, out)


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of a stack file, for editors' YAML language servers."""
    from infra.config import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {output}")


@app.command()
def gate(
    stack: Annotated[str, typer.Argument(help="The stack whose change is judged (e.g. staging, production).")],
    preview_file: Annotated[Optional[Path], typer.Option(help="Read `pulumi preview --json` output from a file.")] = None,
    allow: Annotated[Optional[list[str]], typer.Option(help="URN (or name) of one failing step to let through.")] = None,
    reason: Annotated[Optional[list[str]], typer.Option(help="Why, one per --allow, recorded in the summary.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    summary_md: Annotated[Optional[Path], typer.Option(help="Write a Markdown summary (a pull-request comment).")] = None,
    records: Annotated[Path, typer.Option(help="Where passing gates are recorded per commit.")] = Path(".launchplan/gate"),
    policy_pack: Annotated[Optional[Path], typer.Option(help="Policy pack the preview runs (default: ./policy).")] = None,
    staging: Annotated[str, typer.Option(help="The stack that must pass first for production.")] = "staging",
) -> None:
    """Judge a stack's preview: exit 0 to apply, 1 when a step is blocked, 2 on bad input."""
    from scripts import gate as gating
    from scripts.plan import find_project_root

    project = find_project_root()
    allows, reasons = allow or [], reason or []
    if len(allows) != len(reasons) or any(not r.strip() for r in reasons):
        _fail("give exactly one non-empty --reason for each --allow")
    try:
        if preview_file is not None:
            if not preview_file.is_file():
                _fail(f"preview file {preview_file} does not exist")
            text, source = preview_file.read_text(), str(preview_file)
        else:
            text, source = _run_preview(project, stack, policy_pack), f"pulumi preview --stack {stack}"
        stack_file = project / f"Pulumi.{stack}.yaml"
        verdict = gating.evaluate(
            stack,
            text,
            source,
            commit=gating.current_commit(project),
            allows=dict(zip(allows, reasons, strict=True)),
            records=project / records,
            stack_file=stack_file if stack_file.is_file() else None,
            staging=staging,
        )
    except (gating.GateInputError, SpecError) as exc:
        _fail(str(exc))
    gating.record(verdict, project / records)
    summary = gating.markdown(verdict)
    if summary_md is not None:
        summary_md.write_text(summary)
    if as_json:
        print(json.dumps(gating.as_json(verdict), indent=2))
    else:
        out.print(summary, markup=False, highlight=False)
    raise typer.Exit(0 if verdict.passed else 1)


def _run_preview(project: Path, stack: str, policy_pack: Optional[Path]) -> str:
    import subprocess

    from scripts.engine import EngineMissingError, pulumi_cli

    try:
        binary, env = pulumi_cli()
    except EngineMissingError as exc:
        _fail(str(exc))
    pack = policy_pack or (project / "policy")
    args = [binary, "preview", "--json", "--non-interactive", "--stack", stack]
    if pack.is_dir():
        args += ["--policy-pack", str(pack)]
    with err.status(f"pulumi preview --stack {stack}…"):
        proc = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    if not proc.stdout.strip().startswith("{"):
        _fail(f"`pulumi preview` of stack {stack} failed:\n{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


@app.command()
def verify(
    stack: Annotated[str, typer.Argument(help="The stack to check after a deployment.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Post-deployment checks: health URLs, backups, env keys on the platform, webhooks. Exit 1 on any failure."""
    from dataclasses import asdict

    from rich.table import Table

    from infra.http import ApiError
    from scripts.plan import find_project_root
    from scripts.stacks import Stack as StackRef
    from scripts.stacks import StackError
    from scripts.verify import verify as run_checks

    try:
        checks = run_checks(StackRef(find_project_root(), stack))
    except (StackError, SpecError, ApiError) as exc:
        _fail(str(exc))
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        print(json.dumps({"stack": stack, "passed": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        table = Table("check", "result", "evidence", title=f"verify {stack}", title_justify="left")
        colours = {"pass": "green", "fail": "red", "pending": "yellow"}
        for c in checks:
            table.add_row(c.name, f"[{colours[c.status]}]{c.status}[/]", escape(c.evidence))
        out.print(table)
    raise typer.Exit(1 if failed else 0)


@app.command()
def clone(
    source: Annotated[str, typer.Argument(help="The stack to clone from (e.g. staging).")],
    destination: Annotated[str, typer.Argument(help="The stack to create or update (e.g. production).")],
    yes: Annotated[bool, typer.Option("--yes", help="Write the destination (default: a dry run).")] = False,
    rules: Annotated[Path, typer.Option(help="The reviewed clone rules.")] = Path("clone-rules.yaml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the review as JSON.")] = False,
    data: Annotated[bool, typer.Option("--data", help="Also restore SOURCE's database into DESTINATION's.")] = False,
    confirm: Annotated[Optional[str], typer.Option(help="The destination app's name, confirming --data.")] = None,
) -> None:
    """Create or update DESTINATION's config from SOURCE by reviewed rules; a dry run unless --yes.

    With --data: back up both databases, restore SOURCE's into DESTINATION's, compare row counts."""
    from rich.table import Table

    from scripts import clone as cloning
    from scripts.plan import find_project_root
    from scripts.stacks import Stack as StackRef
    from scripts.stacks import StackError

    project = find_project_root()
    try:
        src = StackRef(project, source)
        dst_file = project / f"Pulumi.{destination}.yaml"
        dst = StackRef(project, destination) if dst_file.is_file() else None
        plan = cloning.plan_clone(src, dst, destination, cloning.load_rules(project / rules, destination))
        cloning.validate(plan, project)
    except (StackError, SpecError) as exc:
        _fail(str(exc))
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
        table = Table("key", "action", "value", title=f"clone {source} -> {destination}", title_justify="left")
        for row in plan.rows:
            table.add_row(escape(row.key), row.action, escape(row.value))
        out.print(table)
    if data:
        _clone_data(project, src, dst, rules, destination, confirm)
        return
    if not yes:
        live = dst.resource_count() if dst is not None and dst.exists() else 0
        if live:
            _fail(f"{destination} has {live} live resources: review the table above, then pass --yes to update its config")
        err.print("Dry run: nothing written. Review the table, then run again with --yes.")
        return
    try:
        path = cloning.write(plan, src, project)
    except StackError as exc:
        _fail(str(exc))
    err.print(f"wrote {path.name}; next: `pulumi preview --stack {destination}` and `launchplan gate {destination}`")


def _clone_data(project: Path, src: Stack, dst: Stack | None, rules: Path, destination: str, confirm: Optional[str]) -> None:
    from rich.table import Table

    from infra.http import ApiError
    from scripts import clone as cloning
    from scripts.clone_data import clone_data
    from scripts.stacks import StackError

    if dst is None:
        _fail(f"--data needs the {destination} stack deployed first: clone its config, `pulumi up`, then --data")

    def confirmed(app_name: str) -> bool:
        if confirm is not None:
            return confirm == app_name
        if not sys.stdin.isatty():
            return False
        return typer.prompt(f"This overwrites {app_name}'s database. Type the app's name to go on") == app_name

    try:
        pairs = cloning.load_rules(project / rules, destination)["dest"].get("herokuApps") or {}
        for source_app, destination_app in pairs.items():
            result = clone_data(src, dst, source_app, destination_app, confirmed, lambda m: err.print(m, highlight=False))
            table = Table("table", result.source_app, result.destination_app, title="row counts", title_justify="left")
            for name, (a, b) in result.counts.items():
                table.add_row(name, str(a), str(b) if a == b else f"[red]{b}[/]")
            out.print(table)
            out.print(f"safety backup of {destination_app} taken before the restore: {result.safety_backup}", soft_wrap=True)
            if not result.matches:
                _fail("row counts differ after the restore (table above)", 1)
    except (StackError, ApiError) as exc:
        _fail(str(exc), 1)


EXIT_DRIFT = 3


@app.command()
def drift(
    stack: Annotated[Optional[str], typer.Argument(help="The stack to audit.")] = None,
    all_stacks: Annotated[bool, typer.Option("--all", help="Every deployed stack, in parallel.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Declared vs live, out-of-band vars, staging vs production. Exit 0 clean, 3 when drift is found."""
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import asdict

    from rich.progress import Progress
    from rich.table import Table

    from infra.http import ApiError
    from scripts import drift as audits
    from scripts.plan import find_project_root
    from scripts.stacks import Stack as StackRef
    from scripts.stacks import StackError

    if (stack is None) == (not all_stacks):
        _fail("name one stack, or pass --all")
    project = find_project_root()
    try:
        if all_stacks:
            names = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project.glob("Pulumi.*.yaml"))
            stacks = [s for s in (StackRef(project, n) for n in names) if s.exists()]
        else:
            assert stack is not None
            stacks = [StackRef(project, stack)]
            if not stacks[0].exists():
                _fail(f"stack {stack} is not deployed in this backend (`pulumi stack ls`): nothing to compare")

        def audit(s: StackRef) -> list[audits.Drift]:
            return [*audits.live(s), *audits.out_of_band(s)]

        findings: list[audits.Drift] = []
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("auditing", total=len(stacks))
            with ThreadPoolExecutor(max_workers=4) as pool:
                for result in pool.map(audit, stacks):
                    findings += result
                    progress.advance(task)
        by_name = {s.name: s for s in stacks}
        if "staging" in by_name and "production" in by_name:
            findings += audits.parity(by_name["staging"], by_name["production"])
    except (StackError, SpecError, ApiError) as exc:
        _fail(str(exc))
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


sandbox_app = typer.Typer(
    help="A local sandbox: the sandbox stack on the offline engine against API emulators.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")
PortOption = Annotated[
    Optional[int],
    typer.Option("--port", help="Base port; the emulators listen on the next three (default: as the stack file says)."),
]


def _sandbox(port: Optional[int]) -> Sandbox:
    from scripts.plan import find_project_root
    from scripts.sandbox_cmd import Sandbox, base_port

    project = find_project_root()
    return Sandbox(project, out, port if port is not None else base_port(project))


@sandbox_app.command("up")
def sandbox_up(
    port: PortOption = None,
    rate_limit_every: Annotated[int, typer.Option(help="Fault: answer every Nth request with 429.")] = 0,
    retry_after: Annotated[float, typer.Option(help="Fault: Retry-After seconds on each 429.")] = 1.0,
    error_rate: Annotated[float, typer.Option(help="Fault: fraction of requests answered with 503.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Fault: latency added to every request.")] = 0,
) -> None:
    """Start the emulators, build the engine if missing, preview and apply the sandbox stack, print a summary."""
    from scripts.sandbox_cmd import SandboxError, up

    faults = [
        f"--rate-limit-every={rate_limit_every}",
        f"--retry-after={retry_after}",
        f"--error-rate={error_rate}",
        f"--latency-ms={latency_ms}",
    ]
    faults = faults if (rate_limit_every or error_rate or latency_ms) else []
    try:
        up(_sandbox(port), faults)
    except SandboxError as exc:
        _fail(str(exc), 1)


@sandbox_app.command("down")
def sandbox_down(
    port: PortOption = None,
    destroy_protected: Annotated[bool, typer.Option(help="Also destroy protected databases.")] = False,
) -> None:
    """Destroy the sandbox stack and stop the emulators."""
    from scripts.sandbox_cmd import SandboxError, down

    try:
        down(_sandbox(port), destroy_protected)
    except SandboxError as exc:
        _fail(str(exc), 1)


@sandbox_app.command("status")
def sandbox_status(
    port: PortOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What runs: the emulators, the stack's resources, request counts."""
    from scripts.sandbox_cmd import status

    report = status(_sandbox(port))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    emulators = report["emulators"]
    out.print(f"emulators: {'running (pid ' + str(emulators['pid']) + ')' if emulators['running'] else 'stopped'}")
    for name, url in emulators["endpoints"].items():
        out.print(f"  {name}: {url}")
    out.print(f"sandbox stack: {report['stack']['resources']} resources")
    for key, count in sorted(report["requests"].items()):
        out.print(f"  {key}: {count}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
