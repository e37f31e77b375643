"""Column-pair, multicolumn, table column-count and JSON checks (GX 1.24, pandas, dtype=object).

Pair and multicolumn expectations first drop rows by ``ignore_row_if`` (``dropna`` with
``how="all"``/``"any"``), then evaluate pandas' object-dtype operators, which treat a null
as unequal and incomparable (``==``/``>`` give False) and raise TypeError for types
Python cannot order: those records get ERROR.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from functools import reduce
from operator import add
from typing import Any, Final

import jsonschema
import pandas as pd

from dqgate.errors import SuiteError
from dqgate.suites.checks import ERROR, FAIL, PASS, SKIP, CheckFn, CheckSpec, register_check
from dqgate.suites.checks import _column_map as column_map
from dqgate.suites.values import MISSING, is_null

__all__: list[str] = []

Record = Mapping[str, Any]
_PAIR_IGNORE: Final = ("both_values_are_missing", "either_value_is_missing", "neither")
_MULTI_IGNORE: Final = ("all_values_are_missing", "any_value_is_missing", "never")


class _NaN:
    """The one NaN that pandas' hash tables see: every NaN (and a missing key) is this."""

    __slots__ = ()


_NAN: Final = _NaN()


def _ignored(values: list[Any], mode: str) -> bool:
    if mode in ("neither", "never"):
        return False
    nulls = [is_null(v) for v in values]
    if mode in ("both_values_are_missing", "all_values_are_missing"):
        return all(nulls)
    return any(nulls)


def _check_ignore(e: Any, allowed: tuple[str, ...]) -> str:
    mode = str(e.ignore_row_if)
    if mode not in allowed:
        raise SuiteError(
            f"ignore_row_if {mode!r} is not valid here; use one of {', '.join(allowed)}",
            expectation_type=e.expectation_type,
        )
    return mode


def _rowwise(
    columns: tuple[str, ...], mode: str, condition: Callable[[list[Any]], bool]
) -> CheckFn:
    def check(record: Record) -> int:
        values = [record.get(c, MISSING) for c in columns]
        if _ignored(values, mode):
            return SKIP
        try:
            return PASS if condition(values) else FAIL
        except Exception:
            return ERROR

    return check


def _pair(e: Any) -> tuple[tuple[str, ...], str]:
    return (e.column_A, e.column_B), _check_ignore(e, _PAIR_IGNORE)


@register_check("expect_column_pair_values_to_be_equal")
def _pair_equal(e: Any) -> CheckSpec:
    columns, mode = _pair(e)

    def condition(values: list[Any]) -> bool:
        a, b = values
        return not (is_null(a) or is_null(b)) and bool(a == b)

    return CheckSpec(
        fn=_rowwise(columns, mode, condition), column=columns, fail_message="the two fields differ"
    )


@register_check("expect_column_pair_values_a_to_be_greater_than_b")
def _pair_greater(e: Any) -> CheckSpec:
    columns, mode = _pair(e)
    or_equal = bool(e.or_equal)

    def condition(values: list[Any]) -> bool:
        a, b = values
        if is_null(a) or is_null(b):
            return False
        return bool(a >= b) if or_equal else bool(a > b)

    return CheckSpec(
        fn=_rowwise(columns, mode, condition),
        column=columns,
        fail_message="A is not greater than B" + (" or equal" if or_equal else ""),
        error_message="the two fields cannot be compared (e.g. text and numbers)",
    )


def _pair_cell(value: Any) -> Any:
    """``None if pd.isnull(v) else v`` exactly as GX writes it (lists included)."""
    if value is MISSING:
        return None
    if type(value) in (str, int, bool, dict):
        return value
    return None if pd.isnull(value) else value


@register_check("expect_column_pair_values_to_be_in_set")
def _pair_in_set(e: Any) -> CheckSpec:
    columns, mode = _pair(e)
    if e.value_pairs_set is None:
        return CheckSpec(fn=lambda record: PASS, column=columns, fail_message="")
    try:
        allowed = {(x, y) for x, y in e.value_pairs_set}
    except (TypeError, ValueError) as exc:
        raise SuiteError(
            "value_pairs_set must be a list of [a, b] pairs of scalars",
            expectation_type=e.expectation_type,
        ) from exc

    def condition(values: list[Any]) -> bool:
        return (_pair_cell(values[0]), _pair_cell(values[1])) in allowed

    return CheckSpec(
        fn=_rowwise(columns, mode, condition),
        column=columns,
        fail_message=f"the pair is not one of the {len(allowed)} allowed pairs",
    )


def _column_list(e: Any) -> tuple[tuple[str, ...], str]:
    columns = tuple(e.column_list)
    if len(columns) < 2:
        raise SuiteError(
            "column_list needs at least two columns", expectation_type=e.expectation_type
        )
    return columns, _check_ignore(e, _MULTI_IGNORE)


@register_check("expect_multicolumn_sum_to_equal")
def _multi_sum(e: Any) -> CheckSpec:
    columns, mode = _column_list(e)
    total = e.sum_total

    def condition(values: list[Any]) -> bool:
        if any(is_null(v) for v in values):
            return False  # pandas nulls the row's sum when skipna=False
        result = reduce(add, values)
        return not is_null(result) and bool(result == total)

    return CheckSpec(
        fn=_rowwise(columns, mode, condition),
        column=columns,
        fail_message=f"the fields do not sum to {total:g}",
        error_message="the fields cannot be added (e.g. text and numbers)",
    )


@register_check("expect_multicolumn_values_to_be_equal")
def _multi_equal(e: Any) -> CheckSpec:
    columns, mode = _column_list(e)

    def condition(values: list[Any]) -> bool:
        reference = values[0]
        reference_null = is_null(reference)
        for value in values:
            value_null = is_null(value)
            if value_null and reference_null:
                continue
            if value_null or reference_null or not bool(value == reference):
                return False
        return True

    return CheckSpec(
        fn=_rowwise(columns, mode, condition),
        column=columns,
        fail_message="the fields are not all equal",
    )


def _hash_key(value: Any) -> Any:
    if value is MISSING or (type(value) is float and math.isnan(value)):
        return _NAN
    return value


@register_check("expect_select_column_values_to_be_unique_within_record")
def _unique_within(e: Any) -> CheckSpec:
    columns, mode = _column_list(e)
    count = len(columns)

    def condition(values: list[Any]) -> bool:
        return len({_hash_key(v) for v in values}) >= count

    return CheckSpec(
        fn=_rowwise(columns, mode, condition),
        column=columns,
        fail_message="some of the fields repeat a value",
        error_message="a field holds a list or object, which cannot be compared",
    )


# --- table column count (the record's own keys) -----------------------------------------


@register_check("expect_table_column_count_to_equal")
def _count_equal(e: Any) -> CheckSpec:
    expected = e.value
    return CheckSpec(
        fn=lambda record: PASS if len(record) == expected else FAIL,
        column=None,
        fail_message=f"the record does not have {expected} fields",
    )


@register_check("expect_table_column_count_to_be_between")
def _count_between(e: Any) -> CheckSpec:
    low, high = e.min_value, e.max_value

    def check(record: Record) -> int:
        n = len(record)
        if low is not None and n < low:
            return FAIL
        return FAIL if high is not None and n > high else PASS

    return CheckSpec(
        fn=check, column=None, fail_message=f"the number of fields is outside [{low}, {high}]"
    )


# --- JSON in a string field -------------------------------------------------------------


@register_check("expect_column_values_to_be_json_parseable")
def _json_parseable(e: Any) -> CheckSpec:
    def predicate(value: Any) -> bool:
        try:
            json.loads(value)
        except Exception:
            return False
        return True

    return CheckSpec(
        fn=column_map(e.column, predicate),
        column=e.column,
        fail_message="value is not a JSON document",
    )


@register_check("expect_column_values_to_match_json_schema")
def _json_schema(e: Any) -> CheckSpec:
    schema = e.json_schema
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SuiteError(
            f"json_schema is not a valid JSON Schema: {exc.message}",
            expectation_type=e.expectation_type,
        ) from exc
    validator = validator_class(schema)

    def predicate(value: Any) -> bool:
        document = json.loads(value)  # decode errors and non-str raise: GX errors too
        return bool(validator.is_valid(document))

    return CheckSpec(
        fn=column_map(e.column, predicate),
        column=e.column,
        fail_message="value does not match the JSON schema",
        error_message="value is not a JSON string, so it cannot be checked",
    )
