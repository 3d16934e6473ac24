"""`launchplan sandbox up | down | status | env | psql`: the sandbox stack, or a rehearsal of any
of the team's stacks, on the offline engine against the local API emulators, with no cloud account.

State lives in `.sandbox/`: emulator state and request log, the rehearsal project (overlays of
the team's stack files, see `scripts/rehearsal.py`), the file backend and PULUMI_HOME.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import unquote, urlsplit

import httpx
import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from infra.providers.http import PlatformApiError
from infra.spec.catalog import is_loopback
from infra.spec.stack_config import stack_name_from_path
from scripts import clone_data, rehearsal, repair, stand_ins
from scripts.console import err, fail, out, pick_stack
from scripts.output import Printer
from scripts.project import REHEARSAL_VAR, find_project_root, stack_file, stack_names
from scripts.pulumi_cli import (
    BIN,
    ROOT,
    SANDBOX_STACK,
    EngineMissingError,
    cause_label,
    failure_cause,
    require_engine,
    run_engine,
    sandbox_env,
    stop_marked,
    stop_orphaned_runs,
)
from scripts.stacks import Stack, StackError

STACK = SANDBOX_STACK


EMULATOR_MARKER = "LAUNCHPLAN_SANDBOX"  # the environment item that names the sandbox folder an emulator serves
ATTEMPTS = 4  # engine runs per `sandbox up` when a failure is transient (network, a lost response)


class SandboxError(RuntimeError):
    pass


class SandboxInputError(SandboxError):
    """A stack file the sandbox cannot rehearse: bad input, exit 2."""


@dataclass
class Knobs:
    """The emulators' fault knobs, checked before anything starts."""

    rate_limit_every: int = 0
    retry_after: float = 1.0
    error_rate: float = 0.0
    latency_ms: int = 0
    fault_seed: int | None = None
    fail_after_create: str | None = None
    lose_create_response: str | None = None

    def problems(self) -> list[str]:
        found = []
        if self.rate_limit_every < 0:
            found.append(f"--rate-limit-every must be 0 (off) or a positive number, not {self.rate_limit_every}")
        if not 0 <= self.retry_after <= 3600:
            found.append(f"--retry-after must be between 0 and 3600 seconds, not {self.retry_after:g}")
        if not 0 <= self.error_rate <= 1:
            found.append(f"--error-rate must be a fraction between 0 and 1, not {self.error_rate:g}")
        if not 0 <= self.latency_ms <= 60_000:
            found.append(f"--latency-ms must be between 0 and 60000, not {self.latency_ms}")
        if self.fault_seed is not None and self.fault_seed < 0:
            found.append(f"--fault-seed must be a non-negative number, not {self.fault_seed}")
        for flag, pattern in (
            ("--fail-after-create", self.fail_after_create),
            ("--lose-create-response", self.lose_create_response),
        ):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    found.append(f'{flag} must be a regular expression over "METHOD PATH": {exc}')
        return found

    @property
    def active(self) -> bool:
        return bool(
            self.rate_limit_every or self.error_rate or self.latency_ms or self.fail_after_create or self.lose_create_response
        )

    def args(self, seed: int) -> list[str]:
        """The server's arguments; no fault at all without an active knob (the seed is then moot)."""
        if not self.active:
            return []
        found = [
            f"--rate-limit-every={self.rate_limit_every}",
            f"--retry-after={self.retry_after}",
            f"--error-rate={self.error_rate}",
            f"--latency-ms={self.latency_ms}",
            f"--fault-seed={seed}",
        ]
        if self.fail_after_create:
            found.append(f"--fail-after-create={self.fail_after_create}")
        if self.lose_create_response:
            found.append(f"--lose-create-response={self.lose_create_response}")
        return found


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
    """The running emulators' base port, else the one the sandbox stack file's endpoints say."""
    remembered = project / ".sandbox" / "emulators.port"
    try:
        pid = int((project / ".sandbox" / "emulators.pid").read_text())
        if _alive(pid):
            return int(remembered.read_text())
    except (OSError, ValueError):
        pass
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


def port_problem(port: int) -> str | None:
    """A base port outside the range the sandbox says it can use (its emulators listen above it)."""
    bounds = emulator_layout().get("portRange") or {"min": 1, "max": 65535 - 10}
    if not int(bounds["min"]) <= port <= int(bounds["max"]):
        low, high = bounds["min"], bounds["max"]
        return f"--port must be a base port between {low} and {high} (the emulators listen just above it), not {port}"
    return None


@dataclass
class Sandbox:
    project: Path  # the team's project
    console: Console
    port: int
    stack_name: str = STACK
    source: Path | None = None  # the stack file when it is not the project's own (an example's)

    @property
    def dir(self) -> Path:
        return self.project / ".sandbox"

    @property
    def workdir(self) -> Path:
        """Where the engine runs: the rehearsal project, whose stack files are the overlays."""
        return rehearsal.rehearsal_root(self.project)

    def endpoint_config(self) -> dict[str, str]:
        """launchplan:endpoints of a rehearsal: each spec endpoint key sent to its emulator."""
        return {e["endpointKey"]: e["url"] for e in emulator_layout(self.port)["emulators"].values()}

    def prepare(self) -> None:
        """The rehearsal project, with an overlay of every team stack file (unchanged ones kept);
        a file that cannot be rehearsed stops only the rehearsal of its own stack."""
        (self.dir / "pulumi-state").mkdir(parents=True, exist_ok=True)
        try:
            elsewhere = {self.stack_name: self.source} if self.source else None
            skipped = rehearsal.prepare(
                self.project, self.endpoint_config(), self.env(), needed=(self.stack_name,), elsewhere=elsewhere
            )
        except rehearsal.RehearsalError as exc:
            raise SandboxInputError(str(exc)) from None
        for line in skipped:
            err.print(f"[yellow]{escape(line)}[/]")

    @property
    def urls(self) -> dict[str, str]:
        return endpoints(self.port)

    def env(self) -> dict[str, str]:
        return sandbox_env(self.project, self.urls["vercel"], self.urls["heroku"])

    # --- engine -------------------------------------------------------------------------
    def ensure_engine(self) -> None:
        try:
            require_engine()
        except EngineMissingError:
            self.console.print("[bold]Building the offline Pulumi engine[/] (first time only, ~7 min on 2 cores)…")
            build = subprocess.run(["bash", str(ROOT / "tools" / "engine" / "build.sh")], env=dict(os.environ))
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

    def running_faults(self) -> list[str]:
        """The fault arguments the running emulators were started with ([] when none or stopped)."""
        try:
            return list(json.loads((self.dir / "emulators.faults.json").read_text())) if self._pid() else []
        except (OSError, ValueError):
            return []

    def start_emulators(self, fault_args: list[str]) -> None:
        if self._pid() and self._listening():
            if fault_args and fault_args != self.running_faults():
                self.console.print(
                    "[yellow]Emulators already running: fault options apply only when they start "
                    "(`launchplan sandbox down` first).[/]"
                )
            return
        if self._listening():
            raise SandboxError(f"port {self.port + 1} is in use by another program: pass --port with a free base port")
        self.dir.mkdir(parents=True, exist_ok=True)
        stop_marked(str(self.dir), marker=EMULATOR_MARKER, exact=True)  # what a crashed server left (its PostgreSQL)
        log_path = self.dir / "emulators.log"
        log = log_path.open("a")
        started_at = log.tell()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.server", "--dir", str(self.dir / "emulators"), "--port", str(self.port), *fault_args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, EMULATOR_MARKER: str(self.dir)},  # inherited by its PostgreSQL too
            start_new_session=True,
            cwd=ROOT,
        )
        (self.dir / "emulators.pid").write_text(str(proc.pid))
        (self.dir / "emulators.port").write_text(str(self.port))  # later commands without --port find them
        (self.dir / "emulators.faults.json").write_text(json.dumps(fault_args))
        deadline = time.monotonic() + 60  # the first start runs initdb for the embedded PostgreSQL
        while not self._listening():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                stop_marked(str(self.dir), marker=EMULATOR_MARKER, exact=True)
                (self.dir / "emulators.pid").unlink(missing_ok=True)
                why = "timed out after 60 s" if proc.returncode in (None, -signal.SIGKILL) else f"exit {proc.returncode}"
                raise SandboxError(f"the emulators did not start ({why}){_log_tail(log_path, started_at)}; see {log_path}")
            time.sleep(0.1)

    def stop_emulators(self) -> bool:
        pid = self._pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if self._pid() is None:
                    break
                time.sleep(0.1)
            (self.dir / "emulators.pid").unlink(missing_ok=True)
        # Whatever the server could not stop (its PostgreSQL when pg_ctl failed, a server that hung) goes too.
        left = stop_marked(str(self.dir), marker=EMULATOR_MARKER, exact=True)
        # A loaded machine can take a moment to close the listening sockets: a restart right after
        # (`down` restarting without faults) must not mistake them for another program's.
        deadline = time.monotonic() + 10
        while (pid is not None or left) and self._listening() and time.monotonic() < deadline:
            time.sleep(0.1)
        return pid is not None or bool(left)

    @property
    def request_log(self) -> Path:
        return self.dir / "emulators" / "requests.jsonl"

    def request_mark(self) -> int:
        """Where the request log ends now: a run's summary counts only what comes after."""
        return self.request_log.stat().st_size if self.request_log.exists() else 0

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        if not self.request_log.exists():
            return []
        with self.request_log.open("rb") as fh:
            fh.seek(since)
            return [json.loads(line) for line in fh.read().decode().splitlines() if line.strip()]

    # --- the stack ----------------------------------------------------------------------
    def pulumi(self, *args: str, stream: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        """One engine run, in a process group of its own that is gone when this returns. A streamed
        run also writes its engine events, so a failure can be named by its cause."""
        if not (self.workdir / "Pulumi.yaml").is_file():
            self.prepare()
        cmd = [str(BIN / "pulumi"), *args, *(["--stack", self.stack_name] if args[0] not in ("stack",) else [])]
        events = ""
        if stream:
            with tempfile.TemporaryDirectory() as tmp:
                log = Path(tmp) / "events.jsonl"
                proc = run_engine([*cmd, "--event-log", str(log)], cwd=self.workdir, env=self.env(), capture=False)
                events = _diagnostics(log)
        else:
            proc = run_engine(cmd, cwd=self.workdir, env=self.env())
        if check and proc.returncode != 0:
            detail = events if stream else f"{proc.stdout}{proc.stderr}"
            kind, reason = failure_cause(detail)
            raise EngineRunError(f"`pulumi {' '.join(args)}` failed ({kind}: {reason})", kind, detail)
        return proc

    def check_stack_file(self) -> None:
        path = self.source or stack_file(self.project, self.stack_name)
        if not path.is_file() and stack_file(self.workdir, self.stack_name).is_file():
            return  # a stack a rehearsal made (`clone --yes` into a new stack): its overlay is all there is
        if not path.is_file():
            if self.stack_name == STACK:
                raise SandboxError(f"{path} is missing: the sandbox stack file ships with launchplan")
            known = ", ".join(stack_names(self.project)) or "none"
            raise SandboxError(f"no stack '{self.stack_name}' to rehearse: {path.name} does not exist (stacks here: {known})")
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        if str(config.get("launchplan:sandbox", "")).lower() != "true":
            return  # a team stack: its overlay's endpoints are the emulators', by construction
        endpoints_cfg = config.get("launchplan:endpoints", {})
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
        """Creates an interrupted `up` started but never recorded: drop the pending records; what
        exists on the platform is then adopted by the reconciliation every `up` runs (`repair`)."""
        state = json.loads(self.pulumi("stack", "export", "--stack", self.stack_name).stdout)
        pending = [
            op["resource"] for op in state.get("deployment", {}).get("pending_operations") or [] if op.get("type") == "creating"
        ]
        if not pending:
            return []
        self.pulumi("refresh", "--yes", "--skip-preview", "--non-interactive", "--clear-pending-creates")
        return [f"{r['urn'].rsplit('::', 1)[-1]}: checked against the platform below" for r in pending]

    def stack(self) -> Stack:
        return Stack(self.workdir, self.stack_name)

    def select_stack(self) -> None:
        self.prepare()
        self.pulumi("stack", "select", f"--stack={self.stack_name}", "--create", "--secrets-provider", "passphrase")

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--stack", self.stack_name).stdout or "{}")

    def rehearsed_stacks(self) -> list[str]:
        """The stacks the sandbox's backend holds."""
        if not (self.dir / "pulumi-state" / ".pulumi").exists() or not self.workdir.joinpath("Pulumi.yaml").is_file():
            return []
        proc = self.pulumi("stack", "ls", "--json", check=False)
        return sorted(s["name"] for s in json.loads(proc.stdout or "[]")) if proc.returncode == 0 else []

    def resource_count(self) -> int:
        proc = self.pulumi("stack", "export", "--stack", self.stack_name, check=False)
        if proc.returncode != 0:
            return 0
        resources = json.loads(proc.stdout).get("deployment", {}).get("resources") or []
        return sum(1 for r in resources if not r["type"].startswith("pulumi:"))


def _log_tail(log: Path, since: int, lines: int = 6) -> str:
    """The last lines the emulators wrote since `since`: what stopped them, in the error itself."""
    try:
        with log.open("rb") as fh:
            fh.seek(since)
            tail = fh.read().decode(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return (":\n  " + "\n  ".join(tail)) if tail else ""


class EngineRunError(SandboxError):
    def __init__(self, message: str, kind: str, detail: str):
        super().__init__(message)
        self.kind = kind
        self.detail = detail

    @property
    def transient(self) -> bool:
        """Worth another attempt: the network failed, or a create was refused because the object
        already exists (a lost response: the next attempt adopts it)."""
        return self.kind in ("network", "conflict")


def _diagnostics(log: Path) -> str:
    """The error diagnostics of an engine event log, one per line."""
    lines = []
    for line in log.read_text().splitlines() if log.exists() else []:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        diag = event.get("diagnosticEvent") or {}
        if diag.get("severity") == "error":
            lines.append(f"{diag.get('urn', '').rsplit('::', 1)[-1]}: {diag.get('message', '').strip()}")
    return "\n".join(lines)


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


def health_checks(outputs: dict[str, Any], stand_ins_url: str | None) -> list[tuple[str, str, str]]:
    """Each health check's verdict; a real host name is asked of the sandbox's stand-in apps."""
    rows = []
    for check in outputs.get("healthChecks", []):
        host = urlsplit(check["url"]).hostname or ""
        if stand_ins_url is None and not is_loopback(host):
            rows.append((check["name"], check["url"], "not served by the sandbox (a real Vercel/Heroku URL)"))
            continue
        try:
            answer = stand_ins.get(check["url"], stand_ins_url, 5)
            verdict = "pass"
            if answer.status_code != check["expectStatus"]:
                why = stand_ins.failed_checks(answer)
                verdict = f"FAIL: {answer.status_code}, expected {check['expectStatus']}" + (f" ({why})" if why else "")
        except httpx.HTTPError as exc:
            verdict = f"FAIL: {exc}"
        rows.append((check["name"], check["url"], verdict))
    return rows


def summary(sb: Sandbox, outputs: dict[str, Any], seconds: float, since: int = 0) -> None:
    console = sb.console
    checks = health_checks(outputs, sb.urls.get("apps"))
    run = sb.requests(since)  # this run's requests only, not the whole log
    counts = Counter(("write" if r["method"] != "GET" else "read") for r in run)
    faulted = sum(1 for r in run if r["status"] in (429, 503))
    requests = (
        f"{counts['read']} reads, {counts['write']} writes"
        + (f", {faulted} answered 429/503 by injected faults" if faulted else "")
        + " (log: .sandbox/emulators/requests.jsonl)"
    )
    print_summary(console, sb.resource_count(), seconds, outputs, checks, requests, sb.urls, stack=sb.stack_name)


def print_summary(
    console: Console,
    resources: int,
    seconds: float,
    outputs: dict[str, Any],
    checks: list[tuple[str, str, str]],
    requests: str,
    urls: dict[str, str],
    stack: str = STACK,
) -> None:
    """What `sandbox up` made, by kind: apps and projects with their URLs, webhooks, manual steps,
    health checks, this run's API requests, the emulators' endpoints."""
    p = Printer(console)
    title = "sandbox stack" if stack == STACK else f"{stack} stack (rehearsed in the sandbox)"
    p.line(Text(title, style="bold"), f": {resources} resources, {seconds:.1f} s")
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("Vercel projects", [(name, project["url"]) for name, project in outputs.get("vercelProjects", {}).items()]),
        ("Heroku apps", [(name, app["url"]) for name, app in outputs.get("herokuApps", {}).items()]),
        ("Calendly webhooks", [(n, "registered in the Calendly emulator") for n in outputs.get("calendlySubscriptions", [])]),
        (
            "Manual steps",
            [
                (step["webhook"], f"{step['where']}: {step['url']} ({len(step['events'])} events)")
                for step in outputs.get("manualSteps", [])
            ],
        ),
    ]
    for title, rows in sections:
        if rows:
            p.line(f"{title}:")
            for name, detail in rows:
                p.kv(f"{name}:", detail, indent=2)
    if checks:
        p.line("Health checks:")
        for name, url, verdict in checks:
            p.kv(f"{name}:", verdict, indent=2)
            p.line(url, indent=6)
    p.kv("API requests this run:", requests)
    p.line("Endpoints:")
    for name, url in urls.items():
        p.kv(f"{name}:", url, indent=2)


def reconcile(sb: Sandbox, first: dict[str, Any]) -> dict[str, Any]:
    """Adopt what lost responses left on the platforms (the same reconciliation as `launchplan repair`);
    answers the preview of what is left to do."""
    try:
        adopted, _, last = repair.reconcile(sb.stack(), apply=True, first=first)
    except repair.RepairError as exc:
        raise SandboxError(f"not adopted, because it is not the declared object: {exc}") from None
    except StackError as exc:
        kind, reason = failure_cause(str(exc))
        raise EngineRunError(f"reconciliation failed ({kind}: {reason})", kind, str(exc)) from None
    except PlatformApiError as exc:
        raise EngineRunError(f"reconciliation failed (network: {exc})", "network", str(exc)) from None
    for f in adopted:
        sb.console.print(f"[yellow]Adopted[/] {f.name}: {f.detail} (it existed on the platform but not in the state)")
    return last


def refresh(sb: Sandbox) -> bool:
    """Reconcile live changes instead of hiding them: `pulumi refresh`, then sensitive values whose
    platform metadata says they changed out of band are re-adopted, so the apply writes the declared value."""
    from scripts import drift  # drift imports the stack module only: no cycle at import time

    try:
        with sb.console.status("pulumi refresh…"):
            sb.pulumi("refresh", "--yes", "--skip-preview", "--non-interactive")
    except EngineRunError as exc:
        if not exc.transient:
            raise
        sb.console.print(f"[yellow]Refresh incomplete ({exc.kind}): live changes are reconciled on the next attempt.[/]")
        return False
    stack = sb.stack()
    try:
        changed = drift.sensitive_changes(stack)
    except (StackError, PlatformApiError) as exc:
        sb.console.print(f"[yellow]Could not read the platforms' metadata of sensitive values: {exc}[/]")
        return True
    for finding in changed:
        sb.console.print(
            f"[yellow]Changed outside Pulumi[/]: {finding.resource}: {finding.detail}; the declared value is set again."
        )
    if changed:
        urns = [f.urn for f in changed if f.urn]
        for urn in urns:
            sb.pulumi("state", "delete", urn, "--yes", "--non-interactive")
    return True


def apply(sb: Sandbox, refresh_first: bool) -> None:
    """One attempt: refresh, preview, adopt orphans, apply what is left."""
    if refresh_first:
        refresh(sb)
    with sb.console.status("pulumi preview…"):
        preview = json.loads(sb.pulumi("preview", "--json", "--non-interactive").stdout)
    preview = reconcile(sb, preview)
    ops = Counter(step["op"] for step in preview.get("steps", []) if step["op"] != "same")
    if not ops:
        sb.console.print("[green]Nothing to change[/]: the sandbox already matches the stack file.")
        return
    sb.console.print("Preview: " + ", ".join(f"{n} to {op}" for op, n in sorted(ops.items())))
    sb.pulumi("up", "--yes", "--skip-preview", "--non-interactive", "--continue-on-error", stream=True)


def up(sb: Sandbox, knobs: Knobs | None = None, refresh_first: bool = True) -> None:
    knobs = knobs or Knobs()
    started = time.perf_counter()
    sb.check_stack_file()
    sb.ensure_engine()
    stopped = stop_orphaned_runs(where=str(sb.dir / "pulumi-state"))
    if stopped:
        sb.console.print(f"[yellow]Stopped {len(stopped)} engine processes an interrupted run left behind.[/]")
    seed = knobs.fault_seed if knobs.fault_seed is not None else random.SystemRandom().randrange(2**31)
    with sb.console.status("Starting the API emulators…"):
        sb.start_emulators(knobs.args(seed))
    if knobs.active:
        sb.console.print(f"Faults injected with seed {seed} (repeat them with --fault-seed {seed}).")
    mark = sb.request_mark()
    for line in sb.repair_backend():
        sb.console.print(f"[yellow]State left by an interrupted run: {line}.[/]")
    with sb.console.status("Selecting the sandbox stack…"):
        sb.select_stack()
    for pid in sb.clear_stale_locks():
        sb.console.print(f"[yellow]Removed the lock of an interrupted run (pid {pid}, no longer running).[/]")
    for line in sb.recover_pending_creates():
        sb.console.print(f"[yellow]Interrupted create, {line}[/]")
    refreshed = not refresh_first
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # One complete refresh is enough: a retry after a transient failure only re-applies,
            # with fewer requests to lose to the same flaky network.
            refreshed = refreshed or refresh(sb)
            apply(sb, False)
            break
        except EngineRunError as exc:
            if not exc.transient or attempt == ATTEMPTS:
                raise
            sb.console.print(f"[yellow]Attempt {attempt} failed ({exc.kind}: {cause_label(exc.kind)}); trying again.[/]")
            time.sleep(0.5 * attempt)
    deploy_stand_ins(sb)
    summary(sb, sb.outputs(), time.perf_counter() - started, since=mark)


def deploy_stand_ins(sb: Sandbox) -> None:
    """Deploy a stand-in of each app and project (as `git push` deploys code that expects the
    declared env), so health checks pass or fail for real reasons."""
    apps_url = sb.urls.get("apps")
    if apps_url is None:
        return
    try:
        stand_ins.deploy(apps_url, sb.stack().spec)
    except (stand_ins.StandInError, httpx.HTTPError) as exc:
        raise SandboxError(f"stand-in apps not deployed: {exc}") from None


def down(sb: Sandbox, destroy_protected: bool, only: str | None = None) -> None:
    """Destroy one rehearsed stack (`only`; the emulators keep running), or every stack the
    sandbox holds and then stop the emulators."""
    require_engine()
    names = [only] if only else (sb.rehearsed_stacks() or [STACK])
    boxes = [Sandbox(sb.project, sb.console, sb.port, name) for name in names]
    deployed = [b for b in boxes if (sb.dir / "pulumi-state").exists() and b.resource_count() > 0]
    for box in deployed:
        if stack_file(box.project, box.stack_name).is_file():
            box.check_stack_file()  # a port that is not the stack file's: refused before anything stops or changes
    try:
        for box in deployed:
            destroy(box, destroy_protected)
    finally:  # the emulators never outlive `down`, even when a destroy failed (their state stays on disk)
        stopped = sb.stop_emulators() if only is None else False
    if only:
        done = f"Stack {only} destroyed in the sandbox" if deployed else f"Stack {only} has nothing deployed in the sandbox"
        sb.console.print(f"{done}; the emulators keep running.")
        return
    sb.console.print("Sandbox destroyed" + ("; emulators stopped." if stopped else "; no emulators were running."))


def destroy(sb: Sandbox, destroy_protected: bool) -> None:
    stop_orphaned_runs(where=str(sb.dir / "pulumi-state"))
    if sb.running_faults():  # faults would fail the destroy half-way: restart the emulators without them
        sb.stop_emulators()
    sb.start_emulators([])
    sb.select_stack()
    sb.recover_pending_creates()
    try:  # what a lost response left outside the state is adopted first, so the destroy removes it too
        for f in repair.reconcile(sb.stack(), apply=True)[0]:
            sb.console.print(f"[yellow]Adopted[/] {f.name} to destroy it: {f.detail}")
    except repair.RepairError as exc:
        sb.console.print(f"[yellow]Left alone, not the declared objects: {exc}[/]")
    if destroy_protected:
        sb.pulumi("state", "unprotect", "--all", "--yes")
    try:
        sb.pulumi("destroy", "--yes", "--skip-preview", "--non-interactive", stream=True)
    except EngineRunError as exc:
        hint = " (pass --destroy-protected to destroy it too)" if exc.kind == "protected" and not destroy_protected else ""
        raise SandboxError(f"destroy stopped by {cause_label(exc.kind)}{hint}: {failure_cause(exc.detail)[1]}") from None


def status(sb: Sandbox) -> dict[str, Any]:
    pid = sb._pid()
    report = {
        "emulators": {"running": bool(pid and sb._listening()), "pid": pid, "endpoints": sb.urls, "faults": sb.running_faults()},
        "stack": {"resources": sb.resource_count() if (BIN / "pulumi").exists() else None},
        # Team stacks rehearsed here (`sandbox up STACK`), with their resource counts.
        "rehearsals": {
            name: Sandbox(sb.project, sb.console, sb.port, name).resource_count()
            for name in (sb.rehearsed_stacks() if (BIN / "pulumi").exists() else [])
            if name != STACK
        },
        "requests": dict(Counter(f"{r['service']} {'write' if r['method'] != 'GET' else 'read'}" for r in sb.requests())),
    }
    return report


SAVED_PATH = "LAUNCHPLAN_SAVED_PATH"  # PATH before `sandbox env`, put back by `sandbox env --unset`
# The engine's environment that the shell takes over: pulumi on the sandbox's backend, home and passphrase.
ENGINE_VARS = (
    "PULUMI_HOME",
    "PULUMI_BACKEND_URL",
    "PULUMI_CONFIG_PASSPHRASE",
    "PULUMI_SKIP_UPDATE_CHECK",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
    "PULUMI_IGNORE_AMBIENT_PLUGINS",
    "VERCEL_API_URL",
    "HEROKU_API_URL",
)
HEROKU_CLI_VARS = (
    "HEROKU_HOST",
    "HEROKU_API_KEY",
    "HEROKU_DATA_HOST",
    "HEROKU_PARTICLEBOARD_URL",
    "DISABLE_TELEMETRY",
    "HEROKU_DISABLE_AUTOUPDATE",
    "HEROKU_SKIP_NEW_VERSION_CHECK",
    "NODE_EXTRA_CA_CERTS",
)
SHELL_VARS = (REHEARSAL_VAR, *ENGINE_VARS, *HEROKU_CLI_VARS)


def shell_env(sb: Sandbox) -> dict[str, str]:
    """What `sandbox env` exports (PATH aside): launchplan's commands act on the rehearsal project,
    `pulumi` on the sandbox's backend, home and passphrase, and the official Heroku CLI on the
    emulators, with telemetry and update checks off so it calls nothing else."""
    engine = sb.env()
    heroku = sb.urls["heroku"]
    return {
        REHEARSAL_VAR: str(sb.workdir),
        **{k: engine[k] for k in ENGINE_VARS if k in engine},
        "HEROKU_HOST": heroku,
        "HEROKU_API_KEY": rehearsal.fake_credential("heroku:apiKey"),
        "HEROKU_DATA_HOST": urlsplit(heroku).hostname or "127.0.0.1",  # the CLI keeps HEROKU_HOST's scheme and port
        "HEROKU_PARTICLEBOARD_URL": heroku,  # else account reads also ask particleboard.heroku.com
        "DISABLE_TELEMETRY": "true",
        "HEROKU_DISABLE_AUTOUPDATE": "true",
        "HEROKU_SKIP_NEW_VERSION_CHECK": "true",
        "NODE_EXTRA_CA_CERTS": str(sb.dir / "emulators" / "tls" / "cert.pem"),  # the https backup URLs
    }


def exports(sb: Sandbox) -> str:
    env = shell_env(sb)
    heroku_cli = ROOT / "tools" / "heroku-cli" / "node_modules" / ".bin"
    lines = [
        f"# The launchplan sandbox at {sb.dir}: launchplan, pulumi (run it in ${REHEARSAL_VAR}) and heroku act on it.",
        '# Leave it with: eval "$(launchplan sandbox env --unset)"',
        rehearsal.exported(env, list(env)).rstrip("\n"),
        f'[ -n "${{{SAVED_PATH}:-}}" ] || export {SAVED_PATH}="$PATH"',
        f'export PATH={shlex.quote(f"{BIN}:{heroku_cli}")}:"${SAVED_PATH}"',
    ]
    return "\n".join(lines) + "\n"


def psql(sb: Sandbox, app: str | None, command: str | None) -> int:
    """Run psql on an app's database in the sandbox, its credentials passed in the environment."""
    if not (sb.workdir / stack_file(sb.workdir, sb.stack_name).name).is_file():
        sb.prepare()
    stack = sb.stack()
    apps = [name for name, spec in stack.spec.heroku.apps.items() if spec.postgres]
    listed = ", ".join(apps) or "none"
    if app is None:
        if len(apps) != 1:
            raise SandboxError(f"name the app: stack {sb.stack_name} has {len(apps)} with a database ({listed})")
        app = apps[0]
    elif app not in apps:
        raise SandboxError(f"stack {sb.stack_name} declares no database for app {app!r} (apps with one: {listed})")
    with stack.heroku() as heroku:
        url = (heroku.request("GET", f"/apps/{app}/config-vars", ok_missing=True) or {}).get("DATABASE_URL")
    if not url:
        raise SandboxError(f"{app} has no DATABASE_URL in the sandbox: run `launchplan sandbox up {sb.stack_name}` first")
    parts = urlsplit(url)
    if not is_loopback(parts.hostname or ""):
        raise SandboxError(f"{app}'s database is not the sandbox's (not on this machine): refused")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PG")},  # never the user's own PGSERVICE, ...
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or ""),
        "PGPASSWORD": unquote(parts.password or ""),
        "PGDATABASE": parts.path.lstrip("/"),
        "PGSSLMODE": "disable",
    }
    args = [clone_data.psql(), "-X", "-v", "ON_ERROR_STOP=1", *(["-c", command] if command else [])]
    return subprocess.run(args, env=env).returncode


# --- the command ---------------------------------------------------------------------


sandbox_app = typer.Typer(
    help="A local sandbox: the sandbox stack on the offline engine against API emulators.", no_args_is_help=True
)
PortOption = Annotated[
    Optional[int],
    typer.Option("--port", help="Base port; the emulators listen on the next three (default: as the stack file says)."),
]


StackArgument = Annotated[
    Optional[str],
    typer.Argument(
        help="The stack to rehearse: any Pulumi.<STACK>.yaml of the project, or a stack file's path such as "
        "examples/Pulumi.field-tracking.yaml (default: sandbox)."
    ),
]
StackOption = Annotated[Optional[str], typer.Option("--stack", "-s", help="The stack, as pulumi takes it.")]


def _sandbox(port: Optional[int], stack: str | None = None) -> Sandbox:
    """The sandbox of this project (the team's, also when run inside a rehearsal); a bad port or
    an unknown stack is refused (exit 2) before anything starts."""
    problem = port_problem(port) if port is not None else None
    if problem:
        fail(problem)
    project = rehearsal.team_root(find_project_root())
    source = None
    if stack is not None and stack.endswith((".yaml", ".yml")):
        source, stack = _stack_file_elsewhere(project, stack)
    rehearsed_only = stack is not None and stack_file(rehearsal.rehearsal_root(project), stack).is_file()  # made by clone
    if stack is not None and source is None and not stack_file(project, stack).is_file() and not rehearsed_only:
        known = ", ".join(stack_names(project)) or "none"
        fail(
            f"no stack '{stack}' to rehearse: Pulumi.{stack}.yaml does not exist in {project} (stacks here: {known}; "
            "a stack file elsewhere, such as an example, is named by its path: examples/Pulumi.<stack>.yaml)"
        )
    return Sandbox(project, out, port if port is not None else base_port(project), stack or STACK, source)


def _stack_file_elsewhere(project: Path, given: str) -> tuple[Path | None, str]:
    """A stack named by its file's path (`examples/Pulumi.field-tracking.yaml`): the file, unless it is
    the project's own stack file, and its stack's name; refused when the name is a project stack's."""
    path = Path(given).expanduser().resolve()
    try:
        name = stack_name_from_path(path)
    except ValueError as exc:
        fail(str(exc))
    if not path.is_file():
        fail(f"no stack file {given}: it does not exist")
    if path == stack_file(project, name).resolve():
        return None, name
    if stack_file(project, name).is_file() or name == STACK:
        fail(
            f"{given} names stack '{name}', which is one of this project's own ({stack_file(project, name).name}): "
            "rename the file to rehearse it beside that one"
        )
    return path, name


def _run(action: Callable[[], None]) -> None:
    """Run a sandbox action, naming the cause of a failure (engine, network, policy, protected, ...)."""
    try:
        action()
    except EngineRunError as exc:
        fail(f"{exc} — caused by {cause_label(exc.kind)}", 1)
    except SandboxInputError as exc:
        fail(str(exc))
    except (SandboxError, StackError, EngineMissingError, rehearsal.RehearsalError, PlatformApiError) as exc:
        fail(str(exc), 1)


@sandbox_app.command("up")
def sandbox_up(
    port: PortOption = None,
    rate_limit_every: Annotated[int, typer.Option(help="Fault: answer every Nth request with 429.")] = 0,
    retry_after: Annotated[float, typer.Option(help="Fault: Retry-After seconds on each 429.")] = 1.0,
    error_rate: Annotated[float, typer.Option(help="Fault: fraction of requests answered with 503.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Fault: latency added to every request.")] = 0,
    fault_seed: Annotated[
        Optional[int], typer.Option(help="Fault: the seed that draws which requests fail (default: random, printed).")
    ] = None,
    fail_after_create: Annotated[
        Optional[str],
        typer.Option(help='Fault: after a create matching this regex ("POST /v8/projects") the next request 503s.'),
    ] = None,
    lose_create_response: Annotated[
        Optional[str], typer.Option(help="Fault: a create matching this regex is made, but its answer is a 503.")
    ] = None,
    refresh: Annotated[bool, typer.Option(help="Refresh from the platforms first, so live changes are reconciled.")] = True,
    stack: StackArgument = None,
    stack_option: StackOption = None,
) -> None:
    """Start the emulators, build the engine if missing, preview and apply a stack (the sandbox
    stack, or a rehearsal of any of the team's stacks, unchanged), deploy stand-ins, print a summary."""
    knobs = Knobs(rate_limit_every, retry_after, error_rate, latency_ms, fault_seed, fail_after_create, lose_create_response)
    problems = knobs.problems()
    if problems:
        fail("; ".join(problems))  # exit 2: nothing was started
    sb = _sandbox(port, pick_stack(stack, stack_option, required=False))
    _run(lambda: up(sb, knobs, refresh))


@sandbox_app.command("down")
def sandbox_down(
    port: PortOption = None,
    destroy_protected: Annotated[bool, typer.Option(help="Also destroy protected databases.")] = False,
    stack: Annotated[
        Optional[str], typer.Argument(help="Destroy only this rehearsed stack (default: every stack, then stop the emulators).")
    ] = None,
    stack_option: StackOption = None,
) -> None:
    """Destroy every stack in the sandbox and stop the emulators, or destroy one rehearsed stack."""
    only = pick_stack(stack, stack_option, required=False)
    sb = _sandbox(port, only)
    _run(lambda: down(sb, destroy_protected, only))


@sandbox_app.command("env")
def sandbox_env_command(
    port: PortOption = None,
    unset: Annotated[bool, typer.Option("--unset", help="Print the unsets that leave the rehearsal instead.")] = False,
) -> None:
    """Shell exports pointing launchplan, pulumi and the Heroku CLI at the sandbox:
    eval "$(launchplan sandbox env)"."""
    if unset:
        names = " ".join(SHELL_VARS)
        print(f'[ -n "${{{SAVED_PATH}:-}}" ] && export PATH="${SAVED_PATH}"\nunset {names} {SAVED_PATH}')
        return

    def refuse(message: str) -> None:
        # What `eval` runs: a failure must fail there too, never leave the shell on real stacks.
        print(f"echo {shlex.quote('launchplan sandbox env failed: ' + message)} >&2; false")
        fail(message)

    sb = _sandbox(port)
    try:
        require_engine()
    except EngineMissingError:
        refuse("the offline engine is not built: run `launchplan sandbox up` (or `make engine`) first")
    try:
        sb.prepare()
    except SandboxError as exc:
        refuse(str(exc))
    print(exports(sb), end="")


@sandbox_app.command("psql")
def sandbox_psql(
    stack: Annotated[Optional[str], typer.Argument(help="The rehearsed stack (default: sandbox).")] = None,
    app: Annotated[Optional[str], typer.Argument(help="The Heroku app whose database (default: the stack's only one).")] = None,
    command: Annotated[Optional[str], typer.Option("--command", "-c", help="Run this SQL and exit.")] = None,
    port: PortOption = None,
) -> None:
    """psql on a rehearsed app's database (stdin is run through it when not a terminal)."""
    sb = _sandbox(port, stack)
    code = 0

    def run() -> None:
        nonlocal code
        code = psql(sb, app, command)

    _run(run)
    raise typer.Exit(code)


@sandbox_app.command("status")
def sandbox_status(
    port: PortOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What runs: the emulators, the stack's resources, request counts."""
    sb = _sandbox(port)
    report = status(sb)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    print_status(report, out)


def print_status(report: dict[str, Any], console: Console) -> None:
    """The emulators, the sandbox stack and the request counts of a `status` report."""
    p = Printer(console)
    emulators = report["emulators"]
    running = Text(f"running (pid {emulators['pid']})", style="green") if emulators["running"] else "stopped"
    p.line(Text("emulators", style="bold"), ": ", running)
    if emulators.get("faults"):
        p.kv("faults:", " ".join(emulators["faults"]), indent=2)
    for name, url in emulators["endpoints"].items():
        p.kv(f"{name}:", url, indent=2)
    resources = report["stack"]["resources"]
    if resources is None:
        stack = "unknown: the offline engine is not built (`make engine`)"
    elif resources == 0:
        stack = "no resources (`launchplan sandbox up` creates them)"
    else:
        stack = f"{resources} resource{'s' if resources != 1 else ''}"
    p.line(Text("sandbox stack", style="bold"), f": {stack}")
    for name, count in sorted((report.get("rehearsals") or {}).items()):
        p.line(Text(f"{name} stack", style="bold"), f" (rehearsed): {count} resource{'s' if count != 1 else ''}")
    p.line(Text("API requests", style="bold"), ":" if report["requests"] else ": none")
    for key, count in sorted(report["requests"].items()):
        p.kv(f"{key}:", str(count), indent=2)
