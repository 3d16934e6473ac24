"""The policy pack under the real engine, and the gate running it on a preview of its own."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.vercel import VercelApi
from scripts.pulumi_cli import ROOT
from tests.support.engine import Workspace, launchplan_workspace, project_yaml

pytestmark = pytest.mark.integration
TOKEN = "0123456789abcdef01234567"
POLICY = ROOT / "policy"
LEAKY = """
import pulumi
import pulumiverse_vercel as vercel

project = vercel.Project("web", name="policy-web", framework="nextjs")
vercel.ProjectEnvironmentVariable("token", project_id=project.id, key="API_TOKEN", value="x",
                                  targets=["production"], sensitive=False)
"""


@pytest.fixture
def vercel_url(tmp_path: Path) -> Iterator[str]:
    api = VercelApi(token=TOKEN)
    url = api.start()
    yield url
    api.stop()


def test_pack_blocks_a_secret_looking_var_that_is_not_sensitive(tmp_path: Path, vercel_url: str) -> None:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("leaky"), "__main__.py": LEAKY}, VERCEL_API_URL=vercel_url)
    ws.pulumi("stack", "init", "dev")
    ws.pulumi("config", "set", "--secret", "vercel:apiToken", TOKEN)
    preview = ws.pulumi("preview", "--non-interactive", "--policy-pack", str(POLICY), check=False)
    assert preview.returncode != 0
    assert "secret-env-vars-sensitive" in preview.stdout and "API_TOKEN looks like a secret; make it sensitive" in preview.stdout


def test_gate_runs_the_pack_on_its_own_preview(tmp_path: Path, vercel_url: str) -> None:
    secrets = {"vercel:apiToken": TOKEN, "launchplan:arrivyAuthKey": "k", "launchplan:arrivyAuthToken": "t"}
    ws = launchplan_workspace(tmp_path, ROOT / "examples" / "Pulumi.field-tracking.yaml", secrets, VERCEL_API_URL=vercel_url)
    env = {**ws.env, "PULUMI_BACKEND_URL": f"file://{ws.backend}"}
    env.pop("PULUMI_HOME", None)  # the gate picks the engine and its plugins itself
    gate = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "launchplan"), "gate", "field-tracking", "--json", "--policy-pack", str(POLICY)],
        cwd=ws.dir,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert gate.returncode == 0, gate.stdout + gate.stderr
    verdict = json.loads(gate.stdout)
    assert verdict["passed"] and verdict["policyErrors"] == []
    assert {s["op"] for s in verdict["steps"]} == {"create"} and len(verdict["steps"]) == 11
