"""Property: whatever a user does to a valid stack file (wrong types, deleted and renamed keys,
secret-looking values planted anywhere, YAML oddities), `launchplan plan` either renders it (exit 0)
or refuses it (exit 2) naming a key path for every problem; it never crashes with a traceback and
never prints a planted value, in its table, its JSON or its errors."""

from __future__ import annotations

import json
import random
import re
import string
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from infra.spec.engine_yaml import dump_document, load_data
from tests.support.stacks import STACK_FILES

runner = CliRunner()
BASES = [(p.name, load_data(p.read_text())) for p in STACK_FILES]
ALNUM = string.ascii_letters + string.digits

# Credential shapes a user might paste; each planted one carries a random body that must never be printed.
SHAPES = [
    lambda body: "gh" + "p_" + body,
    lambda body: "sk" + "_live_" + body,
    lambda body: "xo" + "xb-1234-" + body,
    lambda body: f"postgres://app:{body}@db.example.com:5432/app",
    lambda body: f"redis://:{body}@cache.example.com:6379",
    lambda body: f"https://hooks.example.com/in?token={body}",
    lambda body: "HR" + "KU-" + body,
    lambda body: "ey" + "JhbGciOiJIUzI1NiJ9.ey" + "JzdWIiOiIxIn0." + body,
]
ODD_SCALARS = [
    "yes",
    "No",
    "3:30",
    "2024-01-01",
    "017",
    "0x1F",
    "1_000",
    "1e3",
    ".inf",
    ".nan",
    "~",
    "''",
    "!!binary aGk=",
    "!!int x",
    "'unterminated",
    "[a, b",
    "{x: 1}",
    "&a 1",
    "*nope",
    "@at",
    "`tick",
    "%pct",
    "- item",
    "? q",
]
ENV_NAMES = ["CACHE_URL", "PARTNER_ID", "NOTES", "SMTP_PASS", "DB_PWD", "SENTRY_DSN", "WEBHOOK_TARGET", "X"]


def secret_body(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALNUM) for _ in range(24)) + "9Zq"


def locations(value: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside the document (mapping keys and list indices)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append((*trail, k))
            found += locations(v, (*trail, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.append((*trail, i))
            found += locations(v, (*trail, i))
    return found


def parent_of(doc: Any, trail: tuple[Any, ...]) -> Any:
    for step in trail[:-1]:
        doc = doc[step]
    return doc


def typo(word: str, rnd: random.Random) -> str:
    if len(word) < 2:
        return word + "x"
    i = rnd.randrange(len(word) - 1)
    return rnd.choice([word[:i] + word[i + 1 :], word[:i] + word[i + 1] + word[i] + word[i + 2 :], word + "s", word.lower()])


def mutate(doc: dict[str, Any], rnd: random.Random, planted: list[str], steps: int) -> None:
    for _ in range(steps):
        spots = locations(doc.get("config") or {}, ("config",))
        op = rnd.choice(["retype", "delete", "rename", "plant", "plant-env", "plant-key"])
        if not spots:
            return
        trail = rnd.choice(spots)
        parent = parent_of(doc, trail)
        last = trail[-1]
        if op == "retype":
            parent[last] = rnd.choice([0, 7777, -1, 3.5, True, False, None, "", "text", [], {}, ["x"], {"k": "v"}])
        elif op == "delete":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            parent[typo(str(last), rnd)] = parent.pop(last)
        elif op == "plant":
            secret = rnd.choice(SHAPES)(secret_body(rnd))
            planted.append(secret)
            parent[last] = secret
        elif op == "plant-key" and isinstance(parent, dict):
            secret = "gh" + "p_" + secret_body(rnd)
            planted.append(secret)
            parent[secret] = parent.pop(last)
        elif op == "plant-env":
            heroku = (doc.get("config") or {}).get("launchplan:heroku")
            apps = heroku.get("apps") if isinstance(heroku, dict) else None
            if isinstance(apps, dict) and apps:
                app = apps[rnd.choice(sorted(apps))]
                if isinstance(app, dict):
                    secret = rnd.choice(SHAPES)(secret_body(rnd))
                    planted.append(secret)
                    env = app.setdefault("env", {})
                    if isinstance(env, dict):
                        env[rnd.choice(ENV_NAMES)] = secret


def oddities(text: str, rnd: random.Random, count: int) -> str:
    lines = text.splitlines()
    for _ in range(count):
        op = rnd.choice(["scalar", "unnamespace", "unwrap", "duplicate", "tab"])
        candidates = [i for i, line in enumerate(lines) if re.match(r"^\s*[^#\s-][^:]*: \S", line)]
        if op == "scalar" and candidates:
            i = rnd.choice(candidates)
            lines[i] = re.sub(r": .*$", f": {rnd.choice(ODD_SCALARS)}", lines[i], count=1)
        elif op == "unnamespace":
            lines = [line.replace("launchplan:", "", 1) if line.startswith("  launchplan:") else line for line in lines]
        elif op == "unwrap":
            lines = [line[2:] if line.startswith("  ") else line for line in lines if line.strip() != "config:"]
        elif op == "duplicate" and lines:
            i = rnd.randrange(len(lines))
            lines.insert(i, lines[i])
        elif op == "tab" and lines:
            i = rnd.randrange(len(lines))
            lines[i] = re.sub(r"^ +", "\t", lines[i])
    return "\n".join(lines) + "\n"


KEY_PATH = re.compile(r"^([A-Za-z0-9_.-]*:\S+|line \d+, column \d+|config|the file|[A-Za-z_][\w-]*)$")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(range(len(BASES))),
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(0, 4),
    odd=st.integers(0, 2),
    as_json=st.booleans(),
)
def test_plan_never_crashes_never_leaks_and_names_every_key_path(
    base: int, seed: int, steps: int, odd: int, as_json: bool
) -> None:
    rnd = random.Random(seed)
    name, original = BASES[base]
    doc = json.loads(json.dumps(original))  # a deep copy of plain data
    planted: list[str] = []
    mutate(doc, rnd, planted, steps)
    text = dump_document(doc, sort_keys=False)
    if odd:
        text = oddities(text, rnd, odd)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        args = ["plan", "--config-file", str(path), *(["--json"] if as_json else [])]
        result = runner.invoke(app_under_test(), args)
    output = result.stdout + result.stderr
    event(f"exit {result.exit_code}" + (" with a planted value" if planted else ""))
    assert result.exit_code in (0, 2), f"exit {result.exit_code}: {output}\n--- file:\n{text}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    for secret in planted:
        body = secret[-27:]  # the random part of the planted value
        assert body not in output, f"planted value printed:\n{output}\n--- file:\n{text}"
    if result.exit_code == 2:
        if as_json:
            problems = json.loads(result.stdout)["error"].get("problems", [])
            paths = [p["path"] for p in problems]
        else:
            paths = re.findall(r"^\[stack [^\]]+\] (.+?): ", result.stderr, re.MULTILINE)
        assert paths or "error:" in result.stderr, output
        for found in paths:
            assert KEY_PATH.match(found), f"not a key path: {found!r}\n{output}"
    elif as_json:
        assert json.loads(result.stdout)["resources"] is not None


def app_under_test() -> Any:
    from scripts.cli import app

    return app
