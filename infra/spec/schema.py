"""The JSON Schema of a stack file, for editors' YAML language servers."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from infra.spec.common import NAMESPACE
from infra.spec.load import SECTIONS


def json_schema() -> dict[str, Any]:
    """JSON Schema of a stack file's `config:` block, for editors' YAML language servers."""
    props: dict[str, Any] = {}
    defs: dict[str, Any] = {}
    for key, model in SECTIONS.items():
        if model is bool:  # Pulumi writes booleans set by `pulumi config set` as "true"/"false"
            props[f"{NAMESPACE}:{key}"] = {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}
            continue
        schema = TypeAdapter(model).json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        props[f"{NAMESPACE}:{key}"] = schema
    secure = {
        "type": "object",
        "properties": {"secure": {"type": "string"}},
        "required": ["secure"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "launchplan stack file (Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "secretsprovider": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "config": {
                "type": "object",
                "properties": props,
                # Any other key (provider settings, secrets): a scalar, a `secure:` value, or a provider's
                # structured setting (e.g. heroku:delays).
                "patternProperties": {
                    f"^(?!{NAMESPACE}:({'|'.join(SECTIONS)})$)[a-z][a-z0-9-]*:[A-Za-z][A-Za-z0-9_]*$": {
                        "anyOf": [secure, {"type": ["string", "number", "boolean", "object", "array"]}]
                    }
                },
                "additionalProperties": False,
            },
        },
        "$defs": defs,
    }
