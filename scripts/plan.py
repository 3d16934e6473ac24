"""`launchplan plan`: a stack's desired state, offline, as a table, JSON, or a diff between stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.text import Text

from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig
from scripts.console import fail, fail_spec, out, pick_stack
from scripts.output import ADD, CHANGE, DELETE, HANG, Printer, diff_lines, legend, simplify_type, yaml_lines
from scripts.project import find_project_root, require_stack_file
from scripts.render import SECRET, Declared, Rendering, render


def stack_config(stack: str | None, config_file: Path | None) -> StackConfig:
    if config_file is not None:
        if not config_file.is_file():
            raise ValueError(f"config file {config_file} does not exist")
        return StackConfig.from_file(config_file, stack)
    if stack is None:
        raise ValueError("name a stack (e.g. production) or pass --config-file PATH")
    return StackConfig.from_file(require_stack_file(find_project_root(), stack), stack)


def tidy(value: Any) -> Any:
    """Numbers arrive as floats over gRPC; show whole ones as integers, and keys sorted."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: tidy(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [tidy(v) for v in value]
    return value


def plan_json(rendering: Rendering) -> dict[str, Any]:
    resources = sorted(rendering.resources, key=lambda r: r.urn)
    return {
        "stack": rendering.stack,
        "resources": [
            {"type": r.type, "name": r.name, "parent": r.parent, "protect": r.protect, "inputs": tidy(r.inputs)}
            for r in resources
        ],
        "outputs": tidy(rendering.outputs),
        "secretsToSet": sorted(rendering.missing_secrets),
    }


def print_plan(rendering: Rendering, console: Console) -> None:
    """Each component with its resources under it, each resource's inputs as YAML, then the outputs."""
    p = Printer(console)
    p.line(Text(f"stack {rendering.stack}", style="bold"), f": {len(rendering.resources)} resources")
    components = {r.name: r for r in rendering.resources if not r.custom}
    children: dict[str | None, list[Declared]] = {}
    for r in rendering.resources:
        children.setdefault(r.parent if r.parent in components else None, []).append(r)

    def show(r: Declared, indent: int) -> None:
        _header(p, r.type, r.name, indent=indent, protect=r.protect)
        if r.custom:
            p.yaml(yaml_lines(tidy(r.inputs)), indent=indent + 4)
        for child in sorted(children.get(r.name, []) if not r.custom else [], key=lambda c: (not c.custom, c.type, c.name)):
            show(child, indent + 4)

    for root in sorted(children.get(None, []), key=lambda r: (r.custom, r.type, r.name)):
        p.blank()
        show(root, 0)
    p.blank()
    p.line(Text("Outputs:", style="bold"))
    p.yaml(yaml_lines(tidy(rendering.outputs)), indent=2)
    if rendering.missing_secrets:
        p.blank()
        p.line(Text("Secrets to set before `pulumi preview`:", style="bold yellow"))
        for key in sorted(rendering.missing_secrets):
            p.command(f"pulumi config set --secret --stack {rendering.stack} {key}", indent=2)


# --- Stack-to-stack diff ----------------------------------------------------------------


def _name_pairs(a: Rendering, b: Rendering) -> dict[str, str]:
    """Map b's app/project names onto a's: same names pair up, the rest pair in sorted order."""
    mapping: dict[str, str] = {}
    for names_a, names_b in (
        (set(a.spec.heroku.apps), set(b.spec.heroku.apps)),
        (set(a.spec.vercel.projects), set(b.spec.vercel.projects)),
    ):
        for left, right in zip(sorted(names_a - names_b), sorted(names_b - names_a), strict=False):
            mapping[right] = left
    return mapping


def _key(r: Declared, mapping: dict[str, str]) -> tuple[str, str]:
    name = r.name
    for theirs, ours in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        name = re.sub(rf"(^|-){re.escape(theirs)}(?=-|$)", rf"\g<1>{ours}", name)
    return (r.type, name)


def _comparable(value: Any) -> Any:
    return "<secret present>" if value == SECRET else value


def _renamed(value: Any, mapping: dict[str, str]) -> Any:
    """b's values as if its apps bore a's names: an app's own name inside a value (its backup schedule's
    `app`, its add-on's id) is no difference between two stacks."""
    if isinstance(value, str):
        for theirs, ours in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
            value = re.sub(rf"(^|[^a-z0-9]){re.escape(theirs)}(?=[^a-z0-9]|$)", rf"\g<1>{ours}", value)
        return value
    if isinstance(value, dict):
        return {k: _renamed(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, mapping) for v in value]
    return value


def _root(r: Declared, rendering: Rendering) -> Declared | None:
    """The top-level component a resource belongs to (its app, project or webhook)."""
    components = {c.name: c for c in rendering.resources if not c.custom}
    root = None if r.custom else r
    while r.parent in components:
        r = root = components[r.parent]
    return root


def _component(
    ra: Declared | None, a: Rendering, rb: Declared | None, b: Rendering, mapping: dict[str, str]
) -> dict[str, str] | None:
    """The app, project or webhook a difference belongs to, as "a's name / b's name" when paired."""
    root_a, root_b = _root(ra, a) if ra else None, _root(rb, b) if rb else None
    if root_a is None and root_b is not None:  # only in b: its partner in a, if a has one
        partner = _key(root_b, mapping)
        root_a = next((r for r in a.resources if not r.custom and _key(r, {}) == partner), None)
    if root_b is None and root_a is not None:
        partner = _key(root_a, {})
        root_b = next((r for r in b.resources if not r.custom and _key(r, mapping) == partner), None)
    roots = [root for root in (root_a, root_b) if root is not None]
    if not roots:
        return None
    return {"type": roots[0].type, "name": " / ".join(dict.fromkeys(root.name for root in roots))}


def diff(a: Rendering, b: Rendering, *, detail: bool = False) -> dict[str, Any]:
    """What differs from stack a to stack b, resource by resource (b's app and project names paired
    with a's). Secret inputs are `[secret]` on both sides: compared by presence only.

    `detail` adds what the printed diff shows besides the JSON: each difference's `component` (the
    app, project or webhook it belongs to) and the `declared` inputs of a resource in one stack only."""
    mapping = _name_pairs(a, b)
    left = {_key(r, {}): r for r in a.resources}
    right = {_key(r, mapping): r for r in b.resources}
    changes: list[dict[str, Any]] = []
    for key in sorted(set(left) | set(right)):
        ra, rb = left.get(key), right.get(key)
        if ra is None or rb is None:
            only = a.stack if rb is None else b.stack
            present = ra or rb
            assert present is not None
            changes.append({"type": key[0], "name": present.name, "only_in": only})
            if detail:
                changes[-1].update(component=_component(ra, a, rb, b, mapping), declared=tidy(present.inputs))
            continue
        ia, ib = tidy(ra.inputs), tidy(rb.inputs)
        differing = {
            k: {a.stack: ia.get(k), b.stack: ib.get(k)}
            for k in sorted(set(ia) | set(ib))
            if _comparable(ia.get(k)) != _comparable(_renamed(ib.get(k), mapping))
        }
        if ra.protect != rb.protect:
            differing["(protect)"] = {a.stack: ra.protect, b.stack: rb.protect}
        if differing:
            changes.append(
                {"type": key[0], "name": f"{ra.name} / {rb.name}" if ra.name != rb.name else ra.name, "inputs": differing}
            )
            if detail:
                changes[-1]["component"] = _component(ra, a, rb, b, mapping)
    return {"stacks": [a.stack, b.stack], "paired": mapping, "differences": changes}


def _header(p: Printer, type_: str, name: str, *, indent: int = 0, mark: str | None = None, protect: bool = False) -> None:
    """`type name`; the name on a line of its own when both do not fit on one."""
    label = Text(name, style="bold")
    if protect:
        label.append(" (protected)", style="red")
    p.kv(Text(simplify_type(type_), style="cyan"), label, indent=indent, mark=mark, hang=HANG + 2)


def print_diff(result: dict[str, Any], console: Console) -> None:
    """Pulumi's `preview --diff` vocabulary from the first stack to the second, grouped by app or
    project: `+` only in the second, `-` only in the first, `~ key: first => second`."""
    a, b = result["stacks"]
    p = Printer(console)
    if not result["differences"]:
        p.line(Text(f"No differences between {a} and {b}.", style="green"))
        return
    count = len(result["differences"])
    p.line(Text(f"{a} -> {b}", style="bold"), f": {count} resource{'s' if count != 1 else ''} differ")
    p.line(legend((ADD, f"only in {b}"), (DELETE, f"only in {a}"), (CHANGE, "differs")), indent=2)
    groups: dict[tuple[str, str] | None, list[dict[str, Any]]] = {}
    for change in result["differences"]:
        component = change.get("component")
        groups.setdefault((component["type"], component["name"]) if component else None, []).append(change)
    for group, changes in sorted(groups.items(), key=lambda kv: (kv[0] is not None, kv[0] or ("", ""))):
        p.blank()
        indent = 0
        if group is not None:
            _header(p, group[0], group[1])
            indent = 4
        for change in changes:
            if "only_in" in change:
                mark = ADD if change["only_in"] == b else DELETE
                _header(p, change["type"], change["name"], indent=indent, mark=mark)
                p.yaml(yaml_lines(change.get("declared") or {}), indent=indent + 4, mark=mark)
                continue
            _header(p, change["type"], change["name"], indent=indent, mark=CHANGE)
            for key, values in change["inputs"].items():
                p.diff(diff_lines(key, values[a], values[b]), indent=indent + 4)


def load(stack: str | None, config_file: Path | None) -> Rendering:
    return render(stack_config(stack, config_file))


# --- the command ---------------------------------------------------------------------


def plan_command(
    stack: Annotated[Optional[str], typer.Argument(help="Stack name; reads Pulumi.<stack>.yaml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    config_file: Annotated[Optional[Path], typer.Option("--config-file", help="Read this stack file instead.")] = None,
    diff_with: Annotated[Optional[str], typer.Option("--diff", help="Compare with another stack (name or file).")] = None,
    stack_option: Annotated[
        Optional[str], typer.Option("--stack", "-s", help="Stack name, as `pulumi --stack` takes it.")
    ] = None,
) -> None:
    """Render a stack's desired state offline: no Pulumi CLI, no credentials, no network."""
    stack = pick_stack(stack, stack_option, required=False)
    try:
        rendering = load(stack, config_file)
        other = None
        if diff_with is not None:
            path = Path(diff_with)
            other = load(None, path) if path.suffix in (".yaml", ".yml") else load(diff_with, None)
    except SpecError as exc:
        fail_spec(exc)
    except ValueError as exc:
        fail(str(exc))

    if other is not None:
        result = diff(rendering, other, detail=not as_json)
        if as_json:
            print(json.dumps(result, indent=2, default=str))
        else:
            print_diff(result, out)
        return
    if as_json:
        print(json.dumps(plan_json(rendering), indent=2))
    else:
        print_plan(rendering, out)
