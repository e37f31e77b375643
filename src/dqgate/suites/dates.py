"""Exact, fast ``datetime.strptime(value, fmt)`` success test for common formats.

``strptime`` spends most of its time after the regex match, building a struct_time.
For formats made only of ``%Y %m %d %H %M %S %z %%`` and literals, this module uses
CPython's own compiled format regex (so matching is identical, leniency included) and
then performs the same range checks strptime performs (``datetime(...)`` for the date,
the time and the year, ``timezone(...)`` for the offset). Every other format, and any
input this path is unsure of, goes to the real ``strptime``. The unit tests compare both
paths on generated inputs.
"""

from __future__ import annotations

import _strptime  # CPython's own strptime implementation: the regex it compiles
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Final

__all__ = ["strptime_matcher"]

_FAST_DIRECTIVES: Final = frozenset("YmdHMSz%")
_DIRECTIVE: Final = re.compile(r"%(.)")


def _slow(fmt: str) -> Callable[[Any], bool]:
    strptime = datetime.strptime

    def matches(value: Any) -> bool:
        try:
            strptime(value, fmt)
        except ValueError:
            return False
        return True

    return matches


def _offset_ok(z: str) -> bool:
    """strptime's %z conversion and timezone()'s range check; ValueError -> False."""
    if z == "Z":
        return True
    if z[3] == ":":
        z = z[:3] + z[4:]
        if len(z) > 5:
            if z[5] != ":":
                return False
            z = z[:5] + z[6:]
    seconds = int(z[1:3]) * 3600 + int(z[3:5]) * 60 + int(z[5:7] or 0)
    remainder = z[8:]
    fraction = int(remainder + "0" * (6 - len(remainder)))
    if z.startswith("-"):
        seconds, fraction = -seconds, -fraction
    try:
        timezone(timedelta(seconds=seconds, microseconds=fraction))
    except ValueError:
        return False
    return True


def strptime_matcher(fmt: str) -> Callable[[Any], bool]:
    """A predicate equal to "``datetime.strptime(value, fmt)`` does not raise ValueError".

    Non-str values raise TypeError, as strptime does (GX turns that into an error).
    """
    directives = set(_DIRECTIVE.findall(fmt))
    if not directives <= _FAST_DIRECTIVES or not {"Y", "m", "d"} <= directives:
        return _slow(fmt)
    slow = _slow(fmt)
    try:
        regex = _strptime._TimeRE_cache.compile(fmt)
    except (AttributeError, KeyError, IndexError, re.error):
        return slow
    match = regex.match
    names = tuple(n for n in ("Y", "m", "d", "H", "M", "S") if n in directives)
    if names not in (
        ("Y", "m", "d"),
        ("Y", "m", "d", "H"),
        ("Y", "m", "d", "H", "M"),
        ("Y", "m", "d", "H", "M", "S"),
    ):
        return slow  # datetime()'s positional order must match the groups
    has_offset = "z" in directives

    def matches(value: Any) -> bool:
        if type(value) is not str:
            return slow(value)  # raises TypeError for non-str, exactly as strptime
        found = match(value)
        if found is None or found.end() != len(value):
            return False
        try:
            datetime(*map(int, found.group(*names)))  # type: ignore[arg-type]
        except ValueError:
            return False
        if not has_offset:
            return True
        z: str = found.group("z")
        if len(z) == 6 and z[3] == ":":  # +HH:MM, the common case
            return int(z[1:3]) * 60 + int(z[4:6]) < 1440
        return _offset_ok(z)

    return matches
