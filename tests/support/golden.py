"""Golden output: what a command prints at a given terminal width, compared with a reviewed file.

The expected text lives in tests/scripts/golden/<command>-<case>-<width>.txt and is reviewed like
code. To regenerate after an intended change of the output, run

    UPDATE_GOLDEN=1 .venv/bin/pytest -q -p no:cacheprovider tests/scripts/test_golden.py

and review `git diff tests/scripts/golden/` before committing it.
"""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Callable, Iterable

import pytest
from rich.console import Console

from tests.support.stacks import ROOT

GOLDEN = ROOT / "tests" / "scripts" / "golden"
WIDTHS = (80, 120)


def printed(show: Callable[[Console], None], width: int) -> str:
    """What `show` prints on a console `width` columns wide, colour off (as in a CI log)."""
    buffer = io.StringIO()
    show(Console(file=buffer, width=width, color_system=None, force_terminal=False, legacy_windows=False))
    return buffer.getvalue()


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `UPDATE_GOLDEN=1 pytest {__name__}` and review it")
    expected = path.read_text()
    if text != expected:
        delta = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "printed"))
        pytest.fail(f"{path.relative_to(ROOT)} differs (UPDATE_GOLDEN=1 regenerates it; review the diff):\n{delta}")


def assert_readable(
    text: str, width: int, *, whole: Iterable[str] = (), prose: Iterable[str] = (), commands: Iterable[str] = ()
) -> None:
    """Readable at `width` columns: no line wider (a shell command to copy excepted), nothing cut
    (no `…`), no Python repr, every `whole` string (keys, differing values) on one line, every
    `prose` string intact apart from line breaks at its spaces."""
    lines = text.splitlines()
    allowed = {c.strip() for c in commands}
    for line in lines:
        assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert len(line) <= width or line.strip() in allowed, f"wider than {width} columns: {line!r}"
    assert "…" not in text, "a value was shortened"
    for repr_sign in ("{'", "['", "': "):
        assert repr_sign not in text, f"a Python repr ({repr_sign!r}) in the output"
    missing = [s for s in dict.fromkeys(whole) if not any(s in line for line in lines)]
    assert not missing, f"cut or wrapped at {width} columns (each should be whole on one line): {missing}"
    flowing = " ".join(text.split())
    broken = [s for s in dict.fromkeys(prose) if " ".join(s.split()) not in flowing]
    assert not broken, f"cut at {width} columns: {broken}"
