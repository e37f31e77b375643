"""Tricky value pools and seeded record generators for the parity tests."""

from __future__ import annotations

import copy
import math
import os
import random
from collections.abc import Sequence
from typing import Any, Final

__all__ = [
    "ANY",
    "BOUNDS",
    "CONTAINERS",
    "DATES",
    "GEN_COLUMNS",
    "GEN_TABLE_KEYS",
    "JSON_SCHEMAS",
    "JSON_TEXTS",
    "NOT_JSON_TEXTS",
    "NUMBERS",
    "PARITY_SEED",
    "REGEXES",
    "ROW_COLUMNS",
    "SET_VALUES",
    "SMALL",
    "STRFTIME_FORMATS",
    "STRINGS",
    "TABLE_KEYS",
    "TYPE_NAMES",
    "draw_gen_records",
    "draw_keyed_records",
    "draw_records",
    "draw_table_records",
    "has_int_beyond_64_bits",
]

PARITY_SEED: Final = int(os.environ.get("DQGATE_PARITY_SEED", "20240105"))
"""The seed of every draw in the parity suite (hypothesis and the seeded pools); printed with
every summary and mismatch report. Rerun a failure with ``DQGATE_PARITY_SEED=<seed>``."""

NULLS: Final[tuple[Any, ...]] = (None, math.nan)

NUMBERS: Final[tuple[Any, ...]] = (
    0, 1, 1.0, -1, -2.5, 0.5, 1.5, 2, 3, 5, 9.99, 10, 10.0, 11, 100, 123, 12345,
    2**53 + 1, 2**63, 10**20, -(10**20), 1e10, -0.0, 1e-9,
    math.inf, -math.inf, True, False,
    2**53, 10**10, 10**10 + 1, 0.1 + 0.2, 1e16, 1e-05, 1e308, 5e-324, 2**1000,
    10.000000000000002, 9.999999999999998,
)  # fmt: skip

STRINGS: Final[tuple[Any, ...]] = (
    "", " ", "  ", "0", "1", "1.0", "5", "10", "-3", "123", "abc", "ABC", "Abc", "ab", "a b",
    "aaaa", "a1", "abc123", "ab\nc", "abc\n", "\n", "é", "日本", "x@y.z", "None", "nan",
    "null", "True", "true", "1e10", "inf",
    "\t", "\r\n", "\u00a0", "\x00", "ß", "İ", "e\u0301", "😀", "Ⅻ", "\uff11\uff12\uff13",
    "٣", "abc ",
)  # fmt: skip

DATES: Final[tuple[Any, ...]] = (
    "2024-01-05", "2024-1-5", "05/01/2024", "5/1/2024", "2024-01-05T10:00:00Z",
    "2024-01-05T10:00:00+0000", "2024-01-05T10:00:00", "2024-01-05 10:00:00+00:00",
    "2024-01-05 10:00:00", "Jan 5 2024", "Jan 05 2024", "5 Jan 2024", "10", "1e10",
    "2024-13-01", "2024-02-30", "20240105", "2024/01/05", "10:00", "now", "2024-01-05\n",
    "\uff12\uff10\uff12\uff14-01-05",
    "2024-01-05 ", " 2024-01-05", "2024-01-05T25:00:00", "2024-02-29",
    "2023-02-29", "Thursday", "1/2/3", "99999999999999999999", "0", "2024-01-05T10:00:00+24:00",
    "2024-01-05T10:00:00+23:59", "2024-01-05T10:00:00-05:30", "2024-01-05T10:00:00.123Z",
    "12/31/2024", "31/12/2024", "0001-01-01", "9999-12-31",
)  # fmt: skip

CONTAINERS: Final[tuple[Any, ...]] = (
    [], [1, 2], ["a"], ["x", "y"], [None], [1.0], {}, {"k": "abc"}, {"a": 1},
    {"nested": {"x": [1]}}, [math.nan], {"k": "é"}, [[1]], {"k": None},
)  # fmt: skip

ANY: Final[tuple[Any, ...]] = NULLS + NUMBERS + STRINGS + DATES + CONTAINERS

ROW_POOLS: Final[dict[str, tuple[Any, ...]]] = {
    "any": ANY,  # everything: strings where numbers are expected and the reverse
    "num": NULLS + NUMBERS,  # numbers only, so numeric checks are not poisoned by strings
    "text": NULLS + STRINGS + DATES,  # strings only, so date checks are not poisoned
}
ROW_COLUMNS: Final[tuple[str, ...]] = tuple(ROW_POOLS)

TABLE_KEYS: Final[tuple[str, ...]] = ("a", "b", "c", "d", "extra")

_MISSING_RATE: Final = 0.08


def draw_records(rng: random.Random, n_records: int) -> list[dict[str, Any]]:
    """Records over ``ROW_COLUMNS``; each key is missing with probability 8%."""
    records = []
    for _ in range(n_records):
        record = {}
        for column, pool in ROW_POOLS.items():
            if rng.random() >= _MISSING_RATE:
                record[column] = copy.deepcopy(rng.choice(pool))
        records.append(record)
    return records


def draw_keyed_records(
    rng: random.Random, n_records: int, keys: Sequence[str] = TABLE_KEYS
) -> list[dict[str, Any]]:
    """Records whose key sets vary (each key present with probability 1/2), values from ``ANY``."""
    return [
        {k: copy.deepcopy(rng.choice(ANY)) for k in keys if rng.random() < 0.5}
        for _ in range(n_records)
    ]


# --- columns of the generated (hypothesis) tests ------------------------------------------

SMALL: Final[tuple[Any, ...]] = (
    0, 1, 2, 3, -1, 1.0, 2.0, 0.5, 1.5, 2.5, True, False, 10, -0.0, 2**53 + 1, 10**20,
)  # fmt: skip
"""Few, colliding numbers: equal pairs, sums that hit, repeats within a record."""

JSON_TEXTS: Final[tuple[Any, ...]] = (
    '{"a": 1}', '{"a": "x"}', '{"a": 1.5, "b": [1]}', "{}", "[]", "[1, 2]", '["x", 1]', "1",
    "-2.5", '"x"', '""', "null", "true", "NaN", "Infinity", "1e400", '  {"a": 2}  ', '{"b": 1}',
    '{"a": null}', '{"a": 10, "extra": true}', "[1, 2, 3, 4]", '"abcd"',
    '{"a": 1, "a": "x"}', "[1.0, 2]", "1.0", '{"b": "\\u00e9"}', '["x", [1], null, false]',
    '"a\\u00e9b1"', "-Infinity", '{"a": 1, "b": 2, "c": 3}', "10.0", '{"b": [true]}',
)  # fmt: skip
"""JSON documents as strings (``json.loads`` accepts each)."""

NOT_JSON_TEXTS: Final[tuple[Any, ...]] = ("{'a': 1}", "", '{"a": ', "abc", "[1,]")
"""Strings that are not JSON: a JSON-schema check errors on them (ERR-poison)."""

_MIXED_FOREIGN: Final[tuple[Any, ...]] = ("abc", "1", "", "2024-01-05", [1], {"k": 1}, [])
"""The rare non-numbers of the ``mixed`` column."""

GEN_COLUMNS: Final[dict[str, tuple[Any, ...]]] = {
    "num": NULLS + NUMBERS,
    "small": NULLS + SMALL,
    "small2": NULLS + SMALL,
    "text": NULLS + STRINGS + DATES,
    "json": NULLS + JSON_TEXTS,  # plus NOT_JSON_TEXTS, rarely
    "mixed": NULLS + SMALL + NUMBERS,  # plus _MIXED_FOREIGN, rarely
    "x y": ANY,  # every kind of value, under a name DataFrame.query must backtick
}
"""The columns of generated records and their value pools.

Values that make GX error for a whole batch are rare in the columns the generators pick for
the checks they poison (few distinct, so isolating the erroring rows stays cheap); the ``x y``
column and hand-drawn records bring every kind of value to every check.
"""

_RARE: Final[dict[str, tuple[tuple[Any, ...], float]]] = {
    "json": (NOT_JSON_TEXTS, 0.03),
    "mixed": (_MIXED_FOREIGN, 0.02),
}

GEN_TABLE_KEYS: Final[tuple[str, ...]] = ("a", "b", "c", "x y")


def draw_gen_records(
    rng: random.Random, n_records: int, *, missing_rate: float
) -> list[dict[str, Any]]:
    """Records over ``GEN_COLUMNS``; each key missing with ``missing_rate``."""
    pools = list(GEN_COLUMNS.items())
    records = []
    for _ in range(n_records):
        record = {}
        for column, pool in pools:
            if rng.random() < missing_rate:
                continue
            rare, rate = _RARE.get(column, ((), 0.0))
            if rare and rng.random() < rate:
                pool = rare
            record[column] = copy.deepcopy(rng.choice(pool))
        records.append(record)
    return records


def draw_table_records(rng: random.Random, n_records: int) -> list[dict[str, Any]]:
    """Records whose key sets vary; one in five has its keys in reverse order."""
    records = []
    for _ in range(n_records):
        keys = [k for k in GEN_TABLE_KEYS if rng.random() < 0.5]
        if rng.random() < 0.2:
            keys.reverse()
        records.append({k: copy.deepcopy(rng.choice(ANY)) for k in keys})
    return records


def has_int_beyond_64_bits(value: Any) -> bool:
    """True if ``value`` holds (at any depth) an int outside [-2**63, 2**64), e.g. 10**20."""
    if isinstance(value, dict):
        return any(has_int_beyond_64_bits(v) for v in value.values())
    if isinstance(value, list):
        return any(has_int_beyond_64_bits(v) for v in value)
    return type(value) is int and not -(2**63) <= value < 2**64


# --- kwargs of the generated expectation configs ------------------------------------------

BOUNDS: Final[tuple[Any, ...]] = (
    0, 1, 2, 3, 5, 10, -1, -2.5, 0.5, 1.5, 9.99, 100, 1e10, 2**53, -math.inf, math.inf,
)  # fmt: skip
SET_VALUES: Final[tuple[Any, ...]] = (
    *SMALL, None, "", "abc", "1", "2024-01-05", "é", "null", '{"a": 1}', "[]", 1e10, 5,
)  # fmt: skip
REGEXES: Final[tuple[str, ...]] = (
    r"^\d+$", r"abc$", r"^[a-z]+$", r"é|日", r"^1", r"\.", r"^$", r"(?i)^true$", r"^\s*$",
    r"'", r"^\w+$", r"(?m)^c$", r"abc\Z", r"(?a)^\d+$", r"^.$", r"^-?\d+\.\d+$", r"e",
    r"\n", r"[^\x00-\x7f]", r"^\[", r"(?i)none|nan", r"\.0$", r"^\{", r"\d{4}-\d{2}",
    r"(?s)^.*$", r"^(?!abc)", r"\bx\b", r"^[-+]?\d*\.?\d+(e[-+]?\d+)?$",
    r"^(a+)+$", r"^(\w+\s?)*$",
)  # fmt: skip
STRFTIME_FORMATS: Final[tuple[str, ...]] = (
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%H:%M", "%Y-%m-%dT%H:%M:%S%z", "%Y%m%d", "%Y",
    "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
    "%Y%%%m", "%b %d %Y", "%d %b %Y", "%A", "%y", "%j", "%Y-%m-%d %H:%M:%S",
)  # fmt: skip
TYPE_NAMES: Final[tuple[str, ...]] = (
    "int", "float", "str", "bool", "list", "dict", "long", "bytes", "complex", "object",
    "object_", "O", "int64", "int32", "float64", "bool_", "str_", "string_types", "none",
    "unicode", "datetime64",
)  # fmt: skip
JSON_SCHEMAS: Final[tuple[dict[str, Any], ...]] = (
    {},
    {"type": "object"},
    {"type": "array", "items": {"type": "number"}},
    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    {"type": "object", "properties": {"a": {"type": ["string", "null"]}}},
    {"type": "object", "additionalProperties": False, "properties": {"a": {}, "b": {}}},
    {"type": "string", "maxLength": 3},
    {"enum": [1, "x", None, True]},
    {"type": "number", "minimum": 0},
    {"type": "array", "minItems": 2, "maxItems": 3},
    {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^a"}]},
    {"not": {"type": "object"}},
    {"type": "integer", "exclusiveMaximum": 10, "minimum": -1.5},
    {"properties": {"a": {"const": 1}}, "additionalProperties": {"type": "string"}},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"type": "array", "items": {"enum": [1, "x", [1], None, False]}},
    {"type": "object", "minProperties": 1, "maxProperties": 2, "required": ["b"]},
    {"allOf": [{"type": ["number", "string"]}, {"not": {"enum": [0, ""]}}], "title": "t"},
    {"$schema": "http://json-schema.org/draft-07/schema#", "type": "string", "minLength": 2},
    {"type": "string", "pattern": "[0-9]$", "format": "date"},
)
