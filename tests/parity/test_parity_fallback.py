"""Parity of the GX fallback (expectations dqgate runs in GX's engine) where GX raises.

Not a compiled type: a pandas pass-through row condition sends an expectation to the fallback.
For ``expect_column_values_to_be_of_type`` GX resolves ``table.column_types`` under the row
condition and lets a condition error escape ``validate`` instead of reporting it.
"""

from __future__ import annotations

from typing import Any

import pytest

from dqgate.suites import compile_suite

from .oracle import GXOracle

pytestmark = pytest.mark.parity

OF_TYPE_UNDER_PANDAS_CONDITION = {
    "type": "expect_column_values_to_be_of_type",
    "kwargs": {
        "column": "v",
        "type_": "str",
        "row_condition": 'v < "m"',
        "condition_parser": "pandas",
    },
    "meta": {"id": "t"},
}


def test_fallback_gives_an_error_verdict_where_gx_raises(gx_oracle: GXOracle) -> None:
    """A record GX cannot filter ({"k": 1} < "m") errors alone; the others keep GX's verdict."""
    records: list[dict[str, Any]] = [{"v": "a"}, {"v": {"k": 1}}, {"v": "z"}, {"v": 5}]
    gx = gx_oracle.oracle_verdicts([OF_TYPE_UNDER_PANDAS_CONDITION], records, ["v"])
    assert [gx[("t", i)] for i in range(4)] == ["pass", "error", "pass", "error"]
    suite = compile_suite({"name": "fallback", "expectations": [OF_TYPE_UNDER_PANDAS_CONDITION]})
    verdicts = suite.evaluate_many(records, windows=False)
    ours = [
        "error" if any(f.error for f in v.failures) else "fail" if v.failures else "pass"
        for v in verdicts
    ]
    assert ours == [gx[("t", i)] for i in range(4)]


IN_SET_UNDER_PANDAS_CONDITION = {
    "type": "expect_column_values_to_be_in_set",
    "kwargs": {
        "column": "w",
        "value_set": ["x"],
        "row_condition": "w == w",
        "condition_parser": "pandas",
    },
    "meta": {"id": "s"},
}


def _outcomes(verdicts: list[Any], key: str) -> list[str]:
    return [
        next(
            ("error" if f.error else "fail" for f in v.failures if f.expectation_id == key), "pass"
        )
        for v in verdicts
    ]


def test_a_raising_expectation_does_not_hide_its_neighbours_verdicts(
    gx_oracle: GXOracle,
) -> None:
    """When GX raises for the whole suite, the expectation that did not raise keeps its fails."""
    expectations = [OF_TYPE_UNDER_PANDAS_CONDITION, IN_SET_UNDER_PANDAS_CONDITION]
    records: list[dict[str, Any]] = [
        {"v": "a", "w": "x"},
        {"v": {"k": 1}, "w": "y"},
        {"v": "z", "w": "y"},
        {"v": 5, "w": "x"},
        {"v": "b", "w": None},
    ]
    gx = gx_oracle.oracle_verdicts(expectations, records, ["v", "w"])
    suite = compile_suite({"name": "fallback", "expectations": expectations})
    assert suite.modes["s"].mode.value == "fallback"
    verdicts = suite.evaluate_many(records, windows=False)
    for key in ("t", "s"):
        assert _outcomes(verdicts, key) == [gx[(key, i)] for i in range(len(records))], key
    assert _outcomes(verdicts, "s") == ["pass", "fail", "fail", "pass", "pass"]
