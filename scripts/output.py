"""How every command shows things to a person, in one place.

- Values the way Pulumi shows them: strings plain, numbers and booleans as YAML writes them,
  maps and lists as indented YAML (never a Python repr).
- Lines wrapped to the console's width with a hanging indent, never truncated: a key always
  stays whole, and a value that does not fit after its key moves to its own line first.
- The markers and colours of `pulumi preview --diff`: `+` green (add), `-` red (delete),
  `~` yellow (change), `+-` bright magenta (replace), ...
- Diffs of two values key by key and item by item, so only the differing part is shown, and a
  value too long to show whole keeps the part that differs visible.

Secrets never reach this module as values: callers pass `[secret]` in their place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.text import Text

SECRET = "[secret]"

ADD, DELETE, CHANGE, SAME = "+", "-", "~", " "

# Pulumi's display (StepOp.RawPrefix / StepOp.Color): the marker of each step op, and its colour.
OP_MARKS = {
    "same": SAME,
    "create": ADD,
    "delete": DELETE,
    "update": CHANGE,
    "replace": "+-",
    "create-replacement": "++",
    "delete-replaced": "--",
    "read": ">",
    "read-replacement": ">>",
    "refresh": CHANGE,
    "discard": "<",
    "discard-replaced": "<<",
    "import": "=",
    "import-replacement": "=>",
}
MARK_STYLES = {
    ADD: "green",
    DELETE: "red",
    CHANGE: "yellow",
    "+-": "bright_magenta",
    "++": "bright_green",
    "--": "bright_red",
    ">": "bright_cyan",
    ">>": "bright_magenta",
    "<": "red",
    "<<": "red",
    "=": "green",
    "=>": "bright_magenta",
    "!": "bold red",
}
STATUS_STYLES = {"pass": "green", "fail": "bold red", "pending": "yellow"}

HANG = 4  # continuation lines of wrapped text are indented this much more
UNDER = 2  # a value that does not fit after its key goes on the next line, this much further in
BREAK_AFTER = "/-.:_,?&="  # where a word too long for a whole line is folded, if it can be
LONG_VALUE_LINES = 4  # a differing value longer than this many lines is shortened around the difference


class _Absent:
    """A key present on one side of a diff only."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


# --- values ------------------------------------------------------------------------------


def scalar(value: Any) -> str:
    """One value as YAML writes it: strings plain, `true`/`false`, `null`, whole floats as integers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{}" if not value else inline(value)
    if isinstance(value, (list, tuple)):
        return "[]" if not value else inline(value)
    text = str(value)
    return text if text else '""'


def inline(value: Any) -> str:
    """A value on one line, maps and lists in YAML flow style: `{a: 1, b: [x, y]}`."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return scalar(value)


def simplify_type(type_: str) -> str:
    """A type token as Pulumi's display shows it: `heroku:app/configAssociation:ConfigAssociation`
    is `heroku:app:ConfigAssociation` (only when the module's file is the type's own name)."""
    parts = type_.split(":")
    if len(parts) != 3 or "/" not in parts[1] or not parts[2]:
        return type_
    module, file = parts[1].rsplit("/", 1)
    return f"{parts[0]}:{module}:{parts[2]}" if file == parts[2][:1].lower() + parts[2][1:] else type_


def is_block(value: Any) -> bool:
    """A non-empty map or list: shown as an indented YAML block rather than after its key."""
    return isinstance(value, (dict, list, tuple)) and bool(value)


@dataclass
class YamlLine:
    """One line of a YAML block: `head` (`key:`, `-`, `- key:`) then a scalar `value`."""

    indent: int
    head: str
    value: str | None = None
    old: str | None = None  # set on a change: `head old => value`


def field_lines(key: str, value: Any) -> list[YamlLine]:
    """`key: value`, with maps and lists as an indented block under the key."""
    if not is_block(value):
        return [YamlLine(0, f"{key}:", scalar(value))]
    return [YamlLine(0, f"{key}:"), *(_shift(line, 2) for line in yaml_lines(value))]


def yaml_lines(value: Any) -> list[YamlLine]:
    """A value as a YAML block (a scalar is one line)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in field_lines(str(k), v)]
    if isinstance(value, (list, tuple)):
        lines: list[YamlLine] = []
        for item in value:
            if not is_block(item):
                lines.append(YamlLine(0, "-", scalar(item)))
                continue
            inner = yaml_lines(item)
            first = inner[0]
            lines.append(YamlLine(0, f"- {first.head}", first.value))
            lines += [_shift(line, 2) for line in inner[1:]]
        return lines
    return [YamlLine(0, "", scalar(value))]


def _shift(line: YamlLine, by: int) -> YamlLine:
    return YamlLine(line.indent + by, line.head, line.value, line.old)


def shorten_pair(a: str, b: str, limit: int) -> tuple[str, str]:
    """Two differing strings, each at most about `limit` characters, keeping the differing part
    visible: a long common beginning or end is elided with `…`."""
    if len(a) <= limit and len(b) <= limit:
        return a, b
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    context = max(8, limit // 8)

    def cut(text: str) -> str:
        start = max(0, prefix - context)
        end = len(text) - max(0, suffix - context)
        middle = text[start:end]
        if len(middle) > limit:  # the differing part alone is too long: keep its beginning and end
            half = max(1, (limit - 1) // 2)
            middle = middle[:half] + "…" + middle[-half:]
        return ("…" if start else "") + middle + ("…" if end < len(text) else "")

    return cut(a), cut(b)


# --- diffs of values --------------------------------------------------------------------------


@dataclass
class DiffLine:
    """A marked YAML line: the marker `depth` in (nested changes move it in, as Pulumi does), the
    line's own YAML indentation after the marker (a block under an added key keeps its marker)."""

    mark: str
    line: YamlLine
    depth: int = 0


def diff_lines(key: str, a: Any, b: Any) -> list[DiffLine]:
    """How `key` differs from a to b, Pulumi style: `+`/`-` for a key or item on one side only,
    `~ key: old => new` for a changed scalar, maps key by key and lists item by item. Equal: []."""
    if _same(a, b):
        return []
    if a is ABSENT or a is None:
        return [DiffLine(ADD, line) for line in field_lines(key, b)]
    if b is ABSENT or b is None:
        return [DiffLine(DELETE, line) for line in field_lines(key, a)]
    if isinstance(a, dict) and isinstance(b, dict) and a and b:
        children = [_nest(line) for k in _keys(a, b) for line in diff_lines(str(k), a.get(k, ABSENT), b.get(k, ABSENT))]
        return [DiffLine(CHANGE, YamlLine(0, f"{key}:")), *children]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and a and b:
        scalars = not any(is_block(v) for v in (*a, *b))
        if scalars:
            removed = [v for v in a if not any(_same(v, w) for w in b)]
            added = [v for v in b if not any(_same(v, w) for w in a)]
            if removed or added:
                items = [DiffLine(DELETE, YamlLine(0, "-", scalar(v))) for v in removed]
                items += [DiffLine(ADD, YamlLine(0, "-", scalar(v))) for v in added]
                return [DiffLine(CHANGE, YamlLine(0, f"{key}:")), *(_nest(d) for d in items)]
            return [DiffLine(CHANGE, YamlLine(0, f"{key}:", inline(b), inline(a)))]  # same items, new order
        children = [
            _nest(line)
            for i in range(max(len(a), len(b)))
            for line in diff_lines(f"[{i}]", a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT)
        ]
        return [DiffLine(CHANGE, YamlLine(0, f"{key}:")), *children]
    if is_block(a) or is_block(b):
        return [*(DiffLine(DELETE, line) for line in field_lines(key, a)), *(DiffLine(ADD, line) for line in field_lines(key, b))]
    return [DiffLine(CHANGE, YamlLine(0, f"{key}:", scalar(b), scalar(a)))]


def _same(a: Any, b: Any) -> bool:
    if (a is ABSENT or a is None) and (b is ABSENT or b is None):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _keys(a: dict[Any, Any], b: dict[Any, Any]) -> list[Any]:
    return sorted({*a, *b}, key=str)


def _nest(d: DiffLine) -> DiffLine:
    return DiffLine(d.mark, d.line, d.depth + HANG)


# --- printing --------------------------------------------------------------------------------


def wrap(text: Text, first: int, rest: int) -> list[Text]:
    """Break `text` at spaces into lines of at most `first` (then `rest`) cells; a word longer than
    a whole line is folded, never cut off."""
    plain = text.plain
    lines: list[Text] = []
    start, width = 0, max(1, first)
    while len(plain) - start > width:
        cut = plain.rfind(" ", start + 1, start + width + 1)
        if cut != -1:
            end, nxt = cut, cut + 1
        else:
            fold = max(plain.rfind(c, start + width // 2, start + width) for c in BREAK_AFTER)
            end = nxt = fold + 1 if fold != -1 else start + width
        lines.append(text[start:end])
        while nxt < len(plain) and plain[nxt] == " ":
            nxt += 1
        start, width = nxt, max(1, rest)
    lines.append(text[start:])
    return lines


def styled(value: str, style: str = "") -> Text:
    """A value's text; `[secret]` stands out (it is never a real value)."""
    return Text(value, style="yellow" if value == SECRET else style)


def mark_text(mark: str) -> Text:
    return Text(mark, style=MARK_STYLES.get(mark, ""))


class Printer:
    """Writes wrapped, indented lines to a console of any width.

    Every line is `indent` spaces, an optional marker and a space, `inner` more spaces, then the
    text; continuation lines of wrapped text align `hang` further in than the text."""

    def __init__(self, console: Console):
        self.console = console

    @property
    def width(self) -> int:
        return max(40, self.console.width)

    def blank(self) -> None:
        self.console.print()

    def _prefix(self, indent: int, mark: str | None, inner: int) -> Text:
        prefix = Text(" " * indent)
        if mark is not None:
            prefix.append(mark_text(mark))
            prefix.append(" ")
        prefix.append(" " * inner)
        return prefix

    def line(self, *parts: str | Text, indent: int = 0, mark: str | None = None, inner: int = 0, hang: int = HANG) -> None:
        """One logical line: parts joined, marker (if any) first, wrapped with a hanging indent (a
        line break inside the text starts a continuation line)."""
        body = Text()
        for part in parts:
            body.append(part if isinstance(part, Text) else Text(part))
        prefix = self._prefix(indent, mark, inner)
        width = self.width - len(prefix.plain)
        pieces = [
            piece
            for i, paragraph in enumerate(body.split("\n"))
            for piece in wrap(paragraph, width - (hang if i else 0), width - hang)
        ]
        for i, piece in enumerate(pieces):
            lead = prefix if i == 0 else Text(" " * (len(prefix.plain) + hang))
            self.console.print(lead + piece, soft_wrap=True, highlight=False)

    def command(self, command: str, *, indent: int = 0) -> None:
        """A shell command to copy and paste: one line, never broken (the terminal wraps it)."""
        self.console.print(Text(" " * indent + command), soft_wrap=True, highlight=False)

    def kv(
        self,
        head: str | Text,
        value: str | Text | None,
        *,
        indent: int = 0,
        mark: str | None = None,
        inner: int = 0,
        hang: int = UNDER,
    ) -> None:
        """`head value` on one line when it fits; else the value alone on the next line (`hang`
        further in than the head) if it fits there whole; else wrapped in place."""
        head_text = head if isinstance(head, Text) else Text(head)
        if value is None or (isinstance(value, str) and value == ""):
            self.line(head_text, indent=indent, mark=mark, inner=inner)
            return
        value_text = value if isinstance(value, Text) else styled(value)
        used = len(self._prefix(indent, mark, inner).plain)
        if not head_text.plain:
            self.line(value_text, indent=indent, mark=mark, inner=inner)
        elif used + len(head_text.plain) + 1 + len(value_text.plain) <= self.width:
            self.line(head_text, " ", value_text, indent=indent, mark=mark, inner=inner)
        elif used + hang + len(value_text.plain) <= self.width:
            self.line(head_text, indent=indent, mark=mark, inner=inner)
            self.line(value_text, indent=used + hang)
        else:
            self.line(head_text, " ", value_text, indent=indent, mark=mark, inner=inner)

    def yaml(self, lines: Iterable[YamlLine], *, indent: int = 0, mark: str | None = None) -> None:
        """YAML lines; with a marker, the marker stays in one column and the YAML indents after it."""
        for line in lines:
            if mark is None:
                self.kv(line.head, line.value, indent=indent + line.indent)
            else:
                self.kv(line.head, line.value, indent=indent, mark=mark, inner=line.indent)

    def field(self, key: str, value: Any, *, indent: int = 0, mark: str | None = None) -> None:
        """`key: value` as YAML: maps and lists as a block under the key."""
        self.yaml(field_lines(key, value), indent=indent, mark=mark)

    def diff(self, lines: Sequence[DiffLine], *, indent: int = 0) -> None:
        """Lines of `diff_lines`: a change as `key: old => new`, the new value on a line of its own
        when both do not fit on one, a value too long to show whole shortened around the difference."""
        for d in lines:
            line, at = d.line, indent + d.depth
            if line.old is None:
                self.kv(line.head, line.value, indent=at, mark=d.mark, inner=line.indent)
                continue
            assert line.value is not None
            used = len(self._prefix(at, d.mark, line.indent).plain)
            old, new = shorten_pair(line.old, line.value, max(20, LONG_VALUE_LINES * (self.width - used - HANG)))
            if used + len(line.head) + len(old) + len(new) + 6 <= self.width:
                self.line(line.head, " ", styled(old), " => ", styled(new), indent=at, mark=d.mark, inner=line.indent)
                continue
            self.kv(line.head, styled(old), indent=at, mark=d.mark, inner=line.indent)
            self.kv("=>", styled(new), indent=used + UNDER)

    def columns(self, rows: Sequence[Sequence[str | Text]], *, indent: int = 0) -> None:
        """Rows of cells, every cell but the last padded to its column's widest, the last wrapped
        (or on a line of its own when the columns leave it too little room): no cell is ever cut."""
        texts = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
        ncols = max((len(r) for r in texts), default=0)
        widths = [max((len(r[i].plain) for r in texts if i < len(r) - 1), default=0) for i in range(ncols - 1)]
        for row in texts:
            cells = Text()
            for i, cell in enumerate(row[:-1]):
                cells.append(cell)
                cells.append(" " * (widths[i] - len(cell.plain) + 2))
            last = row[-1]
            room = self.width - indent - len(cells.plain)
            longest = max((len(word) for word in last.plain.split()), default=0)
            if room >= longest and room >= min(len(last.plain), max(24, (self.width - indent) // 3)):
                self.line(cells, last, indent=indent, hang=len(cells.plain))
            else:
                head = cells.copy()
                head.rstrip()
                self.line(head, indent=indent)
                self.line(last, indent=indent + HANG, hang=UNDER)


def mark_of(op: str) -> str:
    return OP_MARKS.get(op, CHANGE)


def legend(*marks: tuple[str, str]) -> Text:
    """`+ only in production  - only in staging  ~ differs`, each marker in its colour."""
    text = Text()
    for i, (mark, meaning) in enumerate(marks):
        if i:
            text.append("   ")
        text.append(mark_text(mark))
        text.append(f" {meaning}")
    return text
