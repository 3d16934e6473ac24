"""What every command shares: where it prints, how it fails, and its exit codes."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)

EXIT_BLOCKED = 1  # gate: a step is blocked; verify: a check failed
EXIT_INVALID = 2  # bad input (config, arguments): nothing was changed
EXIT_DRIFT = 3  # drift: live differs from declared


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
