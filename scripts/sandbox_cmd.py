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
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from rich.console import Console
from rich.table import Table

from sandbox.server import DEFAULT_PORT, EMULATORS, endpoints
from scripts.engine import BIN, ROOT, EngineMissingError, offline_env, require_engine

STACK = "sandbox"
PASSPHRASE = "launchplan-sandbox"  # documented as sandbox-only; protects fake credentials only


class SandboxError(RuntimeError):
    pass


def sandbox_env(project: Path, vercel_url: str) -> dict[str, str]:
    """The offline engine on the sandbox's own backend and passphrase; the vercel plugin sent to its emulator."""
    backend = project / ".sandbox" / "pulumi-state"
    return offline_env(backend, PULUMI_CONFIG_PASSPHRASE=PASSPHRASE, VERCEL_API_URL=vercel_url)


def free_base_port() -> int:
    """A base port whose next three ports are free (for a second sandbox beside the default one)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + 6 < 65535 and all(_port_free(base + i) for i in range(1, 6)):
            return base
    raise SandboxError("no free ports on 127.0.0.1")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def sandbox_copy(where: Path, stack_text: str | None = None) -> tuple[Path, int]:
    """A copy of the project (program + sandbox stack) on a free set of ports: tests and benchmarks."""
    base = free_base_port()
    project = where / "project"
    project.mkdir(parents=True)
    venv = f"virtualenv: {ROOT / '.venv'}"
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", venv))
    (project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    stack = stack_text if stack_text is not None else (ROOT / f"Pulumi.{STACK}.yaml").read_text()
    for name in EMULATORS:
        stack = stack.replace(endpoints(DEFAULT_PORT)[name], endpoints(base)[name])
    (project / f"Pulumi.{STACK}.yaml").write_text(stack)
    return project, base


def base_port(project: Path) -> int:
    """The emulators' base port, as the sandbox stack file's endpoints say (vercelApi is base + 1)."""
    path = project / f"Pulumi.{STACK}.yaml"
    if path.is_file():
        url = ((yaml.safe_load(path.read_text()) or {}).get("config") or {}).get("launchplan:endpoints", {}).get("vercelApi")
        if url and urlsplit(url).port:
            return int(urlsplit(url).port or 0) - EMULATORS["vercel"][1]
    return DEFAULT_PORT


@dataclass
class Sandbox:
    project: Path
    console: Console
    port: int = DEFAULT_PORT

    @property
    def dir(self) -> Path:
        return self.project / ".sandbox"

    @property
    def urls(self) -> dict[str, str]:
        return endpoints(self.port)

    def env(self) -> dict[str, str]:
        return offline_env(self.dir / "pulumi-state", PULUMI_CONFIG_PASSPHRASE=PASSPHRASE, VERCEL_API_URL=self.urls["vercel"])

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
        path = self.project / f"Pulumi.{STACK}.yaml"
        if not path.is_file():
            raise SandboxError(f"{path} is missing: the sandbox stack file ships with launchplan")
        endpoints_cfg = (yaml.safe_load(path.read_text())["config"] or {}).get("launchplan:endpoints", {})
        for name, (_, _, key) in EMULATORS.items():
            if key in endpoints_cfg and endpoints_cfg[key].rstrip("/") != self.urls[name]:
                raise SandboxError(
                    f"{path.name} sends {key} to {endpoints_cfg[key]} but the emulator listens on "
                    f"{self.urls[name]}: pass --port {urlsplit(endpoints_cfg[key]).port - EMULATORS[name][1]}"
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
        from scripts.stacks import Stack

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
