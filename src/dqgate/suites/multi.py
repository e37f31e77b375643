"""Python backend of the column-pair, multicolumn, table column-count and JSON checks.

GX 1.24's pandas semantics under ``dtype=object`` framing (registered in
:mod:`dqgate.suites.catalog`; the ``validate_*`` functions are the types' kwargs rules).

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
from dqgate.suites.checks import ERROR, FAIL, PASS, SKIP, CheckFn, column_map
from dqgate.suites.regexes import searcher
from dqgate.suites.registry import CheckOptions, CheckSpec
from dqgate.suites.values import MISSING, is_null

__all__ = [
    "MULTI_IGNORE",
    "PAIR_IGNORE",
    "build_count_between",
    "build_count_equal",
    "build_json_parseable",
    "build_json_schema",
    "build_multi_equal",
    "build_multi_sum",
    "build_pair_equal",
    "build_pair_greater",
    "build_pair_in_set",
    "build_unique_within",
    "validate_column_list",
    "validate_json_schema",
    "validate_pair",
    "validate_pairs_set",
]

Record = Mapping[str, Any]
PAIR_IGNORE: Final = ("both_values_are_missing", "either_value_is_missing", "neither")
MULTI_IGNORE: Final = ("all_values_are_missing", "any_value_is_missing", "never")


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
            f"ignore_row_if {mode!r} is not valid here; use one of {', '.join(allowed)}"
        )
    return mode


def validate_pair(e: Any) -> None:
    """``ignore_row_if`` is one of the pair modes."""
    _check_ignore(e, PAIR_IGNORE)


def validate_column_list(e: Any) -> None:
    """At least two columns; ``ignore_row_if`` is one of the multicolumn modes."""
    if len(tuple(e.column_list)) < 2:
        raise SuiteError("column_list needs at least two columns")
    _check_ignore(e, MULTI_IGNORE)


def _rowwise(
    columns: tuple[str, ...], mode: str, condition: Callable[[list[Any]], bool]
) -> CheckFn:
    def check(record: Record) -> int:
        values = [record.get(c, MISSING) for c in columns]
        if _ignored(values, mode):
            return SKIP
        try:
            return PASS if condition(values) else FAIL
        except Exception:  # noqa: BLE001 - GX raises for these values: an error verdict
            return ERROR

    return check


def _pair(e: Any) -> tuple[tuple[str, ...], str]:
    return (e.column_A, e.column_B), str(e.ignore_row_if)


def build_pair_equal(e: Any, options: CheckOptions) -> CheckSpec:
    columns, mode = _pair(e)

    def condition(values: list[Any]) -> bool:
        a, b = values
        return not (is_null(a) or is_null(b)) and bool(a == b)

    return CheckSpec(fn=_rowwise(columns, mode, condition), column=columns)


def build_pair_greater(e: Any, options: CheckOptions) -> CheckSpec:
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
        fields={"or_equal_text": " or equal" if or_equal else ""},
    )


def _pair_cell(value: Any) -> Any:
    """``None if pd.isnull(v) else v`` exactly as GX writes it (lists included)."""
    if value is MISSING:
        return None
    if type(value) in (str, int, bool, dict):
        return value
    return None if pd.isnull(value) else value


def validate_pairs_set(e: Any) -> None:
    """``value_pairs_set`` is a list of [a, b] pairs of scalars; ``ignore_row_if`` is valid."""
    _check_ignore(e, PAIR_IGNORE)
    if e.value_pairs_set is None:
        return
    try:
        frozenset((x, y) for x, y in e.value_pairs_set)  # hashable pairs of two
    except (TypeError, ValueError) as exc:
        raise SuiteError("value_pairs_set must be a list of [a, b] pairs of scalars") from exc


def build_pair_in_set(e: Any, options: CheckOptions) -> CheckSpec:
    columns, mode = _pair(e)
    if e.value_pairs_set is None:
        return CheckSpec(fn=lambda record: PASS, column=columns, fields={"allowed": "any"})
    allowed = {(x, y) for x, y in e.value_pairs_set}

    def condition(values: list[Any]) -> bool:
        return (_pair_cell(values[0]), _pair_cell(values[1])) in allowed

    return CheckSpec(
        fn=_rowwise(columns, mode, condition), column=columns, fields={"allowed": len(allowed)}
    )


def _column_list(e: Any) -> tuple[tuple[str, ...], str]:
    return tuple(e.column_list), str(e.ignore_row_if)


def build_multi_sum(e: Any, options: CheckOptions) -> CheckSpec:
    columns, mode = _column_list(e)
    total = e.sum_total

    def condition(values: list[Any]) -> bool:
        if any(is_null(v) for v in values):
            return False  # pandas nulls the row's sum when skipna=False
        result = reduce(add, values)
        return not is_null(result) and bool(result == total)

    return CheckSpec(fn=_rowwise(columns, mode, condition), column=columns)


def build_multi_equal(e: Any, options: CheckOptions) -> CheckSpec:
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

    return CheckSpec(fn=_rowwise(columns, mode, condition), column=columns)


def _hash_key(value: Any) -> Any:
    if value is MISSING or (type(value) is float and math.isnan(value)):
        return _NAN
    return value


def build_unique_within(e: Any, options: CheckOptions) -> CheckSpec:
    columns, mode = _column_list(e)
    count = len(columns)

    def condition(values: list[Any]) -> bool:
        return len({_hash_key(v) for v in values}) >= count

    return CheckSpec(fn=_rowwise(columns, mode, condition), column=columns)


# --- table column count (the record's own keys) -----------------------------------------


def build_count_equal(e: Any, options: CheckOptions) -> CheckSpec:
    expected = e.value
    return CheckSpec(fn=lambda record: PASS if len(record) == expected else FAIL, column=None)


def build_count_between(e: Any, options: CheckOptions) -> CheckSpec:
    low, high = e.min_value, e.max_value

    def check(record: Record) -> int:
        n = len(record)
        if low is not None and n < low:
            return FAIL
        return FAIL if high is not None and n > high else PASS

    return CheckSpec(fn=check, column=None)


# --- JSON in a string field -------------------------------------------------------------


def build_json_parseable(e: Any, options: CheckOptions) -> CheckSpec:
    def predicate(value: Any) -> bool:
        try:
            json.loads(value)
        except Exception:  # noqa: BLE001 - GX's own predicate: anything raised is unparseable
            return False
        return True

    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)


def validate_json_schema(e: Any) -> None:
    """``json_schema`` is a valid JSON Schema (of the draft it names)."""
    schema = e.json_schema
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SuiteError(f"json_schema is not a valid JSON Schema: {exc.message}") from exc


def _budgeted_patterns(validator_class: Any, options: CheckOptions) -> Any:
    """The validator class with its ``pattern`` keyword searched in bounded time."""
    searchers: dict[str, Callable[[str], bool]] = {}

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "string"):
            return
        search = searchers.get(patrn)
        if search is None:
            search = searchers[patrn] = searcher(
                patrn, linear=options.linear_regex, budget_s=options.regex_budget_s
            )
        if not search(instance):  # raises past the budget: the value's verdict is an error
            yield jsonschema.ValidationError(f"does not match {patrn!r}")

    return jsonschema.validators.extend(validator_class, {"pattern": pattern})


def build_json_schema(e: Any, options: CheckOptions) -> CheckSpec:
    schema = e.json_schema
    validator = _budgeted_patterns(jsonschema.validators.validator_for(schema), options)(schema)

    def predicate(value: Any) -> bool:
        document = json.loads(value)  # decode errors and non-str raise: GX errors too
        return bool(validator.is_valid(document))

    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)
