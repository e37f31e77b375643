"""Compiled row conditions select exactly the rows pandas' DataFrame.query selects."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dqgate.suites.conditions import compile_condition

COLUMNS = ["a", "b"]
VALUES = st.sampled_from(
    [None, float("nan"), 0, 1, 1.0, 2, True, False, "x", "1", "", [1], {"k": 1}, -5, 3.5]
)
RECORD = st.dictionaries(st.sampled_from(COLUMNS), VALUES, max_size=2)
PARAMS = st.sampled_from([1, 2, 0, "x", 1.5, True])
OPERATORS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "IN", "NOT_IN"])


def _condition_dict(column: str, op: str, param: Any) -> dict[str, Any]:
    if op in ("IN", "NOT_IN"):  # GX allows lists of one type among float, str, int
        param = 1 if isinstance(param, bool) else param
    parameter = [param] if op in ("IN", "NOT_IN") else param
    return {
        "type": "comparison",
        "column": {"name": column},
        "operator": op,
        "parameter": parameter,
    }


def _gx_condition(data: dict[str, Any]) -> Any:
    from great_expectations.expectations.row_conditions import deserialize_row_condition

    return deserialize_row_condition(data)


def _pandas_selects(record: dict[str, Any], condition: Any) -> bool | str:
    from great_expectations.execution_engine import PandasExecutionEngine

    frame = pd.DataFrame([record], columns=COLUMNS, dtype=object)
    query = PandasExecutionEngine().condition_to_filter_clause(condition)
    try:
        return len(frame.query(query)) == 1
    except Exception:  # noqa: BLE001 - any exception is the "error" outcome compared
        return "error"


def _ours(record: dict[str, Any], condition: Any) -> bool | str:
    try:
        return compile_condition(condition)(record)
    except Exception:  # noqa: BLE001 - any exception is the "error" outcome compared
        return "error"


@settings(max_examples=600, deadline=None)
@given(record=RECORD, column=st.sampled_from(COLUMNS), op=OPERATORS, param=PARAMS)
def test_comparison_matches_query(record: dict[str, Any], column: str, op: str, param: Any) -> None:
    """Comparisons (nulls, mixed types, IN/NOT_IN) agree with DataFrame.query, errors too."""
    condition = _gx_condition(_condition_dict(column, op, param))
    assert _ours(record, condition) == _pandas_selects(record, condition)


@settings(max_examples=300, deadline=None)
@given(
    record=RECORD,
    op1=OPERATORS,
    op2=OPERATORS,
    p1=PARAMS,
    p2=PARAMS,
    kind=st.sampled_from(["and", "or"]),
    null_column=st.sampled_from(COLUMNS),
    is_null=st.booleans(),
)
def test_combined_conditions_match_query(
    record: dict[str, Any],
    op1: str,
    op2: str,
    p1: Any,
    p2: Any,
    kind: str,
    null_column: str,
    is_null: bool,
) -> None:
    """and/or over comparisons and nullity agree with DataFrame.query."""
    parts = [
        _condition_dict("a", op1, p1),
        _condition_dict("b", op2, p2),
        {"type": "nullity", "column": {"name": null_column}, "is_null": is_null},
    ]
    condition = _gx_condition({"type": kind, "conditions": parts})
    assert _ours(record, condition) == _pandas_selects(record, condition)
