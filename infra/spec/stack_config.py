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

import yaml

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
    def from_file(cls, path: Path, stack: str | None = None) -> StackConfig:
        """Read a stack file without the CLI; secure values become placeholders."""
        stack = stack or stack_name_from_path(path)
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc}). Fix the file's syntax.") from None
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: expected a mapping with a 'config:' key.")
        raw = doc.get("config") or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: 'config:' must be a mapping of keys to values.")
        values: dict[str, str] = {}
        secret: set[str] = set()
        for key, value in raw.items():
            if _contains_secure(value):
                secret.add(key)
                value = _mask_secure(value, key)
            values[key] = _as_engine_string(value)
        return cls(stack, values, frozenset(secret), source=str(path))


def stack_name_from_path(path: Path) -> str:
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))):
        raise ValueError(f"{path}: a stack file is named Pulumi.<stack>.yaml; pass --stack NAME instead.")
    return name[len("Pulumi.") :].rsplit(".", 1)[0]


def _as_engine_string(value: Any) -> str:
    """Mirror the engine: scalars as text, objects and lists as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _contains_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _mask_secure(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return secret_placeholder(key)
        return {k: _mask_secure(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v, key) for v in value]
    return value
