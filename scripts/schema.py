"""`launchplan schema`: the JSON Schema of a stack file, for editors' YAML language servers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.spec.schema import json_schema
from scripts.console import err, require_writable


def schema_command(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of a stack file, for editors' YAML language servers."""
    if output is not None:
        require_writable(output, "--output")
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        err.print(f"wrote {output}")
