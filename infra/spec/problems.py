"""How the spec reports bad input: every problem with its key path and its fix,
never the offending value (a misplaced credential must not reach a terminal or a CI log)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from infra.spec.secrecy import redact


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    fix: str

    def render(self, stack: str) -> str:
        return redact(f"[stack {stack}] {self.path}: {self.message}\n    fix: {self.fix}")

    def as_json(self) -> dict[str, str]:
        return {"path": redact(self.path), "message": redact(self.message), "fix": redact(self.fix)}


class SpecError(Exception):
    """Raised with every problem found in a stack's config (or its file). Every message is
    redacted: nothing that could be a secret is ever part of it."""

    def __init__(self, stack: str, problems: list[Problem], source: str | None = None):
        self.stack = stack
        self.problems = problems
        self.source = source
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        body = "\n".join(p.render(stack) for p in problems)
        where = f" ({source})" if source else ""
        super().__init__(f"Stack '{stack}' config{where} has {count}; nothing was changed.\n{body}")


def invalid(message: str, fix: str, key: str | None = None) -> PydanticCustomError:
    """A validation error with its fix; `key` extends the path to one entry of a mapping."""
    return PydanticCustomError("launchplan", message, {"fix": fix, "key": key or ""})


def closest(word: str, options: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(options), n=1)
    return match[0] if match else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    match = closest(word, options)
    return f"did you mean '{match}'? " if match else ""


def set_secret_command(stack: str, key: str) -> str:
    return f"pulumi config set --secret --stack {stack} {key}"
