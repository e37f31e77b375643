"""Fuzz inputs: hostile records as raw bytes and as Python mappings, fast and seeded.

:class:`InputFactory` mixes three kinds, each input a *record* given to
``CompiledSuite.evaluate`` / ``evaluate_many``:

- well-formed JSON objects whose values are drawn from :data:`NASTY` (they pass the
  decoder and reach every check with awkward values);
- mutations of those bytes (bit flips, cuts, splices, inserted JSON tokens, invalid
  UTF-8, nesting): the decoder's side;
- Python mappings holding values JSON cannot carry (NaN, bytes, sets, objects whose
  ``__eq__``/``__hash__``/``__str__`` raise, mapping subclasses).

Every string value embeds :data:`MARKER` sometimes, so a verdict that quoted a record
value would be caught. Nesting stays below 100 levels; deep nesting has its own test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Final

import orjson

from .suites import COLUMNS

__all__ = ["MARKER", "NASTY", "InputFactory", "RaisingMapping"]

MARKER: Final = "QZXV-record-value-7Y3K"
"""A distinctive value: no verdict, failure message or header may ever contain it."""

NASTY: Final[tuple[Any, ...]] = (
    None, True, False, 0, 1, -1, 2, 3, 4, 10, 2.5, -0.0, 0.1, 1e308, -1e308, 5e-324,
    2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, -(10**40),
    "", " ", "x", "y", "z", "a", "abc", "ABC ", "é", "日本", "\x00", "\u2028", "\ufeff",
    "\ud800", "\udfff", "0", "1", "-1", "1.5", "1e5", "NaN", "Infinity", "null", "true",
    "2024-01-05", "2024-01-05T10:11:12+00:00", "2024-13-45T99:99:99+99:99", "05/03/2024",
    "1900-01-01", "0001-01-01", "9999-12-31T23:59:59-23:59", "2024-02-30", "tomorrow",
    '{"a": 1}', '{"a": 1, "b": null}', '{"a": "x"}', "[1, 2]", "[", "{", '"', "\\",
    "%Y-%m-%d", "(?i)", "a" * 300, "9" * 400, "\u00e9" * 50, "x\ny", "\t", "👍",
    [], [1], [None], ["x", "y"], [[[]]], {}, {"a": 1}, {"k": [1, {"z": None}]},
)  # fmt: skip

_TOKENS: Final[tuple[bytes, ...]] = (
    b"NaN", b"Infinity", b"-Infinity", b"-0", b"1e999", b"-1e999", b"1E+2", b"0x10", b"01",
    b"\\ud800", b"\\udc00", b"\\u0000", b'\\"', b"null", b"true", b"false", b"[]", b"{}",
    b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"\xff", b"\xc3", b"\xc3\xa9",
    b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\xf4\x90\x80\x80", b"\x00", b" ", b"\n",
    b"99999999999999999999999999999", b'"a":1', b'"s":"x"', b"//", b"/*",
)  # fmt: skip


class _Hostile:
    """A value whose comparisons, hash, str and len all raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("lt")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __len__(self) -> int:
        raise RuntimeError("len")


class _OddStr(str):
    """A str subclass (checks must not rely on ``type(v) is str`` alone being safe)."""


class RaisingMapping(Mapping[str, Any]):
    """A mapping that fails when read: a broken record object must not crash the gate."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("getitem")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("iter")

    def __len__(self) -> int:
        return 3


_PYTHON_ONLY: Final[tuple[Any, ...]] = (
    math.nan, math.inf, -math.inf, Decimal("1.5"), Decimal("NaN"), dt.date(2024, 1, 5),
    dt.datetime(2024, 1, 5, tzinfo=dt.UTC), b"bytes", bytearray(b"x"), (1, 2), {1, 2},
    frozenset({"x"}), 1 + 2j, object(), _Hostile(), _OddStr("x"), range(3), [_Hostile()],
    {"k": _Hostile()}, True, 10**5000,
)  # fmt: skip


class InputFactory:
    """Seeded stream of fuzz inputs (bytes or mappings)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._seeds: list[bytes] = [self._encode(self.record()) for _ in range(64)]

    def value(self, depth: int = 0) -> Any:
        """A JSON value: mostly from NASTY, sometimes nested, sometimes carrying MARKER."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return f"{rng.choice(('', 'x', '2024-01-05'))}{MARKER}"
        if roll < 0.14 and depth < 4:
            return [self.value(depth + 1) for _ in range(rng.randrange(4))]
        if roll < 0.18 and depth < 4:
            return {rng.choice(COLUMNS): self.value(depth + 1) for _ in range(rng.randrange(3))}
        if roll < 0.3:
            return rng.uniform(-1e6, 1e6) if rng.random() < 0.5 else rng.randrange(-100, 100)
        return rng.choice(NASTY)

    def record(self) -> dict[str, Any]:
        """A record over COLUMNS (some missing, sometimes extra keys)."""
        rng = self.rng
        record = {c: self.value() for c in COLUMNS if rng.random() < 0.8}
        if rng.random() < 0.2:
            record[rng.choice(("extra", MARKER, "", "é"))] = self.value()
        return record

    def python_record(self) -> Mapping[str, Any]:
        """A mapping with values JSON cannot hold (or a mapping that breaks when read)."""
        rng = self.rng
        if rng.random() < 0.02:
            return RaisingMapping()
        record: dict[Any, Any] = self.record()
        for column in rng.sample(COLUMNS, rng.randrange(1, 4)):
            record[column] = rng.choice(_PYTHON_ONLY)
        if rng.random() < 0.05:
            record[rng.choice((1, None, (1, 2)))] = "non-string key"
        return record

    def raw(self) -> bytes:
        """Bytes: a well-formed record, or a mutation of one."""
        rng = self.rng
        if rng.random() < 0.45:
            data = self._encode(self.record())
            if rng.random() < 0.05:
                self._seeds[rng.randrange(len(self._seeds))] = data
            return data
        data = bytearray(rng.choice(self._seeds))
        for _ in range(rng.randrange(1, 4)):
            self._mutate(data)
        return bytes(data)

    def inputs(
        self, count: int, *, python_share: float = 0.15
    ) -> Iterator[bytes | Mapping[str, Any]]:
        """``count`` inputs: raw bytes, and mappings with probability ``python_share``."""
        for _ in range(count):
            yield self.python_record() if self.rng.random() < python_share else self.raw()

    def _encode(self, record: dict[str, Any]) -> bytes:
        try:
            if self.rng.random() < 0.5:
                return orjson.dumps(record)
        except (orjson.JSONEncodeError, TypeError):
            pass
        # The standard library also writes big integers, surrogates and ASCII escapes.
        ensure_ascii = self.rng.random() < 0.5
        return json.dumps(record, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")

    def _mutate(self, data: bytearray) -> None:
        rng = self.rng
        size = len(data)
        kind = rng.randrange(9)
        at = rng.randrange(size + 1)
        if kind == 0 and size:
            data[min(at, size - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1 and size:
            data[min(at, size - 1)] = rng.randrange(256)
        elif kind == 2:
            data[at:at] = rng.choice(_TOKENS)
        elif kind == 3 and size:
            del data[at : at + rng.randrange(1, 8)]
        elif kind == 4:
            del data[at:]
        elif kind == 5:
            other = rng.choice(self._seeds)
            cut = rng.randrange(len(other) + 1)
            data[at:] = other[cut:]
        elif kind == 6:
            depth = rng.randrange(1, 90)
            data[:] = b'{"a":' + b"[" * depth + bytes(data) + b"]" * depth + b"}"
        elif kind == 7:
            data[at:at] = bytes(data[at : at + rng.randrange(1, 16)])
        else:
            data[:] = rng.choice(
                (b"", b"{}", b"[]", b"null", b"1", b'"x"', b" {} ", b"\xef\xbb\xbf{}")
            )
