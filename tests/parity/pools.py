"""Tricky value pools and seeded record generators for the parity tests."""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import Any, Final

__all__ = [
    "ANY",
    "DATES",
    "NUMBERS",
    "ROW_COLUMNS",
    "STRINGS",
    "TABLE_KEYS",
    "draw_keyed_records",
    "draw_records",
    "has_int_beyond_64_bits",
]

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


def has_int_beyond_64_bits(value: Any) -> bool:
    """True if ``value`` holds (at any depth) an int outside [-2**63, 2**64), e.g. 10**20."""
    if isinstance(value, dict):
        return any(has_int_beyond_64_bits(v) for v in value.values())
    if isinstance(value, list):
        return any(has_int_beyond_64_bits(v) for v in value)
    return type(value) is int and not -(2**63) <= value < 2**64
