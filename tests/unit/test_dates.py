"""The fast strftime matcher agrees with datetime.strptime on every input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqgate.suites.dates import strptime_matcher

FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y",
    "%Y%m%d",
    "%Y-%m-%d %M",  # minutes without hours: must not be read as hours
    "%y-%m-%d",  # not on the fast path
]


def _strptime_ok(value: Any, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


_PIECES = st.sampled_from(
    [
        "2024",
        "1900",
        "0000",
        "85",
        "-",
        "/",
        "T",
        " ",
        ":",
        "0",
        "1",
        "2",
        "9",
        "12",
        "13",
        "29",
        "30",
        "31",
        "02",
        "60",
        "+00:00",
        "+0000",
        "Z",
        "z",
        "-05:30",
        "+24:00",
        "+23:59",
        "+01:00:30",
        "+01:0030",
        "+01:00:30.5",
        "\n",
        "٢",
        "\u00a0",
        "  ",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(fmt=st.sampled_from(FORMATS), pieces=st.lists(_PIECES, max_size=12))
def test_matcher_equals_strptime_on_generated_strings(fmt: str, pieces: list[str]) -> None:
    """For generated near-date strings, the matcher's answer is strptime's."""
    value = "".join(pieces)
    assert strptime_matcher(fmt)(value) == _strptime_ok(value, fmt), (fmt, value)


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("%Y-%m-%d", "2024-1-5", True),
        ("%Y-%m-%d", "2023-02-29", False),
        ("%Y-%m-%d", "2024-02-29", True),
        ("%Y-%m-%d", "0000-01-01", False),
        ("%Y-%m-%d", "85-07-12", False),
        ("%Y-%m-%d", "2024-01-05\n", False),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05T14:22:11Z", True),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05T14:22:60+00:00", False),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05T14:22:11+24:00", False),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05 14:22:11", False),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-05t14:22:11+0100", True),
    ],
)
def test_known_cases(fmt: str, value: str, expected: bool) -> None:
    """Leniency and strictness cases from the GX notes behave as strptime does."""
    assert strptime_matcher(fmt)(value) is expected
    assert _strptime_ok(value, fmt) is expected


@pytest.mark.parametrize("value", [5, 1.5, None, ["2024-01-01"], {"d": 1}, True])
def test_non_strings_raise_type_error(value: Any) -> None:
    """Non-str values raise TypeError like strptime (GX reports an error for them)."""
    with pytest.raises(TypeError):
        strptime_matcher("%Y-%m-%d")(value)


_SHAPED_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y %H:%M", "%Y-%m-%d %H%z"]
_DIGITS2 = st.sampled_from(
    [
        "00",
        "01",
        "02",
        "09",
        "12",
        "13",
        "23",
        "24",
        "28",
        "29",
        "30",
        "31",
        "32",
        "59",
        "60",
        "61",
        "99",
    ]
)
_YEARS = st.sampled_from(["0000", "0001", "1900", "2000", "2023", "2024", "2100", "9999"])
_OFFSETS = st.sampled_from(
    ["Z", "+00:00", "-05:30", "+2359", "+23:59", "+24:00", "-99:00", "+01:60", "z"]
)


@st.composite
def _shaped(draw: st.DrawFn) -> tuple[str, str]:
    fmt = draw(st.sampled_from(_SHAPED_FORMATS))
    out = fmt
    for directive in ("%Y", "%m", "%d", "%H", "%M", "%S", "%z"):
        while directive in out:
            part = {"%Y": _YEARS, "%z": _OFFSETS}.get(directive, _DIGITS2)
            out = out.replace(directive, draw(part), 1)
    return fmt, out


@settings(max_examples=3000, deadline=None)
@given(case=_shaped())
def test_matcher_equals_strptime_on_canonically_shaped_strings(case: tuple[str, str]) -> None:
    """Strings of the exact shape (the fast path), in and out of range, agree with strptime."""
    fmt, value = case
    assert strptime_matcher(fmt)(value) == _strptime_ok(value, fmt), (fmt, value)
