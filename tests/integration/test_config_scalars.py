"""Stack files are read offline exactly as the real engine reads them: for a table of tricky YAML
scalars, `StackConfig.from_file` gives the very strings the engine hands a Pulumi program (a tiny
program writes out what `pulumi preview` passed it), the offline spec equals the spec the program
validates, and the files the engine refuses are refused offline too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.spec.load import load_spec
from infra.spec.stack_config import StackConfig, StackFileError
from tests.support.engine import Workspace, project_yaml

pytestmark = pytest.mark.integration

# Writes what the engine handed this run: every config value (always a string) and the secret keys.
PROGRAM = """
import json, os
from pulumi.runtime import config as rc
with open(os.path.join(os.getcwd(), "engine-config.json"), "w") as f:
    json.dump({"config": rc.get_config_env(), "secret": rc.get_config_secret_keys_env()}, f)
"""

# (key, YAML as written in the stack file). YAML 1.1 readers (PyYAML) get most of these wrong.
SCALARS = [
    ("yes", "yes"),
    ("no", "No"),
    ("on", "on"),
    ("off", "OFF"),
    ("y", "y"),
    ("true", "True"),
    ("false", "FALSE"),
    ("sexagesimal", "3:30"),
    ("clock", "12:30:45"),
    ("date", "2024-01-01"),
    ("shortDate", "2024-1-2"),
    ("timestamp", "2001-12-14t21:59:43.10-05:00"),
    ("timestampUtc", "2024-01-01T10:00:00Z"),
    ("spacedTime", "2024-01-02 10:20:30.5"),
    ("notADate", "2024-13-01"),
    ("legacyOctal", "017"),
    ("octal", "0o17"),
    ("hex", "0x1F"),
    ("binary", "0b101"),
    ("negativeBinary", "-0b11"),
    ("underscores", "1_000"),
    ("underscoreFloat", "1_0.5"),
    ("plusSign", "+12"),
    ("notOctal", "08"),
    ("floatOne", "1.0"),
    ("exponent", "1e3"),
    ("bigExponent", "1e21"),
    ("tinyFloat", "1e-7"),
    ("micro", "0.000001"),
    ("negativeZero", "-0.0"),
    ("leadingDot", ".5"),
    ("overflowFloat", "1e400"),
    ("int64Max", "9223372036854775807"),
    ("uint64", "12345678901234567890"),
    ("beyondUint64", "123456789012345678901234"),
    ("tilde", "~"),
    ("null", "null"),
    ("empty", ""),
    ("quotedNumber", "'30'"),
    ("taggedString", "!!str 30"),
    ("taggedFloat", "!!float 3"),
    ("base64", "!!binary aGVsbG8="),
    ("appTag", "!custom text"),
    ("literalBlock", "|\n    line one\n    line two"),
    ("escapes", '"tab\\there \\u00e9 <&> \\u2028"'),
    ("list", "[yes, No, 1.50, '1.50', 0x10, ~, 2024-01-01]"),
    (
        "nested",
        "{hour: 3:30, d: 2024-01-01, f: 2.0, y: yes, o: 017, big: 12345678901234567890, exact: 9007199254740993, "
        "e: 1e-7, n: ~, s: 'a<b&c>', u: 'é', zero: -0.0, keys: {1: x, true: y, 1.5: z}}",
    ),
    ("merge", "{<<: {a: 1, b: 2}, b: 3}"),
    ("mergeAfter", "{b: 3, <<: [{a: 1}, {a: 9, c: 4}]}"),
    ("anchors", "{first: &v [1, two], again: *v}"),
]

# A launchplan stack whose valid values are all tricky scalars: the offline spec must equal the
# spec the program builds from the engine's strings.
LAUNCHPLAN_STACK = """\
config:
  launchplan:sandbox: false
  launchplan:heroku:
    apps:
      scalar-app:
        env:
          FEATURE_FLAG: yes
          MAINTENANCE_WINDOW: 3:30
          LEGACY_MODE: off
          RELEASE_CHANNEL: stable
        formation:
          web: {size: standard-1x, quantity: 0x2}
        postgres:
          plan: essential-0
          backups: {hour: 0o3, timezone: UTC}
          extensions: [uuid-ossp]
        healthCheck: {path: /healthz, expectStatus: 2_00, timeoutSeconds: 1.5e1}
"""

# Files the engine refuses: the offline reader refuses them too.
REFUSED = [
    ("duplicate key", "config:\n  launchplan:a: 1\n  launchplan:a: 2\n"),
    ("infinity", "config:\n  launchplan:inf: .inf\n"),
    ("nan nested", "config:\n  launchplan:n: {a: .nan}\n"),
    ("unparseable key", "config:\n  a:b:c: 1\n"),
    ("config is a list", "config: [a]\n"),
    ("config is text", "config: text\n"),
]


def stack_text(with_secret: bool = False) -> str:
    lines = ["config:"]
    for key, yaml_value in SCALARS:
        lines.append(f"  launchplan:{key}: {yaml_value}")
    lines.append("  unnamespaced: plain")  # Pulumi reads it as launchplan:unnamespaced
    lines.append("  other:config:legacy: 1")  # the old `ns:config:name` form
    if with_secret:  # the engine would decrypt it, so it is checked offline only
        lines.append("  other:secret:\n    secure: v1:AAAA:not-decrypted-offline")
    return "\n".join(lines) + "\n"


def engine_view(tmp_path: Path, text: str) -> tuple[dict[str, str], list[str]]:
    ws = Workspace(tmp_path, {"Pulumi.yaml": project_yaml("launchplan"), "__main__.py": PROGRAM})
    ws.pulumi("stack", "init", "scalars")
    (ws.dir / "Pulumi.scalars.yaml").write_text(text)
    ws.pulumi("preview", "--non-interactive")
    seen = json.loads((ws.dir / "engine-config.json").read_text())
    return seen["config"], seen["secret"]


def test_every_tricky_scalar_reads_as_the_engine_hands_it_to_the_program(tmp_path: Path) -> None:
    engine, _ = engine_view(tmp_path / "engine", stack_text())
    path = tmp_path / "Pulumi.scalars.yaml"
    path.write_text(stack_text())
    offline = StackConfig.from_file(path, "scalars", project="launchplan").values
    mismatched = {k: (offline.get(k), v) for k, v in engine.items() if offline.get(k) != v}
    assert not mismatched, f"offline vs engine: {mismatched}"
    assert set(offline) == set(engine)
    assert engine["launchplan:yes"] == "yes" and engine["launchplan:sexagesimal"] == "3:30"  # YAML 1.2, not 1.1
    assert engine["launchplan:date"] == "2024-01-01 00:00:00 +0000 UTC"  # Go's time.Time.String()
    assert engine["launchplan:unnamespaced"] == "plain" and engine["other:legacy"] == "1"


def test_secure_values_are_secret_and_never_decrypted_offline(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.scalars.yaml"
    path.write_text(stack_text(with_secret=True))
    config = StackConfig.from_file(path, "scalars", project="launchplan")
    assert config.is_secret("other:secret")
    assert "not-decrypted-offline" not in repr(config.values)


def test_the_offline_spec_equals_the_spec_the_program_validates(tmp_path: Path) -> None:
    engine, secret = engine_view(tmp_path / "engine", LAUNCHPLAN_STACK)
    path = tmp_path / "Pulumi.scalars.yaml"
    path.write_text(LAUNCHPLAN_STACK)
    offline = StackConfig.from_file(path, "scalars", project="launchplan")
    in_program = StackConfig("scalars", engine, frozenset(secret))
    spec = load_spec(offline, require_secrets=False)
    assert spec == load_spec(in_program, require_secrets=False)
    app = spec.heroku.apps["scalar-app"]
    assert app.env == {"FEATURE_FLAG": "yes", "MAINTENANCE_WINDOW": "3:30", "LEGACY_MODE": "off", "RELEASE_CHANNEL": "stable"}
    assert app.formation["web"].quantity == 2
    assert app.postgres is not None and app.postgres.backups is not None and app.postgres.backups.hour == 3
    assert app.postgres.extensions == ["uuid-ossp"]


@pytest.mark.parametrize(("case", "text"), REFUSED, ids=[c[0] for c in REFUSED])
def test_files_the_engine_refuses_are_refused_offline(tmp_path: Path, case: str, text: str) -> None:
    ws = Workspace(tmp_path / "engine", {"Pulumi.yaml": project_yaml("launchplan"), "__main__.py": PROGRAM})
    (ws.dir / "Pulumi.scalars.yaml").write_text(text)
    refused = ws.pulumi("stack", "init", "scalars", check=False)
    if refused.returncode == 0:
        refused = ws.pulumi("preview", "--non-interactive", check=False)
    assert refused.returncode != 0, f"the engine accepted {case}"
    path = tmp_path / "Pulumi.scalars.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError):
        StackConfig.from_file(path, "scalars", project="launchplan")
