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


_CANONICAL_FIELDS: Final = {
    "Y": ("([0-9]{4})", ("Y",)),
    "m": ("([0-9]{2})", ("m",)),
    "d": ("([0-9]{2})", ("d",)),
    "H": ("([0-9]{2})", ("H",)),
    "M": ("([0-9]{2})", ("M",)),
    "S": ("([0-9]{2})", ("S",)),
    "z": ("(?:[+-]([0-9]{2}):?([0-9]{2})|Z)", ("zh", "zm")),
}
_LIMITS: Final = {"H": "23", "M": "59", "S": "59", "zh": "23", "zm": "59"}
_LAST_DAY: Final = {
    "01": "31", "02": "29", "03": "31", "04": "30", "05": "31", "06": "30",
    "07": "31", "08": "31", "09": "30", "10": "31", "11": "30", "12": "31",
}  # fmt: skip


def _canonical(fmt: str) -> Callable[[str], bool | None] | None:
    """strptime's verdict for strings of the format's canonical shape, else None.

    The shape is strict (ASCII digits, fixed widths, exact literals). Every string of
    that shape is also matched by strptime's own regex, field for field, provided no
    two numeric fields touch (then each field is the digits between two literals), so
    strptime's verdict on it is a range check: the date's (month, day, leap year, year
    0), the time's and the offset's (under 24 h). Any other string returns None and
    takes the exact path.
    """
    pieces: list[str] = []
    names: list[str] = []
    previous_numeric = False
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            i += 2
            if directive == "%":
                pieces.append("%")
                previous_numeric = False
                continue
            numeric = directive != "z"
            if numeric and previous_numeric:
                return None
            pattern, fields = _CANONICAL_FIELDS[directive]
            pieces.append(pattern)
            names.extend(fields)
            previous_numeric = numeric
            continue
        if char.isdigit() or char == "%":
            return None
        pieces.append(re.escape(char))
        previous_numeric = False
        i += 1
    match = re.compile("".join(pieces) + r"\Z").match
    year_at, month_at, day_at = names.index("Y"), names.index("m"), names.index("d")
    limits = tuple((names.index(n), limit) for n, limit in _LIMITS.items() if n in names)

    def verdict(value: str) -> bool | None:
        found = match(value)
        if found is None:
            return None
        fields = found.groups()
        year, month, day = fields[year_at], fields[month_at], fields[day_at]
        if year == "0000" or not "01" <= month <= "12" or not "01" <= day <= _LAST_DAY[month]:
            return False
        if month == "02" and day == "29":
            y = int(year)
            if y % 4 or (y % 100 == 0 and y % 400):
                return False
        for at, limit in limits:
            field = fields[at]
            if field is not None and field > limit:
                return False
        return True

    return verdict


def strptime_matcher(fmt: str) -> Callable[[Any], bool]:
    """A predicate equal to "``datetime.strptime(value, fmt)`` does not raise ValueError".

    Non-str values raise TypeError, as strptime does (GX turns that into an error).
    """
    directives = set(_DIRECTIVE.findall(fmt))
    if not directives <= _FAST_DIRECTIVES or not {"Y", "m", "d"} <= directives:
        return _slow(fmt)
    slow = _slow(fmt)
    try:
        regex = _strptime._TimeRE_cache.compile(fmt)  # noqa: SLF001 - strptime's own regex: the same parse
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
    canonical = _canonical(fmt)

    def matches(value: Any) -> bool:
        if type(value) is not str:
            return slow(value)  # raises TypeError for non-str, exactly as strptime
        if canonical is not None:
            shaped = canonical(value)
            if shaped is not None:
                return shaped
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
