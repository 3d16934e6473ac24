"""A stack's raw configuration, read either from the running Pulumi program or
straight from a `Pulumi.<stack>.yaml` file (for the offline plan).

Both sources produce the same shape the engine hands a program: every value a
string (structured values JSON-encoded) plus the set of keys that are secret.
Secure values read from a file are never decrypted: they stay `[secret]`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.spec.engine_yaml import EngineYamlError, Verbatim, engine_string, load_document
from infra.spec.problems import Problem, SpecError, did_you_mean
from infra.spec.secrecy import secret_value

SECRET_PLACEHOLDER = "[secret]"
_MARK = "<<secret:"


def secret_placeholder(name: str) -> str:
    """Stands in for a secret that is never decrypted; shown to people as [secret]."""
    return f"{_MARK}{name}>>"


def contains_placeholder(text: str) -> bool:
    return _MARK in text


@dataclass(frozen=True)
class StackConfig:
    stack: str
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    source: str = "pulumi"

    def namespace(self, ns: str) -> dict[str, str]:
        prefix = f"{ns}:"
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}

    def is_set(self, key: str) -> bool:
        return key in self.values

    def is_secret(self, key: str) -> bool:
        return key in self.secret_keys

    @classmethod
    def from_runtime(cls, stack: str) -> StackConfig:
        """The config the engine passed to this program run."""
        from pulumi.runtime import config as rc

        values: dict[str, str] = {**rc.get_config_env(), **rc.CONFIG.get()}
        secret = set(rc.get_config_secret_keys_env()) | set(rc._SECRET_KEYS.get())
        return cls(stack, {k: _as_engine_string(v) for k, v in values.items()}, frozenset(secret))

    @classmethod
    def from_file(cls, path: Path, stack: str | None = None, project: str | None = None) -> StackConfig:
        """Read a stack file without the CLI, exactly as the engine reads it (engine_yaml); secure
        values become placeholders. Raises StackFileError (a SpecError and a ValueError) for a file
        the engine would refuse, or one whose settings it would silently ignore."""
        stack = stack or stack_name_from_path(path)
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise StackFileError(stack, path, [Problem("the file", "is not UTF-8 text", "save it as UTF-8")]) from None
        project = project or project_name(path)
        try:
            doc, lines = load_document(text)
        except EngineYamlError as exc:
            raise StackFileError(stack, path, [_file_problem(exc, project)]) from None
        values, secret, problems = read_config(doc, lines, project)
        if problems:
            raise StackFileError(stack, path, problems)
        return cls(stack, values, frozenset(secret), source=str(path))


class StackFileError(SpecError, ValueError):
    """A stack file the engine would refuse or misread: each problem names its key path or line."""

    def __init__(self, stack: str, path: Path, problems: list[Problem]):
        super().__init__(stack, problems, source=str(path))


# The keys of a stack file (pulumi's workspace.ProjectStack); Pulumi silently ignores any other.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptionsalt", "encryptedkey", "environment")
NAMESPACE = "launchplan"


def _file_problem(exc: EngineYamlError, project: str) -> Problem:
    where = exc.where
    if where.startswith("config."):  # a key path under config: named as Pulumi names the key
        where = where.removeprefix("config.")
        key = where.split(".", 1)[0]
        where = where if ":" in key else f"{project}:{where}"
    at = f" (line {exc.line})" if exc.line else ""
    return Problem(where, f"{exc.message}{at}", exc.fix)


def project_name(path: Path) -> str:
    """The project's name (Pulumi.yaml beside the stack file or above it): Pulumi puts
    unnamespaced config keys in that namespace."""
    for folder in (path.resolve().parent, *path.resolve().parent.parents):
        for name in ("Pulumi.yaml", "Pulumi.yml"):
            candidate = folder / name
            if candidate.is_file():
                try:
                    doc, _ = load_document(candidate.read_text())
                except (EngineYamlError, OSError, UnicodeDecodeError):
                    return NAMESPACE
                found = doc.get("name") if isinstance(doc, dict) else None
                return found if isinstance(found, str) and found else NAMESPACE
    return NAMESPACE


def parse_config_key(raw: str, project: str) -> str | None:
    """pulumi's config.ParseKey (plus the project namespace for a bare key): `ns:name`, the old
    `ns:config:name`, or None when the engine cannot parse it."""
    parts = raw.split(":")
    if len(parts) == 1:
        return f"{project}:{raw}"
    if len(parts) == 2:
        return raw
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    return None


def read_config(doc: Any, lines: dict[str, int], project: str) -> tuple[dict[str, str], set[str], list[Problem]]:
    """The engine's view of a parsed stack file: every key namespaced, every value a string."""
    if doc is None:
        return {}, set(), []
    if not isinstance(doc, dict):
        fix = "start the file with `config:` and indent the stack's keys under it"
        return {}, set(), [Problem("the file", "expected a mapping with a 'config:' key", fix)]
    problems = [_ignored_key_problem(key, lines) for key in doc if key not in STACK_FILE_KEYS]
    raw = doc.get("config")
    if raw is None:
        return {}, set(), problems
    if not isinstance(raw, dict):
        fix = "indent `key: value` lines under `config:`, e.g. `  launchplan:heroku:`"
        return {}, set(), [*problems, Problem("config", "'config:' must be a mapping of keys to values", fix)]
    values, secret, config_problems = _config_values(raw, project)
    return values, secret, problems + config_problems


def _ignored_key_problem(key: str, lines: dict[str, int]) -> Problem:
    """A top-level key Pulumi ignores: a pasted credential, a setting outside `config:`, or a stray key."""
    at = f" (line {lines[key]})" if key in lines else ""
    if secret_value(key) is not None:  # a credential pasted as a key: locate it by its line only
        return Problem(
            f"line {lines.get(key, 1)}, column 1",
            "a top-level key looks like a credential (not shown): Pulumi ignores it",
            "remove it from the file; credentials are set with `pulumi config set --secret`",
        )
    if ":" in key or key in ("sandbox", "protectDatabases", "heroku", "vercel", "webhooks", "endpoints"):
        return Problem(
            key,
            f"is outside `config:`{at}: Pulumi ignores it there, so the stack would be deployed without it",
            "indent it under a `config:` line (every stack setting lives under `config:`)",
        )
    return Problem(
        key,
        f"is not a stack file key{at}: Pulumi ignores it",
        f"{did_you_mean(key, STACK_FILE_KEYS)}a stack file holds only {', '.join(STACK_FILE_KEYS)}",
    )


def _config_values(raw: dict[Any, Any], project: str) -> tuple[dict[str, str], set[str], list[Problem]]:
    """`config:`'s entries as the engine holds them (namespaced key -> string, secret keys masked),
    refusing a key it cannot parse or one set twice."""
    values: dict[str, str] = {}
    secret: set[str] = set()
    problems: list[Problem] = []
    origin: dict[str, str] = {}  # namespaced key -> the key as written
    for written, value in raw.items():
        key = parse_config_key(written, project)
        if key is None:
            problems.append(
                Problem(
                    written,
                    "is not a configuration key Pulumi can parse (keys are `<namespace>:<name>`)",
                    f"write it as {project}:<name>, or a provider's key such as heroku:apiKey",
                )
            )
            continue
        if key in origin:
            problems.append(
                Problem(
                    key,
                    f"is set twice, as `{origin[key]}` and as `{written}` (Pulumi reads a key without a namespace "
                    f"as `{project}:…`), and one would silently win",
                    f"keep one of them, written as `{key}`",
                )
            )
            continue
        origin[key] = written
        if _contains_secure(value):
            secret.add(key)
            value = _mask_secure(value, key)
        values[key] = engine_string(value)
    return values, secret, problems


def stack_name_from_path(path: Path) -> str:
    name = path.name
    stack = name[len("Pulumi.") :].rsplit(".", 1)[0] if name.startswith("Pulumi.") else ""
    # Pulumi.yaml is the project file, not a stack: a stack file names its stack between the dots.
    if not (name.endswith((".yaml", ".yml")) and stack and name.count(".") >= 2):
        raise ValueError(f"{path}: a stack file is named Pulumi.<stack>.yaml; pass --stack NAME instead.")
    return stack


def _as_engine_string(value: Any) -> str:
    """Mirror the engine: scalars as text, objects and lists as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _is_secure(value: Any) -> bool:
    """pulumi's isSecureValue: a mapping whose one key is `secure`, holding text."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return _is_secure(value) or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _mask_secure(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if _is_secure(value):
            return Verbatim(secret_placeholder(key))
        return {k: _mask_secure(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v, key) for v in value]
    return value
