"""`launchplan plan`: a stack's desired state, offline, as a table, JSON, or a diff between stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from infra.spec.problems import SpecError
from infra.spec.stack_config import StackConfig
from scripts.console import fail, out
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


def _short(value: Any, width: int = 70) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _shown(value: Any) -> str:
    return "[yellow]\\[secret][/]" if value == SECRET else escape(_short(value, 100))


def _add_value(node: Tree, key: str, value: Any) -> None:
    """Mappings and lists of mappings as sub-trees, so every var and target is readable."""
    if isinstance(value, dict) and value:
        sub = node.add(escape(key))
        for k, v in value.items():
            _add_value(sub, k, v)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        sub = node.add(escape(key))
        for item in value:
            sub.add(", ".join(f"{escape(k)}={_shown(v)}" for k, v in item.items()))
    else:
        node.add(f"{escape(key)} = {_shown(value)}")


def print_plan(rendering: Rendering, console: Console) -> None:
    tree = Tree(f"[bold]stack {rendering.stack}[/] — {len(rendering.resources)} resources")
    components = {r.name: r for r in rendering.resources if not r.custom}

    def depth(r: Declared) -> int:
        return 0 if r.parent not in components else 1 + depth(components[r.parent])

    nodes: dict[str | None, Tree] = {None: tree}
    for r in sorted(rendering.resources, key=lambda r: (depth(r), r.custom, r.type, r.name)):
        flags = " [red](protected)[/]" if r.protect else ""
        label = f"[cyan]{escape(r.type)}[/] [bold]{escape(r.name)}[/]{flags}"
        node = nodes.get(r.parent, tree).add(label)
        if not r.custom:
            nodes[r.name] = node
            continue
        for key, value in tidy(r.inputs).items():
            _add_value(node, key, value)
    console.print(tree)
    outputs = Table("output", "value", title="Stack outputs", title_justify="left")
    for key, value in tidy(rendering.outputs).items():
        outputs.add_row(key, escape(_short(value, 110)))
    console.print(outputs)
    if rendering.missing_secrets:
        console.print("[bold yellow]Secrets to set before `pulumi preview`:[/]")
        for key in sorted(rendering.missing_secrets):
            console.print(f"  pulumi config set --secret --stack {rendering.stack} {key}", soft_wrap=True, highlight=False)


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


def diff(a: Rendering, b: Rendering) -> dict[str, Any]:
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
            continue
        ia, ib = tidy(ra.inputs), tidy(rb.inputs)
        differing = {
            k: {a.stack: ia.get(k), b.stack: ib.get(k)}
            for k in sorted(set(ia) | set(ib))
            if _comparable(ia.get(k)) != _comparable(ib.get(k))
            and not (k in ("name", "appId", "projectId") and ra.name != rb.name)
        }
        if ra.protect != rb.protect:
            differing["(protect)"] = {a.stack: ra.protect, b.stack: rb.protect}
        if differing:
            changes.append(
                {"type": key[0], "name": f"{ra.name} / {rb.name}" if ra.name != rb.name else ra.name, "inputs": differing}
            )
    return {"stacks": [a.stack, b.stack], "paired": mapping, "differences": changes}


def print_diff(result: dict[str, Any], console: Console) -> None:
    a, b = result["stacks"]
    if not result["differences"]:
        console.print(f"[green]No differences between {a} and {b}.[/]")
        return
    table = Table("resource", "input", a, b, title=f"{a} vs {b}", title_justify="left")
    for change in result["differences"]:
        label = f"{change['type']}\n{change['name']}"
        if "only_in" in change:
            table.add_row(
                label, "(resource)", "present" if change["only_in"] == a else "—", "present" if change["only_in"] == b else "—"
            )
            continue
        for key, values in change["inputs"].items():
            table.add_row(label, key, _short(values[a], 40), _short(values[b], 40))
            label = ""
    console.print(table)


def load(stack: str | None, config_file: Path | None) -> Rendering:
    return render(stack_config(stack, config_file))


# --- the command ---------------------------------------------------------------------


def plan_command(
    stack: Annotated[Optional[str], typer.Argument(help="Stack name; reads Pulumi.<stack>.yaml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    config_file: Annotated[Optional[Path], typer.Option("--config-file", help="Read this stack file instead.")] = None,
    diff_with: Annotated[Optional[str], typer.Option("--diff", help="Compare with another stack (name or file).")] = None,
) -> None:
    """Render a stack's desired state offline: no Pulumi CLI, no credentials, no network."""
    try:
        rendering = load(stack, config_file)
        other = None
        if diff_with is not None:
            path = Path(diff_with)
            other = load(None, path) if path.suffix in (".yaml", ".yml") else load(diff_with, None)
    except SpecError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))

    if other is not None:
        result = diff(rendering, other)
        if as_json:
            print(json.dumps(result, indent=2, default=str))
        else:
            print_diff(result, out)
        return
    if as_json:
        print(json.dumps(plan_json(rendering), indent=2))
    else:
        print_plan(rendering, out)
