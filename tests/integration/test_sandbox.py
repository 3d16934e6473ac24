"""`launchplan sandbox up / status / down` as a user runs them, in a copy of the project."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from scripts.engine import ROOT

pytestmark = pytest.mark.integration


def free_base_port() -> int:
    """A base port whose next three ports are free (the emulators listen there)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 3 < 65535 and all(_free(base + i) for i in (1, 2, 3)):
            return base
    raise RuntimeError("no free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def launchplan(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), *args], cwd=project, capture_output=True, text=True, timeout=600
    )


def sandbox_project(where: Path) -> tuple[Path, int]:
    """A copy of the project whose sandbox stack points at a free set of ports."""
    base = free_base_port()
    project = where / "project"
    project.mkdir()
    venv = f"virtualenv: {ROOT / '.venv'}"
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("virtualenv: .venv", venv))
    (project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    stack = (ROOT / "Pulumi.sandbox.yaml").read_text()
    for default, offset in ((47201, 1), (47202, 2), (47203, 3)):
        stack = stack.replace(f"127.0.0.1:{default}", f"127.0.0.1:{base + offset}")
    (project / "Pulumi.sandbox.yaml").write_text(stack)
    return project, base


def test_sandbox_up_again_status_down(tmp_path: Path) -> None:
    project, base = sandbox_project(tmp_path)
    port = f"--port={base}"
    try:
        first = launchplan(project, "sandbox", "up", port)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "Calendly webhook" in first.stdout and "calendly-bookings" in first.stdout
        assert "not served by the sandbox" in first.stdout

        state = json.loads((project / ".sandbox" / "emulators" / "vercel.json").read_text())
        assert [p["name"] for p in state["projects"].values()] == ["rep-dashboard"]
        assert len(state["envs"]) == 8  # 5 declared + NEXT_PUBLIC_APP_ENV + 2 webhook signing secrets
        calendly = json.loads((project / ".sandbox" / "emulators" / "calendly.json").read_text())
        [key] = calendly["signing_keys"].values()
        receiver = next(e for e in state["envs"].values() if e["key"] == "CALENDLY_WEBHOOK_SIGNING_KEY")
        assert receiver["value"] == key and receiver["type"] == "sensitive"

        log = project / ".sandbox" / "emulators" / "requests.jsonl"
        writes_before = sum(1 for line in log.read_text().splitlines() if json.loads(line)["method"] != "GET")
        again = launchplan(project, "sandbox", "up", port)
        assert again.returncode == 0 and "Nothing to change" in again.stdout
        writes_after = sum(1 for line in log.read_text().splitlines() if json.loads(line)["method"] != "GET")
        assert writes_after == writes_before, "a second up with nothing changed writes nothing"

        report = json.loads(launchplan(project, "sandbox", "status", port, "--json").stdout)
        assert report["emulators"]["running"] and report["stack"]["resources"] == 15

        stack_text = (project / "Pulumi.sandbox.yaml").read_text()
        for fake in ("5a4db0c0ffee5a4db0c0ffee", "sandbox-calendly-token", "sandbox-arrivy-key"):
            assert fake not in first.stdout + again.stdout + stack_text + log.read_text()
    finally:
        down = launchplan(project, "sandbox", "down", port)
    assert down.returncode == 0, down.stdout + down.stderr
    report = json.loads(launchplan(project, "sandbox", "status", port, "--json").stdout)
    assert not report["emulators"]["running"] and report["stack"]["resources"] == 0
