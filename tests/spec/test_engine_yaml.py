"""Stack files read as the engine reads them (gopkg.in/yaml.v3 + Pulumi's config rules), without
the engine; tests/integration/test_config_scalars.py checks the same table against the real one."""

from __future__ import annotations

import pytest

from infra.spec.engine_yaml import EngineYamlError, dump_document, engine_string, load_data, load_document


def value_of(yaml_value: str) -> str:
    doc, _ = load_document(f"k: {yaml_value}\n")
    return engine_string(doc["k"])


@pytest.mark.parametrize(
    ("yaml_value", "engine"),
    [
        ("yes", "yes"),  # YAML 1.2: no yes/no/on/off booleans
        ("on", "on"),
        ("True", "true"),
        ("3:30", "3:30"),  # no base-60 numbers
        ("2024-01-01", "2024-01-01 00:00:00 +0000 UTC"),  # Go's time.Time.String()
        ("2001-12-14t21:59:43.10Z", "2001-12-14 21:59:43.1 +0000 UTC"),
        ("2024-02-30", "2024-02-30"),  # not a date: Go's time.Parse refuses day 30 of February
        ("017", "15"),  # yaml.v3 keeps YAML 1.1 octals
        ("0o17", "15"),
        ("0x1F", "31"),
        ("0b101", "5"),
        ("1_000", "1000"),
        ("08", "8"),
        ("1.0", "1"),
        ("1e3", "1000"),
        ("1e21", "1e+21"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("-0.0", "0"),
        ("1e400", "1e400"),  # out of range: text
        ("12345678901234567890", "12345678901234567890"),
        ("~", ""),
        ("'30'", "30"),
        ("!!str 30", "30"),
        ("!!binary aGVsbG8=", "hello"),
        ("{b: 1, a: [x, yes, 2.0]}", '{"a":["x","yes",2],"b":1}'),
        ("{s: 'a<b&c>'}", '{"s":"a\\u003cb\\u0026c\\u003e"}'),
        ("{<<: {a: 1, b: 2}, b: 3}", '{"a":1,"b":3}'),
        ("{k: {1: x, true: y}}", '{"k":{"1":"x","true":"y"}}'),
    ],
)
def test_scalars_read_as_the_engine_hands_them_over(yaml_value: str, engine: str) -> None:
    assert value_of(yaml_value) == engine


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "defined twice"),
        ("a: .inf\n", ".inf or .nan"),
        ("a: {b: [.nan]}\n", ".inf or .nan"),
        ("a: !!int text\n", "cannot be read"),
        ("a: &x [*x]\n", "contains it"),
        ("a: [unclosed\n", "not valid YAML"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: {<<: 5}\n", "merge"),
    ],
)
def test_files_the_engine_refuses_are_refused(text: str, message: str) -> None:
    with pytest.raises(EngineYamlError) as info:
        load_document(text)
    assert message in str(info.value)


def test_a_syntax_error_names_the_line_and_never_quotes_the_file() -> None:
    secret_line = "  token: 'sk_live_never_quoted\n"
    with pytest.raises(EngineYamlError) as info:
        load_document("config:\n" + secret_line)
    assert "line" in info.value.where and "never_quoted" not in str(info.value)


@pytest.mark.parametrize("text", ["0o17", "1e3", "1_000", "2024-01-01", "yes", "~", "3:30", "0x1F", "true", "<<"])
def test_written_strings_read_back_as_the_same_strings(text: str) -> None:
    doc = {"config": {"launchplan:x": text, "launchplan:nested": {"v": [text]}}}
    assert load_data(dump_document(doc)) == doc
