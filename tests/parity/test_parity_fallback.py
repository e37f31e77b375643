"""Parity of the GX fallback (expectations dqgate runs in GX's engine) where GX raises.

Not a compiled type: a pandas pass-through row condition sends an expectation to the fallback.
For ``expect_column_values_to_be_of_type`` GX resolves ``table.column_types`` under the row
condition and lets a condition error escape ``validate`` instead of reporting it.
"""

from __future__ import annotations

from typing import Any

import pytest
from great_expectations.exceptions.exceptions import MetricResolutionError

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


@pytest.mark.xfail(
    strict=True,
    raises=MetricResolutionError,
    reason=(
        "dqgate bug: GxEngine.validate (src/dqgate/suites/gx_engine.py) lets GX's "
        "MetricResolutionError escape, so CompiledSuite.evaluate_many raises instead of "
        "giving the record that makes GX raise an error verdict"
    ),
)
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
