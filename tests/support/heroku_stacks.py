"""Runbook 004's stacks (Pulumi.staging.yaml, Pulumi.production.yaml) on the real engine against the
emulators: tests/integration/test_heroku_stacks.py and benchmarks/bench_heroku.py.

The stack files are copied into a throwaway project unchanged except for an overlay the test adds
(never written into the real files): the emulators' endpoints, `launchplan:sandbox` (plain-http
loopback URLs), `heroku:delays` 0 and a FAKE Heroku token set with `pulumi config set --secret`. The
heroku plugin reaches the Heroku emulator through HEROKU_API_URL, as in the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace
from tests.support.sandbox import free_base_port

TOKEN = "heroku-stacks-fake-token-0001"  # fake: the emulator accepts it, nothing else ever will
STACKS = ("staging", "production")
PLAIN_PROGRAM = ROOT / "tests" / "integration" / "programs" / "heroku_production" / "__main__.py"


class Emulators:
    """`python -m sandbox.server` on a free set of ports, in a folder of its own outside pytest's tmp
    root (the embedded PostgreSQL runs as nobody when we are root). Every request it answers is a
    line of requests.jsonl (method, path, status: never a body)."""

    def __init__(self) -> None:
        for attempt in range(3):
            self.folder = Path(tempfile.mkdtemp(prefix="launchplan-heroku-stacks-"))
            self.base = free_base_port()
            self.output = self.folder / "server.out"
            with self.output.open("w") as out:
                server = [str(ROOT / ".venv" / "bin" / "python"), "-m", "sandbox.server"]
                self.proc = subprocess.Popen(
                    [*server, "--dir", str(self.folder / "emulators"), f"--port={self.base}"],
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            deadline = time.monotonic() + 90
            while "faultSeed" not in self.output.read_text():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = self.output.read_text()
                    self.stop()
                    if "Address already in use" in text and attempt < 2:
                        break  # another process took a port since it was found free: new ports
                    raise RuntimeError(f"the emulators did not start:\n{text}")
                time.sleep(0.1)
            else:
                self.urls: dict[str, str] = json.loads(self.output.read_text().splitlines()[0])
                return

    @property
    def log_file(self) -> Path:
        return self.folder / "emulators" / "requests.jsonl"

    def requests(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text().splitlines() if line.strip()]

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        """Requests that are not GETs, from the `since`-th request of the log on."""
        return [r for r in self.requests()[since:] if r["method"] != "GET"]

    def state(self, name: str = "heroku") -> dict[str, Any]:
        return json.loads((self.folder / "emulators" / f"{name}.json").read_text())

    def app_vars(self, app: str) -> dict[str, str]:
        """The config vars the Heroku emulator holds for an app (what Heroku must receive)."""
        state = self.state()
        [app_id] = [i for i, a in state["apps"].items() if a["name"] == app]
        return dict(state["config_vars"][app_id])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # it stops its emulators and PostgreSQL
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stop_postgres()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stop_postgres(self) -> None:
        """The server's PostgreSQL, when the server died without stopping it (e.g. failed at start-up)."""
        pid_file = self.folder / "emulators" / "postgres" / "pgdata" / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        except OSError:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)


def overlay(stack_file: Path, urls: dict[str, str], **config: Any) -> str:
    """A stack file with the emulators' overlay: endpoints, sandbox mode, no post-create waits."""
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"]["launchplan:sandbox"] = "true"
    doc["config"]["launchplan:endpoints"] = {"herokuApi": urls["heroku"], "herokuDataApi": urls["heroku-data"]}
    doc["config"]["heroku:delays"] = {"postAppCreateDelay": 0, "postDomainCreateDelay": 0}
    doc["config"].update(config)
    return yaml.safe_dump(doc, sort_keys=False)


def project_yaml() -> str:
    return (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {ROOT / '.venv'}")


def stacks_workspace(where: Path, emulators: Emulators, stacks: Iterable[str] = STACKS, program: Path | None = None) -> Workspace:
    """The launchplan program (or another program) with runbook 004's stack files and the overlay,
    each stack created and its fake token set as a secret."""
    stacks = list(stacks)
    files: dict[str, str | Path] = {"Pulumi.yaml": project_yaml(), "__main__.py": program or ROOT / "__main__.py"}
    for stack in stacks:
        files[f"Pulumi.{stack}.yaml"] = overlay(ROOT / f"Pulumi.{stack}.yaml", emulators.urls)
    ws = Workspace(where, files, HEROKU_API_URL=emulators.urls["heroku"])
    for stack in stacks:
        ws.pulumi("stack", "init", stack)
        ws.pulumi("config", "set", "--secret", "heroku:apiKey", TOKEN, "--stack", stack)
    return ws


def twin_workspace(where: Path, of: Workspace, stack: str, program: Path) -> Workspace:
    """Another program on the same backend and the same stack (its config and secrets copied):
    e.g. the hand-written plain program next to launchplan's."""
    stack_file = f"Pulumi.{stack}.yaml"
    ws = Workspace(
        where,
        {"Pulumi.yaml": project_yaml(), "__main__.py": program, stack_file: of.dir / stack_file},
        PULUMI_BACKEND_URL=f"file://{of.backend}",
        HEROKU_API_URL=of.env["HEROKU_API_URL"],
    )
    return ws


def edit_stack(ws: Workspace, stack: str, change: Any) -> str:
    """Apply `change(doc)` to the workspace's stack file; returns the text before, to restore."""
    path = ws.dir / f"Pulumi.{stack}.yaml"
    before = path.read_text()
    doc = yaml.safe_load(before)
    change(doc["config"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return before


# --- previews as committed fixtures ----------------------------------------------------------------

_PORT = re.compile(r"127\.0\.0\.1:\d+")
_VOLATILE = ("stackTrace", "sourcePosition", "duration")


def sanitized_preview(text: str) -> str:
    """`pulumi preview --json` output as committed under tests/fixtures: the emulators' ports and this
    machine's paths (source positions) removed, keys sorted. Secrets are `[secret]` as the engine
    printed them."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in _VOLATILE}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            return _PORT.sub("127.0.0.1:PORT", value)
        return value

    return json.dumps(clean(json.loads(text)), indent=1, sort_keys=True) + "\n"
