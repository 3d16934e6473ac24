"""The `launchplan` operator command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from infra.config import SpecError

app = typer.Typer(
    help="launchplan: Heroku, Vercel and Postgres declared per stack, previewed before every change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2


def _fail(message: str, code: int = EXIT_INVALID) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def plan(
    stack: Annotated[Optional[str], typer.Argument(help="Stack name; reads Pulumi.<stack>.yaml.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    config_file: Annotated[Optional[Path], typer.Option("--config-file", help="Read this stack file instead.")] = None,
    diff: Annotated[Optional[str], typer.Option("--diff", help="Compare with another stack (name or file).")] = None,
) -> None:
    """Render a stack's desired state offline: no Pulumi CLI, no credentials, no network."""
    from scripts import plan as planner

    try:
        rendering = planner.load(stack, config_file)
        other = None
        if diff is not None:
            path = Path(diff)
            other = planner.load(None, path) if path.suffix in (".yaml", ".yml") else planner.load(diff, None)
    except SpecError as exc:
        _fail(str(exc))
    except ValueError as exc:
        _fail(str(exc))

    if other is not None:
        result = planner.diff(rendering, other)
        if as_json:
            print(json.dumps(result, indent=2, default=str))
        else:
            planner.print_diff(result, out)
        return
    if as_json:
        print(json.dumps(planner.plan_json(rendering), indent=2))
    else:
        planner.print_plan(rendering, out)


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of a stack file, for editors' YAML language servers."""
    from infra.config import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
