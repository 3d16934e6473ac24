"""The shared rendering: values as YAML, wrapping that never cuts, Pulumi's diff markers."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from scripts.output import (
    ABSENT,
    Printer,
    YamlLine,
    diff_lines,
    field_lines,
    inline,
    mark_of,
    scalar,
    shorten_pair,
    simplify_type,
    wrap,
    yaml_lines,
)
from tests.support.golden import assert_readable, printed


def text_of(lines: list[YamlLine]) -> list[str]:
    return [" " * y.indent + y.head + (f" {y.value}" if y.value is not None else "") for y in lines]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("en_US.UTF-8", "en_US.UTF-8"),
        ("", '""'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (2.0, "2"),
        (2.5, "2.5"),
        (128, "128"),
        ({}, "{}"),
        ([], "[]"),
    ],
)
def test_scalars_are_shown_as_yaml_writes_them(value: object, shown: str) -> None:
    assert scalar(value) == shown


def test_maps_and_lists_are_yaml_blocks_never_python_reprs() -> None:
    value = {"name": "web", "targets": ["production", "preview"], "grants": [{"schema": "reporting", "privileges": ["SELECT"]}]}
    assert text_of(field_lines("inputs", value)) == [
        "inputs:",
        "  name: web",
        "  targets:",
        "    - production",
        "    - preview",
        "  grants:",
        "    - schema: reporting",
        "      privileges:",
        "        - SELECT",
    ]
    assert text_of(yaml_lines("plain")) == [" plain"]
    assert inline({"a": [1, True], "b": None}) == "{a: [1, true], b: null}"


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("heroku:app/configAssociation:ConfigAssociation", "heroku:app:ConfigAssociation"),
        ("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable", "vercel:index:ProjectEnvironmentVariable"),
        ("heroku:addon/addon:Addon", "heroku:addon:Addon"),
        ("pulumi-python:dynamic/heroku:BackupSchedule", "pulumi-python:dynamic/heroku:BackupSchedule"),
        ("launchplan:heroku:App", "launchplan:heroku:App"),
        ("pulumi:providers:postgresql", "pulumi:providers:postgresql"),
    ],
)
def test_type_tokens_are_simplified_as_pulumi_displays_them(token: str, shown: str) -> None:
    assert simplify_type(token) == shown


def test_step_ops_have_pulumis_markers() -> None:
    assert [mark_of(op) for op in ("create", "delete", "update", "replace", "same")] == ["+", "-", "~", "+-", " "]


def test_diff_of_env_vars_is_key_by_key() -> None:
    staging = {"LANG": "en_US.UTF-8", "RAILS_ENV": "staging", "NODE_ENV": "production"}
    production = {"RAILS_ENV": "production", "NODE_ENV": "production", "WEB_CONCURRENCY": "2"}
    lines = diff_lines("vars", staging, production)
    shown = [(d.depth, d.mark, d.line.head, d.line.old, d.line.value) for d in lines]
    assert shown == [
        (0, "~", "vars:", None, None),
        (4, "-", "LANG:", None, "en_US.UTF-8"),
        (4, "~", "RAILS_ENV:", "staging", "production"),
        (4, "+", "WEB_CONCURRENCY:", None, "2"),
    ]


def test_diff_of_equal_values_and_of_secrets_present_on_both_sides_is_empty() -> None:
    assert diff_lines("plan", "standard-0", "standard-0") == []
    assert diff_lines("sensitiveVars", {"SECRET_KEY_BASE": "[secret]"}, {"SECRET_KEY_BASE": "[secret]"}) == []
    assert diff_lines("x", None, ABSENT) == []


def test_diff_of_lists_names_added_and_removed_items() -> None:
    lines = diff_lines("targets", ["production"], ["production", "preview"])
    assert [(d.mark, d.line.head, d.line.value) for d in lines] == [("~", "targets:", None), ("+", "-", "preview")]
    reordered = diff_lines("events", ["a", "b"], ["b", "a"])
    assert [(d.mark, d.line.head, d.line.old, d.line.value) for d in reordered] == [("~", "events:", "[a, b]", "[b, a]")]


def test_a_key_on_one_side_only_keeps_its_whole_block_marked() -> None:
    lines = diff_lines("backups", ABSENT, {"hour": 2, "timezone": "America/Los_Angeles"})
    assert {d.mark for d in lines} == {"+"}
    assert text_of([d.line for d in lines]) == ["backups:", "  hour: 2", "  timezone: America/Los_Angeles"]


def test_shortening_keeps_the_differing_part_visible() -> None:
    base = "https://hooks.example.com/" + "x" * 300
    a, b = shorten_pair(base + "/alpha/end", base + "/omega/end", 60)
    assert "alpha" in a and "omega" in b
    assert len(a) <= 80 and len(b) <= 80 and a.startswith("…")
    assert shorten_pair("short", "other", 60) == ("short", "other")


def test_wrap_breaks_at_spaces_and_folds_only_a_word_longer_than_a_line() -> None:
    pieces = [p.plain for p in wrap(Text("daily at 02:00 America/Los_Angeles (declared 02:00 America/Los_Angeles)"), 30, 26)]
    assert all(len(p) <= 30 for p in pieces) and " ".join(pieces).split() == (
        ["daily", "at", "02:00", "America/Los_Angeles", "(declared", "02:00", "America/Los_Angeles)"]
    )
    url = "https://rep-dashboard.vercel.app/api/operations/field-tracking/webhook"
    folded = [p.plain for p in wrap(Text(url), 40, 40)]
    assert "".join(folded) == url and all(len(p) <= 40 for p in folded)
    assert folded[0].endswith("/")  # folded after a separator, not mid-word


def test_a_value_that_does_not_fit_after_its_key_moves_to_its_own_line_whole() -> None:
    command = "pulumi config set --secret --stack production launchplan:smtpPassword"

    def show(console: Console) -> None:
        Printer(console).kv("secretEnv.SMTP_PASSWORD:", command, indent=4, mark="+")

    text = printed(show, 80)
    assert text == f"    + secretEnv.SMTP_PASSWORD:\n        {command}\n"
    assert_readable(text, 80, whole=["secretEnv.SMTP_PASSWORD", command])


def test_a_change_too_long_for_one_line_puts_the_new_value_below() -> None:
    def show(console: Console) -> None:
        Printer(console).diff(diff_lines("plan", "heroku-postgresql:essential-0", "heroku-postgresql:standard-0"), indent=8)

    assert printed(show, 80) == "        ~ plan: heroku-postgresql:essential-0 => heroku-postgresql:standard-0\n"
    assert printed(show, 60) == "        ~ plan: heroku-postgresql:essential-0\n            => heroku-postgresql:standard-0\n"


def test_markers_have_pulumis_colours() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system="standard", force_terminal=True)
    Printer(console).diff(diff_lines("vars", {"A": "1", "B": "x"}, {"B": "y", "C": "2"}))
    out = buffer.getvalue()
    assert "\x1b[31m-\x1b[0m" in out and "\x1b[32m+\x1b[0m" in out and "\x1b[33m~\x1b[0m" in out


def test_the_readability_check_fails_on_the_old_truncated_table() -> None:
    old = "│ heroku.apps.sc-mvp-pro… │ never copied            │ en_US.UTF-8              │\n"
    with pytest.raises(AssertionError):
        assert_readable(old, 80, whole=["env.LANG"])
    with pytest.raises(AssertionError):
        assert_readable("│ env │ {'LANG': 'en_US.UTF-8'} │\n", 80)
    with pytest.raises(AssertionError, match="cut or wrapped"):
        assert_readable(
            "~ plan: heroku-postgresql:essential-0 => heroku-\npostgresql:standard-0\n",
            80,
            whole=["heroku-postgresql:standard-0"],
        )
