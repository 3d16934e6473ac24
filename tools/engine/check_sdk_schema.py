#!/usr/bin/env python3
"""Check that a locally built provider plugin matches a Python provider SDK.

Usage: check_sdk_schema.py SCHEMA_JSON SDK_PACKAGE_DIR

SCHEMA_JSON is the output of `pulumi package get-schema <plugin binary>`;
SDK_PACKAGE_DIR is the installed SDK package (e.g. .venv/lib/python3.11/
site-packages/pulumi_random). Every resource and function token the SDK uses
must exist in the schema, and every wire name the SDK reads or writes
(`@pulumi.getter(name=...)` and plain getters) must be a property of that
resource (or function result). Exits 1 and lists the differences otherwise.
"""

import json
import re
import sys
from pathlib import Path

RESOURCE_TOKEN = re.compile(r"super\(\w+, __self__\)\.__init__\(\s*'([^']+)'")
INVOKE_TOKEN = re.compile(r"pulumi\.runtime\.invoke(?:_output)?\('([^']+)'")
NAMED_GETTER = re.compile(r'pulumi\.getter\(name="(\w+)"\)')
PLAIN_GETTER = re.compile(r"@pulumi\.getter\n\s+def (\w+)\(")


def props_of(spec: dict) -> set:
    out = set(spec.get("properties", {})) | set(spec.get("inputProperties", {}))
    for key in ("inputs", "outputs"):
        out |= set(spec.get(key, {}).get("properties", {}))
    return out


def main() -> int:
    schema = json.loads(Path(sys.argv[1]).read_text())
    pkg = Path(sys.argv[2])
    resources = schema.get("resources", {})
    functions = schema.get("functions", {})
    problems = []
    checked = 0
    for f in sorted(pkg.rglob("*.py")):
        src = f.read_text()
        tokens = [(t, resources) for t in RESOURCE_TOKEN.findall(src)]
        tokens += [(t, functions) for t in INVOKE_TOKEN.findall(src)]
        for token, table in tokens:
            if ":" not in token:  # the provider resource itself ('random')
                continue
            checked += 1
            if token not in table:
                problems.append(f"{f.relative_to(pkg)}: token {token} not in schema")
                continue
            known = props_of(table[token])
            # Wire names used in this module (result/args classes included).
            names = set(NAMED_GETTER.findall(src)) | set(PLAIN_GETTER.findall(src))
            missing = sorted(n for n in names if n not in known and n not in _all_type_props(schema))
            if missing:
                problems.append(f"{f.relative_to(pkg)}: {token}: names not in schema: {', '.join(missing)}")
    print(f"checked {checked} tokens of {pkg.name} against schema {schema.get('name')} {schema.get('version')}")
    for p in problems:
        print("  MISMATCH", p)
    return 1 if problems else 0


_TYPE_PROPS = None


def _all_type_props(schema: dict) -> set:
    """Property names of object types (nested args/outputs live in the same file)."""
    global _TYPE_PROPS
    if _TYPE_PROPS is None:
        _TYPE_PROPS = set()
        for t in schema.get("types", {}).values():
            _TYPE_PROPS |= set(t.get("properties", {}))
    return _TYPE_PROPS


if __name__ == "__main__":
    sys.exit(main())
