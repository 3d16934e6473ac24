"""The operator command's conventions: `--stack/-s` like `pulumi`, `--version`, help without type
noise, errors as JSON with `--json`, and no traceback for any failure (exit 2 for bad input, 4 for
a launchplan bug, with the traceback only under `--debug`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scripts.plan
import scripts.pulumi_cli
import scripts.stacks
from scripts.cli import app
from tests.support.stacks import ROOT

runner = CliRunner()
TOKEN = "gh" + "p_" + "Zq8rT2mW9xKc4LbN7vYh1DfGj3PsQa6EuR0o"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, name: str = "Pulumi.qa.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_version_names_launchplan_and_the_pulumi_sdk() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("launchplan ") and "Pulumi SDK 3.259.0" in out


@pytest.mark.parametrize("args", [["--help"], ["plan", "--help"], ["gate", "--help"], ["sandbox", "up", "--help"]])
def test_help_has_no_type_noise_beside_flags(args: list[str]) -> None:
    code, out, _ = run(*args)
    assert code == 0 and "Usage:" in out
    assert "<bool>" not in out


@pytest.mark.parametrize("command", ["plan", "gate", "verify", "drift"])
def test_every_stack_command_takes_dash_s_and_double_dash_stack(command: str) -> None:
    _, out, _ = run(command, "--help")
    assert "-s, --stack" in out


def test_stack_option_and_positional_render_the_same_plan() -> None:
    positional = run("plan", "production", "--json")
    short = run("plan", "-s", "production", "--json")
    long = run("plan", "--stack", "production", "--json")
    assert positional[0] == short[0] == long[0] == 0
    assert json.loads(positional[1]) == json.loads(short[1]) == json.loads(long[1])


def test_a_stack_named_twice_differently_is_refused() -> None:
    code, _, err = run("plan", "staging", "--stack", "production")
    assert code == 2 and "named twice" in err


def test_clone_takes_stack_and_dest_like_pulumi_config_cp() -> None:
    code, _, err = run("clone", "--stack", "staging")
    assert code == 2 and "--stack SOURCE --dest DESTINATION" in err
    code, _, err = run("clone", "staging", "staging")
    assert code == 2 and "two different stacks" in err


def test_with_json_a_refused_stack_is_a_json_error_naming_each_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"config:\n  launchplan:heroku:\n    apps:\n      sc-app:\n        env: {{GH_USER: {TOKEN}}}\n"
        "        postgres: {plan: standard-0, backups: {hour: 26, timezone: UTC}}\n",
    )
    code, out, err = run("plan", "--config-file", str(path), "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["exitCode"] == 2
    paths = {p["path"] for p in error["problems"]}
    assert {"launchplan:heroku.apps.sc-app.env.GH_USER", "launchplan:heroku.apps.sc-app.postgres.backups.hour"} <= paths
    assert all(p["fix"] for p in error["problems"])
    assert TOKEN not in out + err


def test_a_provider_credential_reused_by_an_app_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "config:\n  launchplan:heroku:\n    apps:\n      sc-app:\n        secretEnv: {CALENDLY_TOKEN: calendlyToken, VT: 'vercel:apiToken'}\n",
    )
    code, _, err = run("plan", "--config-file", str(path))
    assert code == 2
    assert "secretEnv.CALENDLY_TOKEN: reads launchplan:calendlyToken, the credential launchplan itself deploys with" in err
    assert "launchplan:appCalendlyToken" in err and "write secretEnv: {CALENDLY_TOKEN: appCalendlyToken}" in err


def test_an_unquoted_date_is_a_clear_error_in_plan(tmp_path: Path) -> None:
    path = write(tmp_path, "config:\n  launchplan:heroku:\n    apps:\n      sc-app:\n        env: {LAUNCH_DAY: 2024-05-01}\n")
    code, out, err = run("plan", "--config-file", str(path), "--json")
    assert code == 2 and "Traceback" not in err
    assert "quote it" in json.loads(out)["error"]["problems"][0]["fix"]


def test_stack_file_keys_without_the_namespace_read_as_pulumi_reads_them(tmp_path: Path) -> None:
    """Pulumi puts a key without a namespace in the project's (launchplan): same resources."""
    text = (ROOT / "Pulumi.staging.yaml").read_text().replace("  launchplan:heroku:", "  heroku:")
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    path = write(tmp_path, text, "Pulumi.staging.yaml")
    _, expected, _ = run("plan", "staging", "--json")
    code, out, _ = run("plan", "--config-file", str(path), "--json")
    assert code == 0 and json.loads(out) == json.loads(expected)


def test_a_stack_file_without_config_is_refused_not_rendered_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "launchplan:heroku:\n  apps:\n    sc-app: {region: us}\n")
    code, out, err = run("plan", "--config-file", str(path))
    assert code == 2 and out == ""
    assert "launchplan:heroku: is outside `config:`" in err and "indent it under a `config:` line" in err


def test_an_unexpected_failure_is_reported_as_a_bug_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise KeyError(f"boom {TOKEN}")

    monkeypatch.setattr(scripts.plan, "load", broken)
    code, out, err = run("plan", "production", "--json")
    assert code == 4
    assert "internal error (KeyError)" in err and "bug in launchplan" in err and "--debug" in err
    assert "Traceback" not in err and TOKEN not in out + err
    assert json.loads(out)["error"]["exitCode"] == 4
    code, _, err = run("--debug", "plan", "production")
    assert code == 4 and "Traceback" in err and TOKEN not in err


@pytest.mark.parametrize("args", [["verify", "staging"], ["drift", "--stack", "staging", "--json"]])
def test_verify_and_drift_without_an_engine_are_clear_errors(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(scripts.pulumi_cli, "BIN", tmp_path / "no-engine")
    monkeypatch.setattr(scripts.stacks, "BIN", tmp_path / "no-engine")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("LAUNCHPLAN_PULUMI", raising=False)
    code, out, err = run(*args)
    assert code == 2
    assert "no pulumi CLI: run `make engine`" in err and "Traceback" not in err
    if "--json" in args:
        assert "make engine" in json.loads(out)["error"]["message"]


def test_a_pulumi_cli_that_does_not_exist_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAUNCHPLAN_PULUMI", str(tmp_path / "pulumi"))
    code, _, err = run("verify", "staging")
    assert code == 2 and "Traceback" not in err and "pulumi" in err


def test_gate_refuses_a_bad_spec_before_judging_and_never_calls_it_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    write(tmp_path, "config:\n  launchplan:heroku:\n    apps:\n      sc-app:\n        env: {LAUNCH_DAY: 2024-05-01}\n")
    preview = write(tmp_path, json.dumps({"steps": [], "diagnostics": []}), "preview.json")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("gate", "-s", "qa", "--preview-file", str(preview), "--json")
    assert code == 2 and "Traceback" not in err
    assert json.loads(out)["error"]["problems"][0]["path"] == "launchplan:heroku.apps.sc-app.env.LAUNCH_DAY"
