"""A stack's raw config read from a `Pulumi.<stack>.yaml` file: the engine's shape (every
value a string, secret keys listed), secure values never decrypted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.spec.stack_config import StackConfig, contains_placeholder, secret_placeholder, stack_name_from_path

CIPHERTEXT = "v1:AAAABBBB:ciphertext-never-decrypted"


def stack_file(tmp_path: Path, text: str, name: str = "Pulumi.qa.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_secure_values_become_placeholders_and_are_marked_secret(tmp_path: Path) -> None:
    path = stack_file(tmp_path, f"config:\n  heroku:apiKey:\n    secure: {CIPHERTEXT}\n  heroku:url: https://api.heroku.com\n")
    config = StackConfig.from_file(path)
    assert config.stack == "qa"
    assert config.source == str(path)
    assert config.values["heroku:apiKey"] == secret_placeholder("heroku:apiKey")
    assert config.secret_keys == frozenset({"heroku:apiKey"})
    assert config.values["heroku:url"] == "https://api.heroku.com"
    assert CIPHERTEXT not in repr(config)


def test_a_secure_value_nested_in_a_structured_value_marks_the_whole_key_secret(tmp_path: Path) -> None:
    path = stack_file(
        tmp_path,
        "config:\n"
        "  launchplan:settings:\n"
        "    plain: visible\n"
        "    nested:\n"
        f"      token: {{secure: '{CIPHERTEXT}'}}\n"
        f"    listed: [one, {{secure: '{CIPHERTEXT}'}}]\n",
    )
    config = StackConfig.from_file(path)
    assert config.is_secret("launchplan:settings")
    text = config.values["launchplan:settings"]
    assert CIPHERTEXT not in text and contains_placeholder(text)
    placeholder = secret_placeholder("launchplan:settings")
    assert json.loads(text) == {"plain": "visible", "nested": {"token": placeholder}, "listed": ["one", placeholder]}


def test_a_mapping_with_secure_beside_other_keys_is_plain_data(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "config:\n  launchplan:thing:\n    secure: not-a-ciphertext\n    other: 1\n")
    config = StackConfig.from_file(path)
    assert not config.is_secret("launchplan:thing")
    assert json.loads(config.values["launchplan:thing"]) == {"secure": "not-a-ciphertext", "other": 1}


@pytest.mark.parametrize(
    ("yaml_value", "engine_string"),
    [
        ("true", "true"),
        ("false", "false"),
        ("30", "30"),
        ("1.5", "1.5"),
        ("'30'", "30"),
        ("text with spaces", "text with spaces"),
        # The engine's exact text: Go's encoding/json, compact with keys sorted (checked against the
        # real engine in tests/integration/test_config_scalars.py).
        ("{b: 1, a: [x, true]}", '{"a":["x",true],"b":1}'),
        ("[1, two]", '[1,"two"]'),
    ],
)
def test_scalars_mirror_the_engines_string_form(tmp_path: Path, yaml_value: str, engine_string: str) -> None:
    config = StackConfig.from_file(stack_file(tmp_path, f"config:\n  launchplan:key: {yaml_value}\n"))
    assert config.values == {"launchplan:key": engine_string}
    assert config.secret_keys == frozenset()


def test_namespace_strips_the_prefix_and_keeps_only_that_namespace() -> None:
    config = StackConfig(
        "qa", {"launchplan:heroku": "{}", "launchplan:sandbox": "true", "heroku:apiKey": "x", "launchplanx:other": "y"}
    )
    assert config.namespace("launchplan") == {"heroku": "{}", "sandbox": "true"}
    assert config.namespace("heroku") == {"apiKey": "x"}
    assert config.namespace("vercel") == {}


def test_is_set_and_is_secret_are_independent() -> None:
    config = StackConfig("qa", {"a:plain": "1", "a:secret": secret_placeholder("a:secret")}, frozenset({"a:secret"}))
    assert config.is_set("a:plain") and not config.is_secret("a:plain")
    assert config.is_set("a:secret") and config.is_secret("a:secret")
    assert not config.is_set("a:missing") and not config.is_secret("a:missing")


def test_an_explicit_stack_name_wins_over_the_file_name(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "config: {}\n", name="copy-of-production.yaml")
    assert StackConfig.from_file(path, "production").stack == "production"


@pytest.mark.parametrize("text", ["", "config:\n", "# only a comment\n"])
def test_an_empty_file_or_config_is_an_empty_config(tmp_path: Path, text: str) -> None:
    config = StackConfig.from_file(stack_file(tmp_path, text))
    assert config.values == {} and config.secret_keys == frozenset()


@pytest.mark.parametrize(
    ("name", "stack"),
    [
        ("Pulumi.staging.yaml", "staging"),
        ("Pulumi.production.yml", "production"),
        ("Pulumi.prod-eu.yaml", "prod-eu"),
        ("Pulumi.team.qa.yaml", "team.qa"),
    ],
)
def test_stack_name_from_path(name: str, stack: str) -> None:
    assert stack_name_from_path(Path("/some/project") / name) == stack


@pytest.mark.parametrize("name", ["staging.yaml", "Pulumi.staging.json", "pulumi.staging.yaml", "Pulumi.staging"])
def test_a_file_not_named_like_a_stack_file_names_the_fix(name: str) -> None:
    with pytest.raises(ValueError, match=r"Pulumi\.<stack>\.yaml; pass --stack NAME instead") as info:
        stack_name_from_path(Path(name))
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["Pulumi.yaml", "Pulumi..yaml"])
def test_the_project_file_and_an_empty_stack_name_are_not_stack_files(name: str) -> None:
    with pytest.raises(ValueError):
        stack_name_from_path(Path(name))


def test_a_file_without_a_stack_name_needs_one_given(tmp_path: Path) -> None:
    path = stack_file(tmp_path, "config: {}\n", name="stack.yaml")
    with pytest.raises(ValueError, match="pass --stack NAME"):
        StackConfig.from_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config: [unclosed\n", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping with a 'config:' key"),
        ("just text\n", "expected a mapping with a 'config:' key"),
        ("config:\n  - a\n", "'config:' must be a mapping of keys to values"),
        ("config: text\n", "'config:' must be a mapping of keys to values"),
    ],
)
def test_malformed_files_are_clear_errors_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = stack_file(tmp_path, text)
    with pytest.raises(ValueError) as info:
        StackConfig.from_file(path)
    assert message in str(info.value) and str(path) in str(info.value)
