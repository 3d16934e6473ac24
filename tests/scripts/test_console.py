"""What every command shares: `fail` prints one escaped line to stderr and exits with its code."""

from __future__ import annotations

import pytest
import typer

from scripts.console import EXIT_BLOCKED, EXIT_DRIFT, EXIT_INVALID, fail


def test_fail_prints_to_stderr_and_exits_with_the_invalid_code_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info:
        fail("no stack 'stagin'")
    assert info.value.exit_code == EXIT_INVALID == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: no stack 'stagin'\n"


@pytest.mark.parametrize("code", [EXIT_BLOCKED, EXIT_DRIFT, 7])
def test_fail_exits_with_the_code_given(code: int, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as info:
        fail("stopped", code)
    assert info.value.exit_code == code
    assert "stopped" in capsys.readouterr().err


def test_the_exit_codes_are_distinct() -> None:
    assert len({EXIT_BLOCKED, EXIT_INVALID, EXIT_DRIFT}) == 3 and 0 not in {EXIT_BLOCKED, EXIT_INVALID, EXIT_DRIFT}


def test_rich_markup_in_the_message_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    message = "key [bold]x[/bold] in launchplan:vercel.projects.web.env[0].fromConfig is [secret]"
    with pytest.raises(typer.Exit):
        fail(message)
    assert capsys.readouterr().err == f"error: {message}\n"


def test_a_long_message_is_not_wrapped(capsys: pytest.CaptureFixture[str]) -> None:
    message = "pulumi config set --secret --stack production " + "launchplan:" + "x" * 300
    with pytest.raises(typer.Exit):
        fail(message)
    assert capsys.readouterr().err == f"error: {message}\n"


def test_every_message_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    token = "gh" + "p_" + "Zq8rT2mW9xKc4LbN7vYh1DfGj3PsQa6EuR0o"
    with pytest.raises(typer.Exit):
        fail(f"the API refused postgres://app:pw-never-shown@db.example.com and {token}")
    text = capsys.readouterr().err
    assert "pw-never-shown" not in text and token not in text and text.count("[hidden]") == 2


def test_with_json_the_error_is_also_one_json_object_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from infra.spec.problems import Problem
    from scripts.console import settings

    settings.json = True
    try:
        with pytest.raises(typer.Exit) as info:
            fail("stack refused", problems=[Problem("launchplan:heroku.apps.x.region", "bad", "use 'us' or 'eu'")])
    finally:
        settings.json = False
    captured = capsys.readouterr()
    assert info.value.exit_code == 2 and captured.err == "error: stack refused\n"
    assert json.loads(captured.out) == {
        "error": {
            "message": "stack refused",
            "exitCode": 2,
            "problems": [{"path": "launchplan:heroku.apps.x.region", "message": "bad", "fix": "use 'us' or 'eu'"}],
        }
    }
