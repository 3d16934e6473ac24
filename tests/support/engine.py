"""Test harness: the real Pulumi engine (tools/engine) in a throwaway project and file backend."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.spec.stack_config import stack_name_from_path
from scripts.pulumi_cli import BIN, ROOT, offline_env, require_engine


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
    stack = stack_name_from_path(stack_file)
    ws = Workspace(where, {"Pulumi.yaml": project, "__main__.py": ROOT / "__main__.py", stack_file.name: stack_file}, **env)
    ws.pulumi("stack", "init", stack)
    for key, value in secrets.items():
        ws.pulumi("config", "set", "--secret", key, value)
    return ws
