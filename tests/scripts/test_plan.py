"""`launchplan plan` and `launchplan schema` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scripts.cli import app
from scripts.plan import diff, plan_json, tidy
from scripts.render import Rendering, render
from tests.support.stacks import EXAMPLES, ROOT, SANDBOX_FILE, STACK_FILES, make_config

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


# --- plan_json, diff and tidy, called directly -----------------------------------------------------

ALL_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | ALL_FLOATS | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


def rendered(stack: str, **sections: Any) -> Rendering:
    return render(make_config(stack, **sections))


def app_spec(**extra: Any) -> dict[str, Any]:
    return {"env": {"RAILS_ENV": "production"}, "postgres": {"plan": "standard-0"}, **extra}


def test_tidy_shows_whole_floats_as_integers_and_sorts_keys() -> None:
    value = {"b": 2.0, "a": [1.0, 2.5, {"d": 3.0, "c": True}], "e": "2.0", "f": None}
    tidied = tidy(value)
    assert tidied == {"a": [1, 2.5, {"c": True, "d": 3}], "b": 2, "e": "2.0", "f": None}
    assert list(tidied) == ["a", "b", "e", "f"] and list(tidied["a"][2]) == ["c", "d"]
    assert type(tidied["b"]) is int and type(tidied["a"][1]) is float and tidied["a"][2]["c"] is True


@settings(database=None, max_examples=150, deadline=None)
@given(JSONISH)
def test_tidy_is_idempotent_and_keeps_values_equal(value: Any) -> None:
    once = tidy(value)
    assert tidy(once) == once
    assert once == value  # 2.0 == 2: only the form changes, never the value
    assert json.dumps(once) == json.dumps(tidy(once))


def test_plan_json_lists_resources_by_urn_with_tidy_inputs() -> None:
    rendering = rendered(
        "production",
        secrets=("heroku:apiKey",),
        heroku={"apps": {"web-app": app_spec(postgres={"plan": "standard-0", "roles": {"reader": {}}})}},
    )
    doc = plan_json(rendering)
    assert doc["stack"] == "production"
    urns = {(d.type, d.name): d.urn for d in rendering.resources}
    listed = [urns[(r["type"], r["name"])] for r in doc["resources"]]
    assert listed == sorted(listed) and len(listed) == len(rendering.resources)
    password = next(r for r in doc["resources"] if r["type"] == "random:index/randomPassword:RandomPassword")
    assert password["inputs"]["length"] == 32 and type(password["inputs"]["length"]) is int
    addon = next(r for r in doc["resources"] if r["type"] == "heroku:addon/addon:Addon")
    assert (addon["parent"], addon["protect"]) == ("web-app", True)
    assert doc["secretsToSet"] == []
    assert doc["outputs"]["rolePasswords"] == "[secret]" and "<<secret" not in json.dumps(doc)


def test_plan_json_lists_the_secrets_to_set_sorted() -> None:
    rendering = rendered(
        "staging",
        heroku={"apps": {"web-app": app_spec(secretEnv={"SMTP_PASSWORD": "smtpPassword", "API_KEY": "apiKey"})}},
    )
    assert plan_json(rendering)["secretsToSet"] == ["heroku:apiKey", "launchplan:apiKey", "launchplan:smtpPassword"]


def test_plan_json_is_the_same_for_every_render() -> None:
    sections = {"heroku": {"apps": {"web-app": app_spec(healthCheck={"path": "/up"})}}}
    assert json.dumps(plan_json(rendered("staging", **sections))) == json.dumps(plan_json(rendered("staging", **sections)))


def test_diff_pairs_differently_named_apps_and_reports_real_differences() -> None:
    a = rendered("staging", heroku={"apps": {"shop-staging": app_spec(env={"RAILS_ENV": "staging"})}})
    b = rendered("production", heroku={"apps": {"shop-production": app_spec(postgres={"plan": "standard-2"})}})
    result = diff(a, b)
    assert result["stacks"] == ["staging", "production"]
    assert result["paired"] == {"shop-production": "shop-staging"}
    changes = {(c["type"], c["name"]): c for c in result["differences"]}
    addon = changes[("heroku:addon/addon:Addon", "shop-staging-postgres / shop-production-postgres")]
    assert addon["inputs"] == {
        "plan": {"staging": "heroku-postgresql:standard-0", "production": "heroku-postgresql:standard-2"},
        "(protect)": {"staging": False, "production": True},
    }  # appId differs only by the paired name: not a difference
    config = changes[("heroku:app/configAssociation:ConfigAssociation", "shop-staging-config / shop-production-config")]
    assert config["inputs"] == {"vars": {"staging": {"RAILS_ENV": "staging"}, "production": {"RAILS_ENV": "production"}}}
    assert ("heroku:app/app:App", "shop-staging / shop-production") not in changes  # the app's name is the pairing


def test_diff_names_resources_present_in_one_stack_only() -> None:
    a = rendered("staging", heroku={"apps": {"web-app": app_spec()}})
    b = rendered("qa", heroku={"apps": {"web-app": app_spec(domains=["www.example.com"])}})
    result = diff(a, b)
    assert result["paired"] == {}
    assert result["differences"] == [{"type": "heroku:domain/domain:Domain", "name": "web-app-www.example.com", "only_in": "qa"}]
    assert diff(b, a)["differences"] == [
        {"type": "heroku:domain/domain:Domain", "name": "web-app-www.example.com", "only_in": "qa"}
    ]


def test_diff_compares_secrets_by_presence_only() -> None:
    a = render(
        make_config(
            "staging",
            ("launchplan:smtpPassword",),
            heroku={"apps": {"web-app": app_spec(secretEnv={"SMTP_PASSWORD": "smtpPassword"})}},
        )
    )
    b = render(
        make_config(
            "qa",
            ("launchplan:mailPassword",),
            heroku={"apps": {"web-app": app_spec(secretEnv={"SMTP_PASSWORD": "mailPassword"})}},
        )
    )
    assert diff(a, b)["differences"] == []  # two different secrets: both are present, neither is shown


def test_diff_of_a_rendering_with_itself_is_empty() -> None:
    r = rendered("production", heroku={"apps": {"web-app": app_spec()}})
    assert diff(r, r) == {"stacks": ["production", "production"], "paired": {}, "differences": []}


@pytest.mark.parametrize(
    "postgres",
    [
        {"plan": "standard-0", "backups": {"hour": 2, "timezone": "UTC"}},
        {"plan": "standard-0", "extensions": ["citext"]},
    ],
)
def test_the_same_app_under_another_name_has_no_differences(postgres: dict[str, Any]) -> None:
    sections = {"protectDatabases": "false"}
    a = rendered("staging", heroku={"apps": {"shop-staging": app_spec(postgres=postgres)}}, **sections)
    b = rendered("production", heroku={"apps": {"shop-production": app_spec(postgres=postgres)}}, **sections)
    assert diff(a, b)["differences"] == []
