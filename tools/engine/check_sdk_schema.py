#!/usr/bin/env python3
"""Check that a locally built provider plugin matches a Python provider SDK.

Usage: check_sdk_schema.py SCHEMA_JSON SDK_PACKAGE_DIR

SCHEMA_JSON is the output of `pulumi package get-schema <plugin binary>`;
SDK_PACKAGE_DIR is the installed SDK package (e.g. .venv/lib/python3.11/
site-packages/pulumi_random). Every resource and function token the SDK uses
must exist in the schema, and every wire name the SDK reads or writes
(`@pulumi.getter(name=...)` and plain getters) must be a property of that
resource (or function result). Exits 1 and lists the differences otherwise.

Deep mode, for plugins written for this project (launchplan's own heroku and
postgresql plugins), compares more than names:

    check_sdk_schema.py SCHEMA_JSON SDK_PACKAGE_DIR --deep TOKEN[,TOKEN...] [--provider]

For each resource token (and with --provider, the provider's configuration)
it imports the installed SDK (run it with the Python that has the SDK, e.g.
.venv/bin/python) and checks, both ways: the input and output property names,
each property's type (string/boolean/integer/number, array/map of what,
object), required inputs, outputs typed non-optional (= schema "required"),
and secretness (inputs the SDK wraps in Output.secret, outputs it lists in
additional_secret_outputs). Only the tokens named are checked. deep_check()
is importable for tests.
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
    if "--deep" in sys.argv:
        i = sys.argv.index("--deep")
        tokens = [t for t in sys.argv[i + 1].split(",") if t]
        schema = json.loads(Path(sys.argv[1]).read_text())
        problems, checked = deep_check(schema, Path(sys.argv[2]), tokens, provider="--provider" in sys.argv)
        where = f"{Path(sys.argv[2]).name} against schema {schema.get('name')} {schema.get('version')}"
        print(f"deep-checked {', '.join(checked)} of {where}")
        for p in problems:
            print("  MISMATCH", p)
        return 1 if problems else 0
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


# ------------------------------------------------------------------ deep mode ----


def _sdk_kind(annotation) -> tuple[str, object, bool]:
    """(kind, detail, optional) of an SDK annotation: kind is string, boolean,
    integer, number, array, map or object; detail the element kind (array/map)
    or the type name (object); optional whether None is allowed."""
    import collections.abc
    import typing

    import pulumi

    optional = False
    t = annotation
    if isinstance(t, str):  # a forward reference: a generated object type
        return "object", t.split(".")[-1].strip("'\""), False
    while True:
        origin = typing.get_origin(t)
        if origin is typing.Union or (hasattr(__import__("types"), "UnionType") and isinstance(t, __import__("types").UnionType)):
            args = typing.get_args(t)
            if type(None) in args:
                optional = True
            rest = [
                a
                for a in args
                if a is not type(None)
                and typing.get_origin(a) not in (collections.abc.Awaitable,)
                and not (typing.get_origin(a) is pulumi.Output or a is pulumi.Output)
            ]
            t = rest[0] if rest else args[0]
            continue
        if origin is pulumi.Output or origin is collections.abc.Awaitable:
            t = typing.get_args(t)[0]
            continue
        break
    origin = typing.get_origin(t)
    if t is str:
        return "string", None, optional
    if t is bool:
        return "boolean", None, optional
    if t is int:
        return "integer", None, optional
    if t is float:
        return "number", None, optional
    if origin in (collections.abc.Sequence, list):
        return "array", _sdk_kind(typing.get_args(t)[0])[0], optional
    if origin in (collections.abc.Mapping, dict):
        return "map", _sdk_kind(typing.get_args(t)[1])[0], optional
    if isinstance(t, str):
        return "object", t.split(".")[-1], optional
    if t is typing.Any:
        return "any", None, optional
    name = t.__forward_arg__ if isinstance(t, typing.ForwardRef) else getattr(t, "__name__", str(t))
    return "object", str(name).split(".")[-1], optional


def _schema_kind(spec: dict) -> tuple[str, object]:
    if "$ref" in spec:
        return "object", spec["$ref"].rsplit(":", 1)[-1]
    t = spec.get("type")
    if t == "array":
        return "array", _schema_kind(spec.get("items", {}))[0]
    if t == "object" and "additionalProperties" in spec:
        return "map", _schema_kind(spec["additionalProperties"])[0]
    return t or "any", None


def _same_kind(sdk: tuple, schema: tuple) -> bool:
    if sdk[0] != schema[0]:
        return False
    if sdk[0] == "object":  # SDK class FooArgs / Foo vs schema type token Foo
        return str(sdk[1]).removesuffix("Args").removesuffix("Dict") == str(schema[1])
    return sdk[1] == schema[1]


def _sdk_model(module, cls, args_cls) -> dict:
    """Inputs, outputs and secrets the SDK's generated classes declare."""
    import inspect
    import re

    from pulumi import _types

    src = inspect.getsource(module)
    py_to_wire = _types.input_type_py_to_pulumi_names(args_cls)
    hints = {k: v for k, v in args_cls.__init__.__annotations__.items() if k != "return"}
    sig = inspect.signature(args_cls.__init__)
    inputs, required = {}, set()
    for py, wire in py_to_wire.items():
        inputs[wire] = _sdk_kind(hints[py])
        param = sig.parameters.get(py)
        if param is not None and param.default is inspect.Parameter.empty:
            required.add(wire)
    secret_inputs = {
        py_to_wire[m]
        for m in re.findall(r'__props__\.__dict__\["(\w+)"\] = None if \w+ is None else pulumi\.Output\.secret', src)
        if m in py_to_wire
    }
    additional = re.search(r"additional_secret_outputs=\[([^\]]*)\]", src)
    secret_outputs = set(re.findall(r'"(\w+)"', additional.group(1))) if additional else set()
    outputs = {}
    for attr in vars(cls).values():
        fget = getattr(attr, "fget", None)
        wire = getattr(fget, "_pulumi_name", None)
        if fget is None or wire is None:
            continue
        ann = fget.__annotations__.get("return")
        if ann is None:
            continue
        outputs[wire] = _sdk_kind(ann)
    return {
        "inputs": inputs,
        "required": required,
        "secret_inputs": secret_inputs,
        "outputs": outputs,
        "secret_outputs": secret_outputs,
    }


def _compare(label: str, sdk: dict, spec: dict, problems: list, outputs_spec: dict | None, required_outputs: set | None) -> None:
    ins = spec.get("inputProperties", {})
    for wire in sorted(set(sdk["inputs"]) | set(ins)):
        if wire not in ins:
            problems.append(f"{label}: input {wire} is in the SDK, not in the schema")
            continue
        if wire not in sdk["inputs"]:
            problems.append(f"{label}: input {wire} is in the schema, not in the SDK")
            continue
        if not _same_kind(sdk["inputs"][wire], _schema_kind(ins[wire])):
            problems.append(f"{label}: input {wire}: SDK type {sdk['inputs'][wire][:2]}, schema {_schema_kind(ins[wire])}")
        sdk_secret = wire in sdk["secret_inputs"] or wire in sdk["secret_outputs"]
        if sdk_secret != bool(ins[wire].get("secret")):
            problems.append(f"{label}: input {wire}: secret in SDK={sdk_secret}, schema={bool(ins[wire].get('secret'))}")
    req = set(spec.get("requiredInputs", []))
    if req != sdk["required"]:
        problems.append(f"{label}: required inputs: SDK {sorted(sdk['required'])}, schema {sorted(req)}")
    if outputs_spec is None:
        return
    for wire in sorted(set(sdk["outputs"]) | set(outputs_spec)):
        if wire not in outputs_spec:
            problems.append(f"{label}: output {wire} is in the SDK, not in the schema")
            continue
        if wire not in sdk["outputs"]:
            problems.append(f"{label}: output {wire} is in the schema, not in the SDK")
            continue
        kind, detail, optional = sdk["outputs"][wire]
        if not _same_kind((kind, detail), _schema_kind(outputs_spec[wire])):
            problems.append(f"{label}: output {wire}: SDK type {(kind, detail)}, schema {_schema_kind(outputs_spec[wire])}")
        if required_outputs is not None and optional == (wire in required_outputs):
            problems.append(f"{label}: output {wire}: SDK optional={optional}, schema required={wire in required_outputs}")
        if wire in sdk["secret_outputs"] and not outputs_spec[wire].get("secret"):
            problems.append(f"{label}: output {wire} is secret in the SDK, not in the schema")


def deep_check(schema: dict, pkg: Path, tokens: list[str], provider: bool = False) -> tuple[list[str], list[str]]:
    """Compare the named resources (and the provider config) of an installed SDK with a schema."""
    import importlib

    sys.path.insert(0, str(pkg.parent))
    package = importlib.import_module(pkg.name)
    problems: list[str] = []
    checked: list[str] = []
    by_token = {}
    for f in sorted(pkg.rglob("*.py")):
        for token in RESOURCE_TOKEN.findall(f.read_text()):
            by_token[token] = f
    for token in tokens:
        f = by_token.get(token)
        if f is None:
            problems.append(f"{token}: no such resource in the SDK {pkg.name}")
            continue
        spec = schema.get("resources", {}).get(token)
        if spec is None:
            problems.append(f"{token}: not in the schema")
            continue
        rel = f.relative_to(pkg).with_suffix("")
        module = importlib.import_module(".".join([pkg.name, *rel.parts]))
        cls_name = token.rsplit(":", 1)[-1]
        sdk = _sdk_model(module, getattr(module, cls_name), getattr(module, cls_name + "Args"))
        _compare(token, sdk, spec, problems, spec.get("properties", {}), set(spec.get("required", [])))
        checked.append(token)
    if provider:
        module = importlib.import_module(pkg.name + ".provider")
        sdk = _sdk_model(module, module.Provider, module.ProviderArgs)
        spec = schema.get("provider", {})
        _compare("provider", sdk, spec, problems, spec.get("properties", {}), None)
        # `<pkg>:<key>` stack configuration: config/vars.py getters vs config.variables.
        cfg_src = (pkg / "config" / "vars.py").read_text() if (pkg / "config" / "vars.py").exists() else ""
        import re

        sdk_vars = set(re.findall(r"__config__\.get(?:_bool|_int|_float|_object)?\('(\w+)'\)", cfg_src))
        schema_vars = set(schema.get("config", {}).get("variables", {}))
        for v in sorted(sdk_vars ^ schema_vars):
            where = "SDK config" if v in sdk_vars else "schema config.variables"
            problems.append(f"config: {v} is only in the {where}")
        checked.append("provider")
    del package
    return problems, checked


if __name__ == "__main__":
    sys.exit(main())
