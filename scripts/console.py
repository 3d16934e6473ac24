"""What every command shares: where it prints, how it fails, and its exit codes.

Every error goes through `fail`: one line on stderr (and, with `--json`, one JSON object on
stdout), redacted so that nothing that could be a secret is ever printed, then the exit code.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from infra.spec.problems import Problem, SpecError
from infra.spec.secrecy import redact

out = Console()
err = Console(stderr=True)

EXIT_BLOCKED = 1  # gate: a step is blocked; verify: a check failed
EXIT_INVALID = 2  # bad input (config, arguments, a missing engine or CLI): nothing was changed
EXIT_DRIFT = 3  # drift: live differs from declared
EXIT_INTERNAL = 4  # a bug in launchplan itself: the message says so; --debug shows the traceback


@dataclass
class Settings:
    """How the running command reports errors (set per invocation by scripts.cli)."""

    json: bool = False  # errors also as one JSON object on stdout
    debug: bool = False  # tracebacks of unexpected errors on stderr


settings = Settings()


def fail(message: str, code: int = EXIT_INVALID, *, problems: Sequence[Problem] = ()) -> NoReturn:
    text = redact(message)
    err.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    if settings.json:
        body: dict[str, object] = {"message": text, "exitCode": code}
        if problems:
            body["problems"] = [p.as_json() for p in problems]
        sys.stdout.write(json.dumps({"error": body}, indent=2) + "\n")
        sys.stdout.flush()
    raise typer.Exit(code)


def fail_spec(exc: SpecError) -> NoReturn:
    """A stack's config (or file) was refused: every problem with its key path and fix."""
    fail(str(exc), problems=exc.problems)


def pick_stack(positional: str | None, option: str | None, *, required: bool = True, what: str = "STACK") -> str | None:
    """The stack named either way, as `pulumi` takes it (`--stack/-s NAME`) or positionally."""
    if positional is not None and option is not None and positional != option:
        fail(f"the stack is named twice ({positional!r} and --stack {option!r}): name it once")
    stack = option if option is not None else positional
    if stack is None and required:
        fail(f"name a stack: {what} or --stack {what}, e.g. --stack staging")
    return stack


def require_writable(path: Path, option: str) -> None:
    """An output path must be writable before anything runs: its folder exists and accepts files."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        fail(f"{option} {path} is a folder: give a file path")
    if not folder.is_dir():
        fail(f"{option} {path}: the folder {folder} does not exist; create it or pick another path")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"{option} {path} is not writable; pick another path")
