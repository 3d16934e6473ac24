"""Runs the real Pulumi engine (built by tools/engine) in a workspace of its own.

Every run is offline: plugins come only from .engine/home at exact versions,
automatic plugin download is off, and HTTP(S)_PROXY points at a closed port so
anything that still tried to reach the internet would fail loudly, while the
emulators on 127.0.0.1 stay reachable (NO_PROXY).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".engine" / "bin"
HOME = ROOT / ".engine" / "home"
PASSPHRASE = "launchplan-local-only"  # protects throwaway local stacks only, never real credentials


class EngineMissingError(RuntimeError):
    pass


def require_engine() -> None:
    missing = [b for b in ("pulumi", "pulumi-language-python") if not (BIN / b).exists()]
    if missing:
        raise EngineMissingError(f"the offline engine is not built ({', '.join(missing)} missing in {BIN}): run `make engine`")


def offline_env(backend: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "VERCEL_", "HEROKU_"))}
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        PULUMI_HOME=str(HOME),
        PULUMI_BACKEND_URL=f"file://{backend}",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_IGNORE_AMBIENT_PLUGINS="true",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        PULUMI_DEBUG_COMMANDS="true",  # enables --event-log, as the Automation API does
    )
    env.update(extra)  # callers may override any of the above (e.g. the sandbox's passphrase)
    return env


class Workspace:
    """A project folder plus a file backend, both under a test's tmp_path."""

    def __init__(self, tmp_path: Path, files: Mapping[str, str | Path], **env: str):
        require_engine()
        self.dir = tmp_path / "project"
        self.backend = tmp_path / "state"
        self.dir.mkdir(parents=True)
        self.backend.mkdir(parents=True)
        for name, content in files.items():
            target = self.dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copy(content, target)
            else:
                target.write_text(content)
        self.env = offline_env(self.backend, **env)
        self.outputs: list[str] = []  # every command's stdout+stderr, for secret checks

    def pulumi(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(BIN / "pulumi"), *args], cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        self.outputs.append(proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def pulumi_json(self, *args: str) -> Any:
        return json.loads(self.pulumi(*args, "--json").stdout)

    def state_text(self) -> str:
        return "\n".join(p.read_text() for p in self.backend.rglob("*.json"))


def project_yaml(name: str, description: str = "engine test") -> str:
    return (
        f"name: {name}\ndescription: {description}\n"
        f"runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {ROOT / '.venv'}\n"
    )


def launchplan_workspace(where: Path, stack_file: Path, secrets: Mapping[str, str], **env: str) -> Workspace:
    """The launchplan program with one stack file, its stack created and its secrets set."""
    project = (ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", f"virtualenv: {ROOT / '.venv'}")
    stack = stack_file.name[len("Pulumi.") : -len(".yaml")]
    ws = Workspace(where, {"Pulumi.yaml": project, "__main__.py": ROOT / "__main__.py", stack_file.name: stack_file}, **env)
    ws.pulumi("stack", "init", stack)
    for key, value in secrets.items():
        ws.pulumi("config", "set", "--secret", key, value)
    return ws


def pulumi_cli() -> tuple[str, dict[str, str]]:
    """The `pulumi` operator commands run: $LAUNCHPLAN_PULUMI, else the offline engine when built
    (plugins from .engine/home; the user's backend and passphrase kept, else .engine/state), else
    a `pulumi` on PATH with the user's own environment."""
    chosen = os.environ.get("LAUNCHPLAN_PULUMI")
    if chosen:
        return chosen, {**os.environ, "PULUMI_DEBUG_COMMANDS": "true"}
    if (BIN / "pulumi").exists():
        env = dict(os.environ)
        env.update(
            PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            PULUMI_HOME=str(HOME),
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            PULUMI_DEBUG_COMMANDS="true",
        )
        env.setdefault("PULUMI_BACKEND_URL", f"file://{ROOT / '.engine' / 'state'}")
        return str(BIN / "pulumi"), env
    found = shutil.which("pulumi")
    if found is None:
        raise EngineMissingError("no pulumi CLI: run `make engine`, or install Pulumi and put `pulumi` on PATH")
    # PULUMI_DEBUG_COMMANDS enables --event-log, which drift reads (the Automation API sets it too).
    return found, {**os.environ, "PULUMI_DEBUG_COMMANDS": "true"}
