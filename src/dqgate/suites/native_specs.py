"""The native backend of each compiled type: a GX expectation as the native decider takes it.

A spec is ``(kind, columns, params)``; ``native/src/checks.rs`` reads it. Values the decider
compares with (set members, bounds, condition parameters) are encoded as scalars:
``("i", int)`` (within 128 bits), ``("f", float)``, ``("s", str)``, ``("z", None)`` (null),
``("nan", None)``, ``("o", None)`` (a value no JSON value compares with, e.g. a date bound).
An integer no JSON value the decider reads can equal is dropped from a set (it decides only
64-bit integers and floats); a string that cannot be UTF-8 (a lone surrogate) likewise.
A configuration the decider cannot express raises :class:`NoNativeForm` with the reason.
"""

from __future__ import annotations

import _strptime  # CPython's strptime: the format regex the Python path relies on
import datetime
import math
import re
from collections.abc import Iterable
from typing import Any, Final

from dqgate.suites.checks import PASS, accepted_types
from dqgate.suites.dates import _DIRECTIVE, _FAST_DIRECTIVES, _canonical
from dqgate.suites.multi import MULTI_IGNORE, PAIR_IGNORE
from dqgate.suites.native_regex import translate
from dqgate.suites.registry import NativeSpec, NoNativeForm

__all__ = [
    "Scalar",
    "be_null",
    "between",
    "column_exists",
    "columns_match_set",
    "condition",
    "count_between",
    "count_equal",
    "dateutil",
    "in_set",
    "in_type_list",
    "json_parseable",
    "json_schema",
    "lengths_between",
    "lengths_equal",
    "match_regex",
    "match_regex_list",
    "multi_equal",
    "multi_sum",
    "not_in_set",
    "not_match_regex",
    "not_match_regex_list",
    "not_null",
    "of_type",
    "pair_equal",
    "pair_greater",
    "pair_in_set",
    "scalar",
    "strftime",
    "unique_within",
]

Scalar = tuple[str, object]
_I128: Final = 2**127
_DATE_NAMES: Final = (
    ("Y", "m", "d"),
    ("Y", "m", "d", "H"),
    ("Y", "m", "d", "H", "M"),
    ("Y", "m", "d", "H", "M", "S"),
)
_TYPE_SAMPLES: Final[tuple[object, ...]] = (True, 1, 1.5, "s", [], {})
"""One value of each JSON kind the decider tells apart: bool, int, float, str, list, dict."""


def _column(gx: Any) -> str:
    column = getattr(gx, "column", None)
    if type(column) is not str:
        raise NoNativeForm("the column is not a string")
    return column


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scalar(value: Any, *, nan: bool = False) -> Scalar | None:
    """A value the decider compares with; None when no JSON value it reads can equal it."""
    if value is None:
        return ("z", None)
    kind = type(value)
    if kind is bool:
        return ("i", int(value))
    if kind is int:
        if -_I128 <= value < _I128:
            return ("i", value)
        try:
            as_float = float(value)
        except OverflowError:
            return None
        return ("f", as_float) if as_float == value else None
    if kind is float:
        if math.isnan(value):
            if nan:
                return ("nan", None)
            raise NoNativeForm("a NaN parameter")
        return ("f", value)
    if kind is str:
        return ("s", value) if _utf8(value) else None
    if isinstance(value, datetime.date):
        return ("o", None)
    raise NoNativeForm(f"a value of type {kind.__name__}")


def _members(values: Iterable[Any]) -> list[Scalar]:
    return [s for s in (scalar(v, nan=True) for v in values if v is not None) if s is not None]


# --- column maps ----------------------------------------------------------------------------


def not_null(gx: Any) -> NativeSpec:
    return ("not_null", (_column(gx),), None)


def be_null(gx: Any) -> NativeSpec:
    return ("be_null", (_column(gx),), None)


def _set(gx: Any, *, negate: bool) -> NativeSpec:
    column = _column(gx)
    if gx.value_set is None:
        return ("const", (column,), PASS)
    return ("in_set", (column,), (_members(gx.value_set), negate))


def in_set(gx: Any) -> NativeSpec:
    return _set(gx, negate=False)


def not_in_set(gx: Any) -> NativeSpec:
    return _set(gx, negate=True)


def _bound(value: Any) -> Scalar | None:
    if value is None:
        return None
    found = scalar(value)
    if found is None or found[0] == "z":
        raise NoNativeForm("a bound beyond 128-bit integers")
    return found


def between(gx: Any) -> NativeSpec:
    bounds = (_bound(gx.min_value), _bound(gx.max_value))
    return ("between", (_column(gx),), (*bounds, bool(gx.strict_min), bool(gx.strict_max)))


def _length_bound(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        raise NoNativeForm("a NaN length")
    return number


def lengths_between(gx: Any) -> NativeSpec:
    low, high = _length_bound(gx.min_value), _length_bound(gx.max_value)
    return ("length", (_column(gx),), (low, high, bool(gx.strict_min), bool(gx.strict_max)))


def lengths_equal(gx: Any) -> NativeSpec:
    value = _length_bound(gx.value)
    return ("length", (_column(gx),), (value, value, False, False))


def _patterns(patterns: Iterable[str]) -> list[tuple[str, bool, int]]:
    return [(p.source, p.ascii_only, p.newline) for p in map(translate, patterns)]


def match_regex(gx: Any) -> NativeSpec:
    return ("regex", (_column(gx),), (_patterns([gx.regex]), False, False))


def not_match_regex(gx: Any) -> NativeSpec:
    return ("regex", (_column(gx),), (_patterns([gx.regex]), False, True))


def match_regex_list(gx: Any) -> NativeSpec:
    return ("regex", (_column(gx),), (_patterns(gx.regex_list), gx.match_on == "all", False))


def not_match_regex_list(gx: Any) -> NativeSpec:
    return ("regex", (_column(gx),), (_patterns(gx.regex_list), False, True))


def _strftime_supported(fmt: str) -> bool:
    """True when :func:`dqgate.suites.dates.strptime_matcher` uses ``_canonical`` for ``fmt``."""
    if not fmt.isascii():
        return False
    directives = set(_DIRECTIVE.findall(fmt))
    if not directives <= _FAST_DIRECTIVES or not {"Y", "m", "d"} <= directives:
        return False
    try:
        _strptime._TimeRE_cache.compile(fmt)  # noqa: SLF001 - strptime's own regex: the same parse
    except (AttributeError, KeyError, IndexError, re.error):
        return False
    names = tuple(n for n in ("Y", "m", "d", "H", "M", "S") if n in directives)
    return names in _DATE_NAMES and _canonical(fmt) is not None


def strftime(gx: Any) -> NativeSpec:
    fmt = gx.strftime_format
    if type(fmt) is not str or not _strftime_supported(fmt):
        raise NoNativeForm(
            f"strftime format {fmt!r} has no canonical shape (only %Y %m %d %H %M %S %z, "
            "digits apart)"
        )
    return ("strftime", (_column(gx),), fmt)


def dateutil(gx: Any) -> NativeSpec:
    return ("dateutil", (_column(gx),), None)


def json_parseable(gx: Any) -> NativeSpec:
    return ("json", (_column(gx),), None)


_DRAFTS: Final = frozenset(
    {
        "http://json-schema.org/draft-06/schema",
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    }
)
"""Drafts whose keywords the native subset reads alike (draft 4's exclusive bounds differ)."""
_ANNOTATIONS: Final = frozenset(
    {
        "title", "description", "default", "examples", "$comment", "$schema", "$id",
        "deprecated", "readOnly", "writeOnly", "format", "$defs", "definitions",
        "contentMediaType", "contentEncoding", "contentSchema",
    }
)  # fmt: skip
"""Keywords that never fail a value here (``format`` too: GX gives no format checker)."""
_JSON_TYPES: Final = ("null", "boolean", "integer", "number", "string", "array", "object")
_COUNTS: Final = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
)
_BOUNDS: Final = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


def _json_value(value: Any) -> Any:
    """A schema value (enum member, const) the decider can hold exactly, or NoNativeForm."""
    kind = type(value)
    if value is None or kind in (bool, float) or (kind is str and _utf8(value)):
        return value
    if kind is int and -_I128 <= value < _I128:
        return value
    if kind is list:
        return [_json_value(v) for v in value]
    if kind is dict and all(type(k) is str and _utf8(k) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    raise NoNativeForm("a schema value the decider cannot hold")


def _schema(node: Any) -> tuple[str, Any]:
    """A JSON Schema in the decider's subset: ("bool", b) or ("rules", [(keyword, arg)])."""
    if type(node) is bool:
        return ("bool", node)
    if type(node) is not dict:
        raise NoNativeForm("a schema that is not an object")
    rules: list[tuple[str, Any]] = []
    if "properties" in node or "additionalProperties" in node:
        named = node.get("properties", {})
        extra = node.get("additionalProperties")
        rules.append(
            (
                "properties",
                (
                    [(str(k), _schema(v)) for k, v in named.items()],
                    None if extra is None else _schema(extra),
                ),
            )
        )
    for key, value in node.items():
        if key in _ANNOTATIONS or key in ("properties", "additionalProperties"):
            continue
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            rules.append(("type", sum(1 << _JSON_TYPES.index(n) for n in names)))
        elif key == "enum":
            rules.append(("enum", [_json_value(v) for v in value]))
        elif key == "const":
            rules.append(("const", _json_value(value)))
        elif key in _BOUNDS:
            if type(value) not in (int, float) or (type(value) is int and abs(value) >= _I128):
                raise NoNativeForm(f"a {key} that is not a number")
            rules.append((key, value))
        elif key in _COUNTS:
            rules.append((key, float(value)))
        elif key == "required":
            rules.append(("required", [str(n) for n in value]))
        elif key == "items" and type(value) in (bool, dict):
            rules.append(("items", _schema(value)))
        elif key in ("allOf", "anyOf", "oneOf"):
            rules.append((key, [_schema(s) for s in value]))
        elif key == "not":
            rules.append(("not", _schema(value)))
        elif key == "pattern":
            found = translate(value)
            rules.append(("pattern", (found.source, found.ascii_only, found.newline)))
        else:
            raise NoNativeForm(f"the JSON Schema keyword {key!r}")
    return ("rules", rules)


def json_schema(gx: Any) -> NativeSpec:
    """Non-strings are errors; strings are validated natively when the schema is in the subset
    (types, enum, const, bounds, lengths, required, properties, items, allOf/anyOf/oneOf/not,
    pattern), else by jsonschema in Python."""
    schema = gx.json_schema
    draft = schema.get("$schema") if isinstance(schema, dict) else None
    spec: tuple[str, Any] | None
    try:
        if draft is not None and str(draft).rstrip("#") not in _DRAFTS:
            raise NoNativeForm(f"the schema draft {draft!r}")
        spec = _schema(schema)
    except (NoNativeForm, ValueError, TypeError):
        spec = None  # strings go to jsonschema in Python; non-strings are still decided
    return ("json_schema", (_column(gx),), spec)


def _type_mask(names: list[str]) -> int:
    accepted = accepted_types(names)
    return sum(1 << i for i, sample in enumerate(_TYPE_SAMPLES) if isinstance(sample, accepted))


def of_type(gx: Any) -> NativeSpec:
    if gx.type_ in ("object", "object_", "O"):
        return ("const", (_column(gx),), PASS)
    return ("of_type", (_column(gx),), _type_mask([gx.type_]))


def in_type_list(gx: Any) -> NativeSpec:
    if gx.type_list is None:
        return ("const", (_column(gx),), PASS)
    return ("of_type", (_column(gx),), _type_mask(list(gx.type_list)))


# --- table level ----------------------------------------------------------------------------


def column_exists(gx: Any) -> NativeSpec:
    index = gx.column_index
    return ("exists", (_column(gx),), int(index) if index else None)


def columns_match_set(gx: Any) -> NativeSpec:
    names = tuple(dict.fromkeys(gx.column_set)) if gx.column_set is not None else ()
    if not all(type(n) is str and _utf8(n) for n in names):
        raise NoNativeForm("a column name that is not UTF-8 text")
    return ("match_set", names, bool(gx.exact_match))


def _count_bound(value: Any) -> float | None:
    return None if value is None else _length_bound(value)


def count_equal(gx: Any) -> NativeSpec:
    value = _count_bound(gx.value)
    if value is None:
        raise NoNativeForm("no column count")
    return ("count", (), (value, value))


def count_between(gx: Any) -> NativeSpec:
    return ("count", (), (_count_bound(gx.min_value), _count_bound(gx.max_value)))


# --- pairs and multicolumn -----------------------------------------------------------------


def _pair(gx: Any) -> tuple[tuple[str, str], int]:
    columns = (gx.column_A, gx.column_B)
    if not all(type(c) is str for c in columns):
        raise NoNativeForm("a column that is not a string")
    return columns, PAIR_IGNORE.index(str(gx.ignore_row_if))


def _multi(gx: Any) -> tuple[tuple[str, ...], int]:
    columns = tuple(gx.column_list)
    if not all(type(c) is str for c in columns):
        raise NoNativeForm("a column that is not a string")
    return columns, MULTI_IGNORE.index(str(gx.ignore_row_if))


def pair_equal(gx: Any) -> NativeSpec:
    columns, ignore = _pair(gx)
    return ("pair_equal", columns, ignore)


def pair_greater(gx: Any) -> NativeSpec:
    columns, ignore = _pair(gx)
    return ("pair_greater", columns, (ignore, bool(gx.or_equal)))


def pair_in_set(gx: Any) -> NativeSpec:
    columns, ignore = _pair(gx)
    if gx.value_pairs_set is None:
        return ("const", columns, PASS)
    pairs = []
    for a, b in gx.value_pairs_set:
        left, right = scalar(a, nan=True), scalar(b, nan=True)
        if left is not None and right is not None:
            pairs.append((left, right))
    return ("pair_in_set", columns, (ignore, pairs))


def multi_sum(gx: Any) -> NativeSpec:
    columns, ignore = _multi(gx)
    total = scalar(gx.sum_total, nan=True)
    if total is None or total[0] not in ("i", "f", "nan"):
        raise NoNativeForm("a sum_total that is not a number")
    return ("multi_sum", columns, (ignore, total))


def multi_equal(gx: Any) -> NativeSpec:
    columns, ignore = _multi(gx)
    return ("multi_equal", columns, ignore)


def unique_within(gx: Any) -> NativeSpec:
    columns, ignore = _multi(gx)
    return ("unique", columns, ignore)


# --- row conditions -------------------------------------------------------------------------

_ORDERING: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})


def condition(cond: Any) -> tuple[Any, ...]:
    """A GX structured row condition (comparison, nullity, and, or) for the decider."""
    kind = getattr(cond, "type", None)
    if kind == "comparison":
        column = str(cond.column.name)
        op = str(cond.operator)
        if op in ("IN", "NOT_IN"):
            return ("in", column, op == "NOT_IN", _members_with_null(cond.parameter))
        if op not in _ORDERING:
            raise NoNativeForm(f"the condition operator {op}")
        param = scalar(cond.parameter)
        if param is None:
            raise NoNativeForm("a condition parameter beyond 128-bit integers")
        return ("cmp", column, op, param)
    if kind == "nullity":
        return ("null", str(cond.column.name), bool(cond.is_null))
    if kind in ("and", "or"):
        return (kind, [condition(c) for c in cond.conditions])
    raise NoNativeForm(f"a row condition of type {kind!r}")


def _members_with_null(values: Iterable[Any]) -> list[Scalar]:
    """Members of IN / NOT_IN: None and NaN included (pandas isin matches them)."""
    return [s for s in (scalar(v, nan=True) for v in values) if s is not None]
