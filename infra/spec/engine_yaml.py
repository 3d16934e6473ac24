"""Stack files read exactly as the Pulumi engine reads them.

The engine (Go) parses `Pulumi.<stack>.yaml` with gopkg.in/yaml.v3, re-encodes the document once
(to put unnamespaced keys in the project's namespace), decodes it again into `config.Map`, and hands
the program every value as a string: scalars as text, objects and lists as Go's compact JSON. So a
plain `yes` stays the text "yes" (YAML 1.2, not 1.1's true), `3:30` stays "3:30" (no base-60), `017`
is 15 (yaml.v3 keeps 1.1 octals), `1_000` is 1000, `1.0` is 1, a date is Go's `time.Time.String()`
("2024-01-01 00:00:00 +0000 UTC"), `.inf`/`.nan` make the whole file unreadable, and a key defined
twice is an error. Sources, pulumi sdk v3.259.0: go/common/workspace/loaders.go
(LoadProjectStackBytes, stackConfigNamespacedWithProject), go/common/resource/config/{key,object,
value,map}.go (ParseKey, unmarshalObject, MarshalString); gopkg.in/yaml.v3 v3.0.1 resolve.go and
decode.go. tests/integration/test_config_scalars.py checks this module against the real engine.

PyYAML is used only to tokenize and compose nodes (its YAML 1.1 resolver is switched off); every
plain scalar is resolved here by yaml.v3's rules.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import yaml

_PLAIN = "!launchplan/plain-scalar"  # what our resolver calls an untagged plain scalar
_Y = "tag:yaml.org,2002:"
_MAX_NODES = 200_000  # yaml.v3 refuses documents that expand aliases excessively; so do we


class EngineYamlError(ValueError):
    """The engine would refuse this file. `where` names the key path (or the line), never a value."""

    def __init__(self, where: str, message: str, fix: str, line: int | None = None):
        self.where, self.message, self.fix, self.line = where, message, fix, line
        at = f" (line {line})" if line else ""
        super().__init__(f"{where}: {message}{at}. Fix: {fix}")


_Base: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class _Loader(_Base):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)


class GoUint(int):
    """An integer yaml.v3 decodes as uint64 (above int64's range): exact at the top level,
    a float64 once inside a structured value."""


@dataclass(frozen=True)
class GoTime:
    """A YAML timestamp as Go holds it; the engine hands the program `time.Time.String()`."""

    year: int
    month: int
    day: int
    hour: int = 0
    minute: int = 0
    second: int = 0
    nanos: int = 0
    offset: int | None = None  # seconds east of UTC; None = UTC ('Z', or no zone given)

    def go_string(self) -> str:
        frac = f".{self.nanos:09d}".rstrip("0") if self.nanos else ""
        text = f"{self.year:04d}-{self.month:02d}-{self.day:02d} {self.hour:02d}:{self.minute:02d}:{self.second:02d}{frac}"
        if self.offset is None:
            return f"{text} +0000 UTC"
        sign = "-" if self.offset < 0 else "+"
        minutes = abs(self.offset) // 60
        numeric = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
        return f"{text} {numeric} {self._local_name() or numeric}"

    def _local_name(self) -> str | None:
        """Go's time.Parse uses the Local zone when its offset matches at that instant."""
        assert self.offset is not None
        try:
            instant = datetime(self.year, self.month, self.day, self.hour, self.minute, self.second, tzinfo=UTC)
            local = (instant - timedelta(seconds=self.offset)).astimezone()
        except (ValueError, OverflowError, OSError):
            return None
        if local.utcoffset() == timedelta(seconds=self.offset):
            return local.tzname()
        return None


# --- yaml.v3's scalar resolution ------------------------------------------------------------

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INFS = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}
_NANS = {".nan", ".NaN", ".NAN"}
_GO_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?")
_TS_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_TS_TIME = r"(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?"
_TS_ZONED = re.compile(_TS_DATE + r"[Tt]" + _TS_TIME + r"(Z|[+-]\d{2}:\d{2})")
_TS_SPACED = re.compile(_TS_DATE + " " + _TS_TIME)
_TS_DAY = re.compile(_TS_DATE)

_INT64 = (-(2**63), 2**63 - 1)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    return calendar.monthrange(2001, month)[1]


def parse_timestamp(text: str) -> GoTime | None:
    """yaml.v3's parseTimestamp: four layouts, through Go's time.Parse range checks."""
    if not re.match(r"\d{4}-", text):
        return None
    for pattern in (_TS_ZONED, _TS_SPACED, _TS_DAY):
        m = pattern.fullmatch(text)
        if not m:
            continue
        groups = m.groups()
        year, month, day = (int(g) for g in groups[:3])
        hour = minute = second = nanos = 0
        offset: int | None = None
        if pattern is not _TS_DAY:
            hour, minute, second = (int(g) for g in groups[3:6])
            if groups[6]:
                nanos = int(groups[6][:9].ljust(9, "0"))
        if pattern is _TS_ZONED and groups[7] != "Z":
            zone = groups[7]
            hh, mm = int(zone[1:3]), int(zone[4:6])
            if hh > 24 or mm > 60:
                continue
            offset = (hh * 60 + mm) * 60 * (-1 if zone[0] == "-" else 1)
        if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60):
            continue
        if not 1 <= day <= _days_in(month, year):
            continue
        return GoTime(year, month, day, hour, minute, second, nanos, offset)
    return None


def _go_int(text: str) -> int | None:
    m = _GO_INT.fullmatch(text)
    if not m:
        return None
    sign, digits = m.groups()
    prefix = digits[:2].lower()
    if prefix in ("0x", "0b", "0o"):
        value = int(digits[2:], {"0x": 16, "0b": 2, "0o": 8}[prefix])
    elif digits.startswith("0") and len(digits) > 1:
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    value = -value if sign == "-" else value
    if _INT64[0] <= value <= _INT64[1]:
        return value
    if not sign and value < 2**64:
        return GoUint(value)
    return None


def _go_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isinf(value) else value  # Go: out of range is an error, so not a float


class _TagMismatchError(Exception):
    pass


def resolve(tag: str, text: str) -> Any:
    """yaml.v3's resolve(): what an untagged ("") or explicitly tagged plain scalar becomes."""
    if tag in ("str", "binary"):
        return text
    hint = text[:1]
    result: Any = text
    if text in _NULLS:
        result = None
    elif text in _TRUES or text in _FALSES:
        result = text in _TRUES
    elif text in _INFS:
        result = -math.inf if text.startswith("-") else math.inf
    elif text in _NANS:
        result = math.nan
    elif hint == "." and _DOT_FLOAT.fullmatch(text):
        number = _go_float(text.replace("_", ""))
        result = text if number is None else number
    elif hint and (hint.isdigit() or hint in "+-"):
        result = _resolve_number(tag, text)
    if tag in ("", "!"):
        return result
    kind = _kind(result)
    if kind == tag or (tag == "float" and kind == "int"):
        return float(result) if tag == "float" else result
    raise _TagMismatchError(f"cannot decode !!{kind} as !!{tag}")


def _resolve_number(tag: str, text: str) -> Any:
    if tag in ("", "!", "timestamp"):
        stamp = parse_timestamp(text)
        if stamp is not None:
            return stamp
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return number
    if _YAML_FLOAT.fullmatch(plain):
        value = _go_float(plain)
        if value is not None:
            return value
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, GoTime):
        return "timestamp"
    return "str"


# --- documents ------------------------------------------------------------------------------


@dataclass
class _Builder:
    nodes: int = 0

    def build(self, node: yaml.Node, where: str, active: frozenset[int] = frozenset()) -> Any:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise EngineYamlError(where, "expands too many aliases", "write the values out instead of nesting aliases")
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, where, line)
        if id(node) in active:
            raise EngineYamlError(where, "an alias refers to the value that contains it", "remove the recursive alias", line)
        active = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, f"{where}[{i}]", active) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        return self._mapping(node, where, line, active)

    def _scalar(self, node: yaml.ScalarNode, where: str, line: int) -> Any:
        tag = node.tag
        if tag == _PLAIN or tag == "!":
            short = ""
        elif tag.startswith(_Y):
            short = tag[len(_Y) :]
        else:
            return node.value  # an application tag (`!foo bar`): yaml.v3 keeps the text
        if short == "binary":
            try:
                raw = base64.b64decode("".join(node.value.split()), validate=True)
            except (binascii.Error, ValueError):
                raise EngineYamlError(
                    where, "!!binary value contains invalid base64 data", "fix or remove the !!binary tag", line
                ) from None
            return raw.decode("utf-8", errors="replace")
        if short not in ("", "str", "bool", "int", "float", "null", "timestamp"):
            return node.value
        if node.style in ("'", '"', "|", ">") and short == "":
            return node.value  # quoted or block text is always a string
        try:
            value = resolve(short, node.value)
        except _TagMismatchError as exc:
            raise EngineYamlError(
                where, f"the tagged value cannot be read ({exc})", "remove the !!tag or fix the value", line
            ) from None
        if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
            raise EngineYamlError(
                where,
                "is .inf or .nan, which Pulumi cannot store (its config values are JSON)",
                "write a finite number, or quote it to mean text",
                line,
            )
        if isinstance(value, float) and value == 0:
            return 0  # yaml.v3 re-encodes -0.0 as "-0", which reads back as the integer 0
        return value

    def _mapping(self, node: yaml.MappingNode, where: str, line: int, active: frozenset[int]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        merges: list[tuple[yaml.Node, str]] = []
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise EngineYamlError(
                    where, "has a key that is a list or a mapping", "use text keys", key_node.start_mark.line + 1
                )
            ident = (type(key_node).__name__, key_node.value)
            key_line = key_node.start_mark.line + 1
            if ident in seen:
                raise EngineYamlError(
                    _join(where, key_node.value),
                    f"is defined twice in one mapping (first at line {seen[ident]}); Pulumi refuses the file",
                    "keep one of the two",
                    key_line,
                )
            seen[ident] = key_line
            if key_node.tag == _PLAIN and key_node.value == "<<":
                merges.append((value_node, where))
                continue
            key = go_key(self._scalar(key_node, where, key_line))
            explicit.add(key)
            result[key] = self.build(value_node, _join(where, key), active)
        for merge_node, at in merges:
            sources = merge_node.value if isinstance(merge_node, yaml.SequenceNode) else [merge_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise EngineYamlError(at, "a merge (<<) needs a mapping or a list of mappings", "merge mappings only", line)
                merged = self.build(source, at, active)
                for k, v in merged.items():
                    if k not in explicit:
                        result[k] = v
                        explicit.add(k)  # the first merged mapping that sets a key wins
        return result


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def go_key(value: Any) -> str:
    """A mapping key as the engine names it (Go's fmt %v of the decoded key)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, float):
        return _format_float(value, low=-4, high=21)
    return str(int(value))


def load_document(text: str) -> tuple[Any, dict[str, int]]:
    """The first YAML document of `text` as the engine decodes it, and the line of each top-level key.

    Raises EngineYamlError (syntax errors included) naming the line and never quoting the file."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            line = exc.problem_mark.line + 1 if exc.problem_mark else None
            raise EngineYamlError(
                "the file", "holds more than one YAML document (---)", "keep only the stack's document", line
            ) from None
        raise _syntax(exc) from None
    except yaml.YAMLError as exc:
        raise _syntax(exc) from None
    finally:
        loader.dispose()
    if root is None:
        return None, {}
    lines = {}
    if isinstance(root, yaml.MappingNode):
        lines = {k.value: k.start_mark.line + 1 for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
    return _Builder().build(root, ""), lines


def _syntax(exc: yaml.YAMLError) -> EngineYamlError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
    return EngineYamlError(
        where, f"not valid YAML: {problem}", "fix the file's syntax (indentation, ':' after each key, closed quotes and brackets)"
    )


# --- values as the engine hands them to the program ------------------------------------------


def _format_float(value: float, *, low: int, high: int) -> str:
    """Go's shortest float formatting: %f between 10^low and 10^high, else %e (exponent ≥ 2 digits)."""
    if value == 0:
        return "0"
    dec = Decimal(repr(value)).normalize()
    sign, digits, exponent = dec.as_tuple()
    assert isinstance(exponent, int)
    power = exponent + len(digits) - 1
    if low <= power < high:
        text = format(dec, "f")
        return text
    mantissa = "".join(map(str, digits))
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"


def go_json_float(value: float) -> str:
    """encoding/json's float64: %f for 1e-6 ≤ |x| < 1e21, else %e with e-07 tidied to e-7."""
    text = _format_float(value, low=-6, high=21)
    return re.sub(r"e-0(\d)$", r"e-\1", text)


class Verbatim(str):
    """Text written into the JSON as it is (launchplan's secret placeholders, never engine data)."""


def _go_json_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if isinstance(text, Verbatim):
        return encoded
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        encoded = encoded.replace(char, escape)
    return encoded


def go_json(value: Any) -> str:
    """encoding/json.Marshal of a structured config value: compact, keys sorted, HTML-escaped."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoUint):
        return go_json_float(float(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_json_float(value)
    if isinstance(value, GoTime):
        return _go_json_string(value.go_string())
    if isinstance(value, str):
        return _go_json_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_json_string(k)}:{go_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


def engine_string(value: Any) -> str:
    """config.Value.MarshalString: the string the program gets for one config key's value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return go_json_float(value)
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, str):
        return value
    return go_json(value)


def plain_data(value: Any) -> Any:
    """The Python value the program reads back from the engine's string (times become their text)."""
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, GoUint):
        return int(value)
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value


# --- writing stack files the engine reads back unchanged ------------------------------------


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting every string the engine would read as something else
    (`0o17`, `1e3`, `1_000`, a date, …): PyYAML only quotes what YAML 1.1 would misread."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    node = dumper.represent_scalar("tag:yaml.org,2002:str", text)
    try:
        plain_reads_back = isinstance(resolve("", text), str) and not parse_timestamp(text)
    except _TagMismatchError:
        plain_reads_back = False
    if not plain_reads_back and node.style is None:
        node.style = "'"
    return node


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Verbatim, _represent_str)


def dump_document(doc: Any, **options: Any) -> str:
    """YAML text of `doc` that the engine reads back as the same values."""
    return str(yaml.dump(doc, Dumper=_Dumper, **options))


def load_data(text: str) -> Any:
    """A YAML file as plain Python data the way the engine reads it (no dates, no YAML 1.1 booleans)."""
    doc, _ = load_document(text)
    return plain_data(doc)
