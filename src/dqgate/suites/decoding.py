"""Raw bytes to a record exactly as GX would see it: orjson, with the standard library where
orjson would change a value (integers beyond 64 bits) or refuses what JSON allows."""

from __future__ import annotations

import json
from typing import Any, Final

import orjson

__all__ = ["UNDECODABLE", "loads"]

UNDECODABLE: Final = object()
"""What :func:`loads` returns for bytes that are not JSON (or not UTF-8)."""
_HUGE: Final = 9.2e18  # just under 2**63


def _has_huge_float(value: Any) -> bool:
    """True if a float of magnitude >= 2**63 appears anywhere in the decoded value.

    orjson turns integers beyond 64 bits into such floats without a word; those records
    are decoded again by the standard library, which keeps the integers exact (a real
    float that large is decoded the same by both, only more slowly). The walk uses an
    explicit stack: orjson accepts 1,024 levels of nesting, deeper than Python's stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item >= _HUGE or item <= -_HUGE:
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _loads_slow(raw: bytes | bytearray | memoryview) -> Any:
    """Standard-library JSON for what orjson refuses but JSON allows (integers over 64 bits)."""
    try:
        return json.loads(bytes(raw).decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return UNDECODABLE


def loads(raw: bytes | bytearray | memoryview) -> Any:
    """The decoded JSON value of ``raw``, or :data:`UNDECODABLE`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _loads_slow(raw)
    if _has_huge_float(value):
        return _loads_slow(raw)
    return value
