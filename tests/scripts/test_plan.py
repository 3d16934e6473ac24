"""`launchplan plan` and `launchplan schema` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from scripts.cli import app
from tests.support.stacks import EXAMPLES, ROOT, SANDBOX_FILE, STACK_FILES

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_has_the_documented_shape() -> None:
    code, out, _ = run("plan", "production", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["stack"] == "production"
    assert set(doc) == {"stack", "resources", "outputs", "secretsToSet"}
    types = {r["type"] for r in doc["resources"]}
    assert {"heroku:app/app:App", "heroku:addon/addon:Addon", "pulumi-python:dynamic/heroku:BackupSchedule"} <= types
    for resource in doc["resources"]:
        assert set(resource) == {"type", "name", "parent", "protect", "inputs"}
    config = next(r for r in doc["resources"] if r["type"].endswith("ConfigAssociation"))
    assert config["inputs"]["sensitiveVars"] == {"SECRET_KEY_BASE": "[secret]"}
    assert config["parent"] == "sc-mvp-production"
    assert doc["secretsToSet"] == ["heroku:apiKey"]
    assert "<<secret" not in out


def test_plan_table_groups_by_component_and_lists_secrets_to_set() -> None:
    code, out, _ = run("plan", "--config-file", str(ROOT / "examples" / "Pulumi.paving-scheduling.yaml"))
    assert code == 0
    assert "launchplan:heroku:App paving-scheduling" in out
    assert "pulumi config set --secret --stack paving-scheduling launchplan:twilioAuthToken" in out
    assert "[secret]" in out and "<<secret" not in out


def test_secure_values_are_never_decrypted(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.qa.yaml"
    doc = yaml.safe_load((ROOT / "Pulumi.production.yaml").read_text())
    doc["config"]["heroku:apiKey"] = {"secure": "v1:AAAABBBBCCCC:ciphertext-never-shown"}
    stack.write_text(yaml.safe_dump(doc))
    code, out, _ = run("plan", "--config-file", str(stack), "--json")
    assert code == 0
    assert json.loads(out)["secretsToSet"] == []
    assert "ciphertext-never-shown" not in out


def test_diff_between_staging_and_production() -> None:
    code, out, _ = run("plan", "staging", "--diff", "production", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["paired"] == {"sc-mvp-production": "sc-mvp-staging"}
    changes = {(c["type"], c["name"]): c for c in result["differences"]}
    addon = changes[("heroku:addon/addon:Addon", "sc-mvp-staging-postgres / sc-mvp-production-postgres")]
    assert addon["inputs"]["plan"] == {"staging": "heroku-postgresql:essential-0", "production": "heroku-postgresql:standard-0"}
    assert addon["inputs"]["(protect)"] == {"staging": False, "production": True}
    assert changes[("pulumi-python:dynamic/heroku:BackupSchedule", "sc-mvp-production-backups")]["only_in"] == "production"
    config = changes[("heroku:app/configAssociation:ConfigAssociation", "sc-mvp-staging-config / sc-mvp-production-config")]
    assert set(config["inputs"]) == {"vars"}  # sensitiveVars: both have SECRET_KEY_BASE, compared by presence only
    # Same shape, same inputs: the app itself and its formation do not show up.
    assert not any(c["type"] == "heroku:formation/formation:Formation" for c in result["differences"])


def test_diff_of_a_stack_with_itself_is_empty() -> None:
    code, out, _ = run("plan", "production", "--diff", "production")
    assert code == 0 and "No differences" in out


def test_invalid_spec_exits_non_zero_with_messages(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text(
        "config:\n  launchplan:heroku:\n    apps:\n      sc-app:\n        postgres: {plan: standard-0, backups: {hour: 26, timezone: UTC}}\n"
    )
    code, out, err = run("plan", "--config-file", str(bad))
    assert code == 2 and out == ""
    assert "[stack broken] launchplan:heroku.apps.sc-app.postgres.backups.hour: hour 26 is outside 0-23" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "prodution"], "no stack 'prodution'"),
        (["plan"], "name a stack"),
        (["plan", "--config-file", "/nonexistent/Pulumi.x.yaml"], "does not exist"),
    ],
)
def test_bad_arguments_are_clear_errors(args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err


def test_schema_describes_and_accepts_every_stack_file() -> None:
    code, out, _ = run("schema")
    assert code == 0
    schema = json.loads(out)
    for path in [*STACK_FILES, SANDBOX_FILE]:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    broken = {"config": {"launchplan:heroku": {"apps": {"x-app": {"regoin": "us"}}}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_installed_command_renders_an_example_offline() -> None:
    exe = shutil.which("launchplan", path=str(Path(sys.executable).parent))
    assert exe, "setup installs .venv/bin/launchplan"
    proc = subprocess.run(
        [exe, "plan", "--config-file", str(EXAMPLES[0]), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["resources"]
