"""A stack as operator commands see it: found by name, run with the right `pulumi` CLI and
environment, its secrets read from `pulumi config --json --show-secrets` and held in memory."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from scripts import pulumi_cli
from scripts.stacks import Stack, StackError
from tests.support.stacks import ROOT, SANDBOX_FILE


def test_an_unknown_stack_names_the_known_ones() -> None:
    with pytest.raises(StackError) as info:
        Stack(ROOT, "stagin")
    message = str(info.value)
    assert "no stack 'stagin'" in message
    assert "production" in message and "staging" in message and "sandbox" in message


def test_a_stack_reads_its_spec_from_its_file() -> None:
    stack = Stack(ROOT, "production")
    assert stack.file == ROOT / "Pulumi.production.yaml"
    assert stack.spec.stack == "production" and "sc-mvp-production" in stack.spec.heroku.apps
    assert not stack.spec.sandbox


def sandbox_project(where: Path) -> Path:
    for name in ("Pulumi.yaml", SANDBOX_FILE.name):
        (where / name).write_text((ROOT / name).read_text())
    return where


def test_a_sandbox_stack_runs_on_its_own_backend_and_passphrase(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def not_this_one() -> tuple[str, dict[str, str]]:
        raise AssertionError("a sandbox stack never uses the operator's pulumi CLI")

    monkeypatch.setattr("scripts.stacks.pulumi_cli", not_this_one)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the-operators-own")
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://the-operators-own")
    project = sandbox_project(tmp_path)
    (project / ".sandbox" / "pulumi-state").mkdir(parents=True)  # as `sandbox up` leaves it
    stack = Stack(project, "sandbox")
    assert stack.spec.sandbox and stack.file == project / SANDBOX_FILE.name
    binary, env = stack.cli()
    assert binary == str(pulumi_cli.BIN / "pulumi")
    assert env == pulumi_cli.sandbox_env(project, stack.spec.endpoints.vercel_api, stack.spec.endpoints.heroku_api)
    assert env["PULUMI_CONFIG_PASSPHRASE"] == pulumi_cli.SANDBOX_PASSPHRASE
    assert env["PULUMI_BACKEND_URL"] == f"file://{project / '.sandbox' / 'pulumi-state'}"
    assert env["VERCEL_API_URL"] == stack.spec.endpoints.vercel_api
    assert stack.spec.endpoints.vercel_api.startswith("http://127.0.0.1:")


def test_a_sandbox_never_brought_up_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """Not the engine's "unable to open state directory": the command to run first."""
    project = sandbox_project(tmp_path)
    stack = Stack(project, "sandbox")
    assert not stack.exists()
    with pytest.raises(StackError, match=r"has not been brought up here: run `launchplan sandbox up` first"):
        stack.cli()
    assert "launchplan sandbox up" in stack.absent("repair") and "pulumi stack ls" not in stack.absent("repair")
    assert not (project / ".sandbox").exists()


def test_any_other_stack_uses_the_operators_pulumi_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = ("/opt/pulumi/bin/pulumi", {"PULUMI_BACKEND_URL": "s3://team-state"})
    monkeypatch.setattr("scripts.stacks.pulumi_cli", lambda: chosen)
    assert Stack(ROOT, "staging").cli() == chosen
    assert Stack(ROOT, "production").cli() == chosen


@pytest.fixture
def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `pulumi` that logs its arguments and answers from files, chosen by $LAUNCHPLAN_PULUMI."""
    script = tmp_path / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$PWD $*" >> "$FAKE_DIR/calls"\n'
        'if [ -f "$FAKE_DIR/fail" ]; then cat "$FAKE_DIR/fail" >&2; exit 255; fi\n'
        'cat "$FAKE_DIR/answer"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("LAUNCHPLAN_PULUMI", str(script))
    monkeypatch.setenv("FAKE_DIR", str(tmp_path))
    (tmp_path / "answer").write_text("")
    return tmp_path


def calls(fake: Path) -> list[str]:
    return (fake / "calls").read_text().splitlines()


def test_pulumi_runs_in_the_project_with_the_stack_named(fake_pulumi: Path) -> None:
    (fake_pulumi / "answer").write_text('{"url": "https://x"}')
    assert Stack(ROOT, "staging").outputs() == {"url": "https://x"}
    assert calls(fake_pulumi) == [f"{ROOT} stack output --json --stack staging"]


def test_a_failing_pulumi_is_a_stack_error_with_a_passphrase_hint(fake_pulumi: Path) -> None:
    (fake_pulumi / "fail").write_text("error: incorrect passphrase")
    with pytest.raises(StackError) as info:
        Stack(ROOT, "staging").pulumi("config", "--json")
    message = str(info.value)
    assert message.startswith("`pulumi config --json --stack staging` failed: error: incorrect passphrase")
    assert "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE" in message


def test_exists_and_resource_count(fake_pulumi: Path) -> None:
    (fake_pulumi / "answer").write_text(json.dumps([{"name": "staging"}, {"name": "other"}]))
    assert Stack(ROOT, "staging").exists()
    assert not Stack(ROOT, "production").exists()
    resources = [{"type": "pulumi:pulumi:Stack"}, {"type": "pulumi:providers:heroku"}, {"type": "heroku:app/app:App"}]
    (fake_pulumi / "answer").write_text(json.dumps({"deployment": {"resources": resources}}))
    assert Stack(ROOT, "staging").resource_count() == 1


def test_exists_is_false_when_the_cli_fails(fake_pulumi: Path) -> None:
    (fake_pulumi / "fail").write_text("no backend")
    assert not Stack(ROOT, "staging").exists()


# --- secrets ----------------------------------------------------------------------------------------


@pytest.fixture
def config_answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Stack.pulumi answering `pulumi config --json --show-secrets`; the calls are recorded."""
    asked: list[tuple[str, ...]] = []

    def pulumi(self: Stack, *args: str) -> str:
        asked.append(args)
        assert args == ("config", "--json", "--show-secrets"), args
        return json.dumps(
            {
                "heroku:apiKey": {"value": "hk-123", "secret": True},
                "launchplan:smtpPassword": {"value": "pw", "secret": True},
                "launchplan:limits": {"value": '{"a":1}', "objectValue": {"a": 1}, "secret": True},
                "launchplan:retries": {"value": 3, "secret": True},
                "launchplan:heroku": {"value": "{}", "secret": False},
                "heroku:url": {"value": "https://api.heroku.com"},
            }
        )

    monkeypatch.setattr(Stack, "pulumi", pulumi)
    return asked


def test_secrets_are_only_the_secret_values_as_text(config_answers: list[tuple[str, ...]]) -> None:
    stack = Stack(ROOT, "staging")
    assert stack.secrets() == {
        "heroku:apiKey": "hk-123",
        "launchplan:smtpPassword": "pw",
        "launchplan:limits": '{"a":1}',
        "launchplan:retries": "3",
    }
    assert stack.secret("heroku:apiKey") == "hk-123"
    assert stack.secret("heroku:url") is None and stack.secret("launchplan:heroku") is None


def test_secrets_are_read_once_per_stack(config_answers: list[tuple[str, ...]]) -> None:
    stack = Stack(ROOT, "staging")
    stack.secrets()
    stack.secret("heroku:apiKey")
    stack.secret("launchplan:smtpPassword")
    assert len(config_answers) == 1
    Stack(ROOT, "staging").secrets()
    assert len(config_answers) == 2


def test_secrets_are_not_in_the_stacks_repr(config_answers: list[tuple[str, ...]]) -> None:
    stack = Stack(ROOT, "staging")
    stack.secrets()
    assert "hk-123" not in repr(stack)


def test_a_client_needing_an_unset_secret_names_the_command(config_answers: list[tuple[str, ...]]) -> None:
    stack = Stack(ROOT, "staging")
    with stack.heroku() as heroku:  # the key is there: a client is made
        assert heroku.service == "Heroku"
    with pytest.raises(StackError) as info:
        stack.vercel()
    assert str(info.value) == (
        "stack staging has no vercel:apiToken: run `pulumi config set --secret --stack staging vercel:apiToken`"
    )
    assert "hk-123" not in str(info.value)


def test_vercel_params_name_the_team_only_when_there_is_one(tmp_path: Path) -> None:
    assert Stack(ROOT, "sandbox").vercel_params() == {}
    (tmp_path / "Pulumi.qa.yaml").write_text(
        json.dumps({"config": {"launchplan:vercel": {"team": "team_abc", "projects": {"web": {}}}}})
    )
    assert Stack(tmp_path, "qa").vercel_params() == {"teamId": "team_abc"}
