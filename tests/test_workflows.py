"""The example GitHub workflows parse, and call only commands launchplan has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from scripts.cli import app
from tests.support.stacks import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def commands() -> set[str]:
    group = get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    names |= {f"sandbox {sub}" for sub in group.commands["sandbox"].commands}  # type: ignore[attr-defined]
    return names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_and_uses_real_commands(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    assert doc["name"] and doc["jobs"]
    assert True in doc or "on" in doc  # YAML 1.1 reads the key `on` as True
    for job in doc["jobs"].values():
        assert job["runs-on"] and job["steps"]
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            for used in re.findall(r"launchplan (sandbox \w+|\w+)", step.get("run", "")):
                assert used in commands(), f"{path.name} calls `launchplan {used}`, which does not exist"


def test_production_waits_for_staging_and_an_approval() -> None:
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    production = deploy["jobs"]["production"]
    assert production["needs"] == "staging" and production["environment"] == "production"
    runs = [s.get("run", "") for s in production["steps"]]
    assert runs.index(".venv/bin/launchplan gate production") < runs.index("pulumi up --stack production --yes --non-interactive")


def test_workflows_hold_no_credentials() -> None:
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if re.search(r"(TOKEN|PASSPHRASE|PASSWORD|KEY|BACKEND_URL)\s*:", line):
                assert "${{ secrets." in line, f"{path.name}: {line.strip()}"


def test_gate_records_travel_with_the_stack_not_as_artifacts() -> None:
    """Production's gate reads staging's signed pass from the state backend (scripts/gate_records.py):
    no workflow uploads or downloads `.launchplan/gate`, which anyone could edit."""
    for path in WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        for job in doc["jobs"].values():
            for step in job["steps"]:
                assert ".launchplan/gate" not in json.dumps(step), f"{path.name}: {step}"
                if "artifact" in step.get("uses", ""):
                    assert "gate" not in json.dumps(step.get("with", {})), f"{path.name}: {step}"
    deploy = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    staging_runs = [s.get("run", "") for s in deploy["jobs"]["staging"]["steps"]]
    production_runs = [s.get("run", "") for s in deploy["jobs"]["production"]["steps"]]
    assert ".venv/bin/launchplan gate staging" in staging_runs and ".venv/bin/launchplan gate production" in production_runs
    # Both jobs reach the same backend with the same secrets provider, so the record can be checked.
    assert deploy["jobs"]["staging"]["env"] == deploy["jobs"]["production"]["env"]
