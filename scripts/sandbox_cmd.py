"""`launchplan sandbox up | down | status`: the sandbox stack on the offline engine,
against the local API emulators, with no cloud account.

State lives in `.sandbox/` (emulator state, request log, the stack's file backend).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import urlsplit

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from scripts.console import fail, out
from scripts.project import find_project_root, stack_file
from scripts.pulumi_cli import BIN, ROOT, SANDBOX_STACK, EngineMissingError, require_engine, sandbox_env
from scripts.stacks import Stack

STACK = SANDBOX_STACK


class SandboxError(RuntimeError):
    pass


@cache
def emulator_layout(base: int | None = None) -> dict[str, Any]:
    """Where the emulators listen for a base port, asked of the sandbox itself (`--describe`):
    the sandbox is an independent oracle that launchplan's own code never imports."""
    args = [sys.executable, "-m", "sandbox.server", "--describe", *(["--port", str(base)] if base is not None else [])]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SandboxError(f"the sandbox in {ROOT / 'sandbox'} cannot describe its emulators: {proc.stderr.strip()[-400:]}")
    layout: dict[str, Any] = json.loads(proc.stdout)
    return layout


def endpoints(base: int) -> dict[str, str]:
    return {name: e["url"] for name, e in emulator_layout(base)["emulators"].items()}


def base_port(project: Path) -> int:
    """The emulators' base port, as the sandbox stack file's endpoints say."""
    default = emulator_layout()
    path = stack_file(project, STACK)
    if path.is_file():
        declared = ((yaml.safe_load(path.read_text()) or {}).get("config") or {}).get("launchplan:endpoints", {})
        for emulator in default["emulators"].values():
            url = declared.get(emulator["endpointKey"])
            if url and urlsplit(url).port:
                return int(urlsplit(url).port or 0) - _offset(default, emulator)
    return int(default["defaultPort"])


def _offset(layout: dict[str, Any], emulator: dict[str, Any]) -> int:
    return int(urlsplit(emulator["url"]).port or 0) - int(layout["basePort"])


@dataclass
class Sandbox:
    project: Path
    console: Console
    port: int

    @property
    def dir(self) -> Path:
        return self.project / ".sandbox"

    @property
    def urls(self) -> dict[str, str]:
        return endpoints(self.port)

    def env(self) -> dict[str, str]:
        return sandbox_env(self.project, self.urls["vercel"])

    # --- engine -------------------------------------------------------------------------
    def ensure_engine(self) -> None:
        try:
            require_engine()
        except EngineMissingError:
            self.console.print("[bold]Building the offline Pulumi engine[/] (first time only, ~7 min on 2 cores)…")
            build = subprocess.run(
                ["bash", str(ROOT / "tools" / "engine" / "build.sh")], env={**os.environ, "ENGINE_ALLOW_MISSING": "1"}
            )
            if build.returncode != 0:
                raise SandboxError("the engine build failed (output above); fix it, then run `make engine`") from None

    # --- emulators ----------------------------------------------------------------------
    def _pid(self) -> int | None:
        try:
            pid = int((self.dir / "emulators.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None

    def _listening(self) -> bool:
        host, port = urlsplit(self.urls["vercel"]).hostname, urlsplit(self.urls["vercel"]).port
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex((host or "127.0.0.1", port or 0)) == 0

    def start_emulators(self, fault_args: list[str]) -> None:
        if self._pid() and self._listening():
            if fault_args:
                self.console.print(
                    "[yellow]Emulators already running: fault options apply only when they start "
                    "(`launchplan sandbox down` first).[/]"
                )
            return
        if self._listening():
            raise SandboxError(f"port {self.port + 1} is in use by another program: pass --port with a free base port")
        self.dir.mkdir(parents=True, exist_ok=True)
        log = (self.dir / "emulators.log").open("a")
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.server", "--dir", str(self.dir / "emulators"), "--port", str(self.port), *fault_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        (self.dir / "emulators.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + 60  # the first start runs initdb for the embedded PostgreSQL
        while not self._listening():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SandboxError(f"the emulators did not start; see {self.dir / 'emulators.log'}")
            time.sleep(0.1)

    def stop_emulators(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if self._pid() is None:
                break
            time.sleep(0.1)
        (self.dir / "emulators.pid").unlink(missing_ok=True)
        return True

    def requests(self) -> list[dict[str, Any]]:
        log = self.dir / "emulators" / "requests.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    # --- the stack ----------------------------------------------------------------------
    def pulumi(self, *args: str, stream: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(BIN / "pulumi"), *args, "--stack", STACK] if args[0] not in ("stack",) else [str(BIN / "pulumi"), *args]
        if stream:
            proc = subprocess.run(cmd, cwd=self.project, env=self.env(), text=True)
        else:
            proc = subprocess.run(cmd, cwd=self.project, env=self.env(), text=True, capture_output=True)
        if check and proc.returncode != 0:
            detail = "" if stream else f"\n{proc.stdout}{proc.stderr}"
            raise SandboxError(f"`pulumi {' '.join(args)}` failed{detail}")
        return proc

    def check_stack_file(self) -> None:
        path = stack_file(self.project, STACK)
        if not path.is_file():
            raise SandboxError(f"{path} is missing: the sandbox stack file ships with launchplan")
        endpoints_cfg = (yaml.safe_load(path.read_text())["config"] or {}).get("launchplan:endpoints", {})
        layout = emulator_layout(self.port)
        for name, emulator in layout["emulators"].items():
            key = emulator["endpointKey"]
            if key in endpoints_cfg and endpoints_cfg[key].rstrip("/") != self.urls[name]:
                raise SandboxError(
                    f"{path.name} sends {key} to {endpoints_cfg[key]} but the emulator listens on "
                    f"{self.urls[name]}: pass --port {(urlsplit(endpoints_cfg[key]).port or 0) - _offset(layout, emulator)}"
                )

    def repair_backend(self) -> list[str]:
        """A run killed mid-write can leave the file backend's metadata empty or its checkpoint torn:
        put back what the backend itself kept (its .bak), drop half-written files."""
        stacks = self.dir / "pulumi-state" / ".pulumi"
        repaired = []
        for attrs in stacks.rglob("*.attrs"):
            if attrs.stat().st_size == 0:  # the blob store's metadata, optional: an empty one cannot be read
                attrs.unlink()
                repaired.append(f"dropped empty {attrs.name}")
        for partial in stacks.rglob("*.tmp"):
            partial.unlink()
            repaired.append(f"dropped partial {partial.name}")
        for checkpoint in stacks.glob("stacks/*/*.json"):
            try:
                json.loads(checkpoint.read_text())
            except ValueError:
                backup = checkpoint.with_name(checkpoint.name + ".bak")
                if backup.exists():
                    checkpoint.write_text(backup.read_text())
                    repaired.append(f"restored {checkpoint.name} from its .bak")
        return repaired

    def clear_stale_locks(self) -> list[int]:
        """An interrupted `up` leaves its lock behind: drop locks whose process is gone (never a live one)."""
        cleared = []
        for lock in (self.dir / "pulumi-state" / ".pulumi" / "locks").rglob("*.json"):
            try:
                owner = json.loads(lock.read_text())
                pid = int(owner.get("pid", 0))
            except (ValueError, OSError):
                continue
            if owner.get("hostname") != socket.gethostname() or not pid:
                continue  # another machine's lock: not ours to judge
            if not _alive(pid):
                lock.unlink()
                lock.with_name(lock.name + ".attrs").unlink(missing_ok=True)
                cleared.append(pid)
        return cleared

    def recover_pending_creates(self) -> list[str]:
        """Creates an interrupted `up` started but never recorded: adopt what exists on the
        platform (`--import-pending-creates`), drop the rest so the next `up` makes them."""
        state = json.loads(self.pulumi("stack", "export", "--stack", STACK).stdout)
        pending = [
            op["resource"] for op in state.get("deployment", {}).get("pending_operations") or [] if op.get("type") == "creating"
        ]
        if not pending:
            return []
        with Stack(self.project, STACK).vercel() as vercel:
            found = {r["urn"]: live_id(vercel, r) for r in pending}
        # Drop the pending records, then adopt what exists with `pulumi import` under the same name
        # and parent, so the program's resource and the live one are one again.
        self.pulumi("refresh", "--yes", "--skip-preview", "--non-interactive", "--clear-pending-creates")
        for resource in pending:
            rid = found[resource["urn"]]
            if rid is None:
                continue
            parent = ["--parent", f"parent={resource['parent']}"] if resource.get("parent") else []
            self.pulumi(
                "import",
                resource["type"],
                resource["urn"].rsplit("::", 1)[-1],
                rid,
                *parent,
                "--yes",
                "--non-interactive",
                "--generate-code=false",
                "--protect=false",
            )
        return [f"{urn.rsplit('::', 1)[-1]}: " + ("adopted" if rid else "will be created again") for urn, rid in found.items()]

    def select_stack(self) -> None:
        (self.dir / "pulumi-state").mkdir(parents=True, exist_ok=True)
        self.pulumi("stack", "select", STACK, "--create", "--secrets-provider", "passphrase")

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--stack", STACK).stdout or "{}")

    def resource_count(self) -> int:
        proc = self.pulumi("stack", "export", "--stack", STACK, check=False)
        if proc.returncode != 0:
            return 0
        resources = json.loads(proc.stdout).get("deployment", {}).get("resources") or []
        return sum(1 for r in resources if not r["type"].startswith("pulumi:"))


def _alive(pid: int) -> bool:
    """A zombie (not yet reaped by PID 1 in containers) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def live_id(vercel: Any, resource: dict[str, Any]) -> str | None:
    """The platform ID (in the provider's import format) of a resource whose create was interrupted."""
    inputs = resource.get("inputs") or {}
    kind = resource.get("type")
    if kind == "vercel:index/project:Project":
        project = vercel.request("GET", f"/v9/projects/{inputs.get('name')}", ok_missing=True)
        return project["id"] if project else None
    if kind == "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable":
        page = vercel.request("GET", f"/v9/projects/{inputs.get('projectId')}/env", ok_missing=True) or {}
        for env in page.get("envs", []):
            if env["key"] == inputs.get("key") and sorted(env.get("target", [])) == sorted(inputs.get("targets", [])):
                return f"{inputs['projectId']}/{env['id']}"
        return None
    if kind == "vercel:index/projectDomain:ProjectDomain":
        domain = vercel.request("GET", f"/v9/projects/{inputs.get('projectId')}/domains/{inputs.get('domain')}", ok_missing=True)
        return f"{inputs['projectId']}/{inputs['domain']}" if domain else None
    return None  # launchplan's dynamic providers adopt or replace on create: re-creating is safe


def health_checks(outputs: dict[str, Any], console: Console) -> list[tuple[str, str, str]]:
    rows = []
    for check in outputs.get("healthChecks", []):
        host = urlsplit(check["url"]).hostname or ""
        if host not in ("127.0.0.1", "localhost"):
            rows.append((check["name"], check["url"], "not served by the sandbox (a real Vercel/Heroku URL)"))
            continue
        try:
            status = httpx.get(check["url"], timeout=5).status_code
            verdict = "pass" if status == check["expectStatus"] else f"FAIL: {status}, expected {check['expectStatus']}"
        except httpx.HTTPError as exc:
            verdict = f"FAIL: {exc}"
        rows.append((check["name"], check["url"], verdict))
    return rows


def summary(sb: Sandbox, outputs: dict[str, Any], seconds: float) -> None:
    console = sb.console
    table = Table(
        "what", "name", "detail", title=f"sandbox stack — {sb.resource_count()} resources, {seconds:.1f} s", title_justify="left"
    )
    for name, project in outputs.get("vercelProjects", {}).items():
        table.add_row("Vercel project", name, project["url"])
    for name, app in outputs.get("herokuApps", {}).items():
        table.add_row("Heroku app", name, app["url"])
    for name in outputs.get("calendlySubscriptions", []):
        table.add_row("Calendly webhook", name, "registered in the Calendly emulator")
    for step in outputs.get("manualSteps", []):
        table.add_row("manual step", step["webhook"], f"{step['where']}: {step['url']} ({len(step['events'])} events)")
    for name, url, verdict in health_checks(outputs, console):
        table.add_row("health check", name, f"{url}: {verdict}")
    counts = Counter(("write" if r["method"] != "GET" else "read") for r in sb.requests())
    table.add_row(
        "API requests",
        "all emulators",
        f"{counts['read']} reads, {counts['write']} writes (log: .sandbox/emulators/requests.jsonl)",
    )
    console.print(table)
    console.print(f"Endpoints: {json.dumps(sb.urls)}")


def up(sb: Sandbox, fault_args: list[str]) -> None:
    started = time.perf_counter()
    sb.check_stack_file()
    sb.ensure_engine()
    with sb.console.status("Starting the API emulators…"):
        sb.start_emulators(fault_args)
    for line in sb.repair_backend():
        sb.console.print(f"[yellow]State left by an interrupted run: {line}.[/]")
    with sb.console.status("Selecting the sandbox stack…"):
        sb.select_stack()
    for pid in sb.clear_stale_locks():
        sb.console.print(f"[yellow]Removed the lock of an interrupted run (pid {pid}, no longer running).[/]")
    for line in sb.recover_pending_creates():
        sb.console.print(f"[yellow]Interrupted create, {line}[/]")
    with sb.console.status("pulumi preview…"):
        preview = json.loads(sb.pulumi("preview", "--json", "--non-interactive").stdout)
    ops = Counter(step["op"] for step in preview.get("steps", []) if step["op"] != "same")
    if not ops:
        sb.console.print("[green]Nothing to change[/]: the sandbox already matches the stack file.")
    else:
        sb.console.print("Preview: " + ", ".join(f"{n} to {op}" for op, n in sorted(ops.items())))
        sb.pulumi("up", "--yes", "--skip-preview", "--non-interactive", stream=True)
    summary(sb, sb.outputs(), time.perf_counter() - started)


def down(sb: Sandbox, destroy_protected: bool) -> None:
    require_engine()
    if (sb.dir / "pulumi-state").exists() and sb.resource_count():
        sb.select_stack()
        if destroy_protected:
            sb.pulumi("state", "unprotect", "--all", "--yes")
        proc = sb.pulumi("destroy", "--yes", "--skip-preview", "--non-interactive", stream=True, check=False)
        if proc.returncode != 0:
            raise SandboxError("destroy stopped (see above); a protected database is only destroyed with --destroy-protected")
    stopped = sb.stop_emulators()
    sb.console.print("Sandbox destroyed" + ("; emulators stopped." if stopped else "; no emulators were running."))


def status(sb: Sandbox) -> dict[str, Any]:
    pid = sb._pid()
    report = {
        "emulators": {"running": bool(pid and sb._listening()), "pid": pid, "endpoints": sb.urls},
        "stack": {"resources": sb.resource_count() if (BIN / "pulumi").exists() else None},
        "requests": dict(Counter(f"{r['service']} {'write' if r['method'] != 'GET' else 'read'}" for r in sb.requests())),
    }
    return report


# --- the command ---------------------------------------------------------------------


sandbox_app = typer.Typer(
    help="A local sandbox: the sandbox stack on the offline engine against API emulators.", no_args_is_help=True
)
PortOption = Annotated[
    Optional[int],
    typer.Option("--port", help="Base port; the emulators listen on the next three (default: as the stack file says)."),
]


def _sandbox(port: Optional[int]) -> Sandbox:
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
        fail(str(exc), 1)


@sandbox_app.command("down")
def sandbox_down(
    port: PortOption = None,
    destroy_protected: Annotated[bool, typer.Option(help="Also destroy protected databases.")] = False,
) -> None:
    """Destroy the sandbox stack and stop the emulators."""
    try:
        down(_sandbox(port), destroy_protected)
    except SandboxError as exc:
        fail(str(exc), 1)


@sandbox_app.command("status")
def sandbox_status(
    port: PortOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What runs: the emulators, the stack's resources, request counts."""
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
