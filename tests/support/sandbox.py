"""Test and benchmark support: a copy of the project (program + sandbox stack) whose
emulators listen on a free set of ports, so it runs beside the developer's own sandbox."""

from __future__ import annotations

import random
import socket
import subprocess
from pathlib import Path

from sandbox.server import DEFAULT_PORT, EMULATORS, endpoints
from scripts.pulumi_cli import ROOT
from scripts.sandbox_cmd import STACK


class NoFreePortsError(RuntimeError):
    pass


# Below the kernel's ephemeral range (32768-60999 here), which the engine's plugins and every outgoing
# connection draw from: a port there can be taken between the check and the emulators' start.
TEST_PORTS = (20000, 32000)


def free_base_port() -> int:
    """A base port whose next six ports are free, the emulators', PostgreSQL's and the stand-in apps'
    (for a second sandbox beside the default one)."""
    chooser = random.SystemRandom()
    for _ in range(200):
        base = chooser.randrange(*TEST_PORTS)
        if all(_port_free(base + i) for i in range(1, 7)):
            return base
    raise NoFreePortsError("no free ports on 127.0.0.1")


def _port_free(port: int) -> bool:
    """No socket at all on the port: neither a listener nor any other bound socket."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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


def launchplan(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """The installed `launchplan` command, run in a project folder as a user runs it."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), *args], cwd=project, capture_output=True, text=True, timeout=timeout
    )
