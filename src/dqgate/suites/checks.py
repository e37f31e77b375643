"""Per-record checks, one builder per GX expectation type, registered by type name.

A builder receives the GX ``Expectation`` object (pydantic, so defaults and coercions
are GX's own) and returns a :class:`CheckSpec`: a function ``record -> PASS | FAIL |
ERROR`` plus the column(s) and fixed messages. Arguments are checked once, here;
nothing is re-validated per record. Each predicate reproduces GX 1.24's pandas
semantics under ``dtype=object`` framing, including the inputs on which GX raises
for the whole batch: those give ERROR for that record only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from dateutil.parser import parse as dateutil_parse

from dqgate.errors import SuiteError
from dqgate.suites.dates import strptime_matcher
from dqgate.suites.values import MISSING, is_null
from dqgate.verdict import Column

__all__ = [
    "ERROR",
    "FAIL",
    "PASS",
    "SKIP",
    "CheckFn",
    "CheckSpec",
    "build_check",
    "register_check",
    "supported_types",
]

PASS: Final = 0
FAIL: Final = 1
ERROR: Final = 2
SKIP: Final = -1
"""The record is outside the expectation's domain (a null, an ignored row, a row condition
that does not select it): it passes, and it does not count in GX's ``mostly`` denominator."""

Record = Mapping[str, Any]
CheckFn = Callable[[Record], int]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """A compiled check: the function and what to say when it fails or errors."""

    fn: CheckFn
    column: Column
    fail_message: str
    error_message: str = "value could not be evaluated by this expectation"


Builder = Callable[[Any], CheckSpec]
_BUILDERS: dict[str, Builder] = {}

# Types that are never null in a record decoded from JSON: lets the hot path skip is_null().
_PLAIN: Final = frozenset({str, int, bool, list, dict})


def register_check(type_name: str) -> Callable[[Builder], Builder]:
    def decorate(fn: Builder) -> Builder:
        _BUILDERS[type_name] = fn
        return fn

    return decorate


def supported_types() -> tuple[str, ...]:
    """Every expectation type the compiler turns into a per-record check, sorted."""
    return tuple(sorted(_BUILDERS))


def build_check(expectation: Any) -> CheckSpec:
    """Compile one GX expectation object; raises SuiteError for unusable arguments."""
    return _BUILDERS[expectation.expectation_type](expectation)


def _column_map(column: str, predicate: Predicate) -> CheckFn:
    """A column-map check: nulls are skipped (pass); an exception is ERROR, as in GX."""

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) not in _PLAIN and is_null(value):
            return SKIP
        try:
            return PASS if predicate(value) else FAIL
        except Exception:
            return ERROR

    return check


def _as_str(value: Any) -> str:
    """``Series.astype(str)`` for one object cell."""
    return value if type(value) is str else str(value)


# --- nullity ---------------------------------------------------------------------------


@register_check("expect_column_values_to_not_be_null")
def _not_null(e: Any) -> CheckSpec:
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) in _PLAIN:
            return PASS
        return FAIL if is_null(value) else PASS

    return CheckSpec(fn=check, column=column, fail_message="required value is missing or null")


@register_check("expect_column_values_to_be_null")
def _be_null(e: Any) -> CheckSpec:
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) in _PLAIN:
            return FAIL
        return PASS if is_null(value) else FAIL

    return CheckSpec(fn=check, column=column, fail_message="value must be null but is present")


# --- sets --------------------------------------------------------------------------------


def _frozen_set(e: Any) -> frozenset[Any] | None:
    values = e.value_set
    if values is None:
        return None
    try:
        return frozenset(values)
    except TypeError as exc:
        raise SuiteError(
            "value_set contains unhashable entries (lists or objects); "
            "use scalar values (strings, numbers, booleans)",
            expectation_type=e.expectation_type,
        ) from exc


def _member(allowed: frozenset[Any]) -> Predicate:
    def predicate(value: Any) -> bool:
        try:
            return value in allowed
        except TypeError:  # unhashable cell: pandas isin never matches it
            return False

    return predicate


@register_check("expect_column_values_to_be_in_set")
def _in_set(e: Any) -> CheckSpec:
    allowed = _frozen_set(e)
    if allowed is None:
        return CheckSpec(fn=lambda record: PASS, column=e.column, fail_message="")
    member = _member(allowed)
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) is str:
            return PASS if value in allowed else FAIL
        if type(value) not in _PLAIN and is_null(value):
            return SKIP
        return PASS if member(value) else FAIL

    return CheckSpec(
        fn=check,
        column=e.column,
        fail_message=f"value is not one of the {len(allowed)} allowed values",
    )


@register_check("expect_column_values_to_not_be_in_set")
def _not_in_set(e: Any) -> CheckSpec:
    forbidden = _frozen_set(e)
    if forbidden is None:
        return CheckSpec(fn=lambda record: PASS, column=e.column, fail_message="")
    member = _member(forbidden)
    return CheckSpec(
        fn=_column_map(e.column, lambda value: not member(value)),
        column=e.column,
        fail_message="value is one of the forbidden values",
    )


# --- ranges ------------------------------------------------------------------------------


def _between_predicate(
    min_value: Any, max_value: Any, strict_min: bool, strict_max: bool
) -> Predicate:
    """GX's per-element ``is_between`` for object columns, including its TypeErrors."""
    min_is_str = isinstance(min_value, str)
    max_is_str = isinstance(max_value, str)

    def predicate(value: Any) -> bool:
        value_is_str = isinstance(value, str)
        if min_value is not None and value_is_str != min_is_str:
            raise TypeError("value and bounds are of different kinds")
        if max_value is not None and value_is_str != max_is_str:
            raise TypeError("value and bounds are of different kinds")
        if min_value is not None:
            above = value > min_value if strict_min else value >= min_value
            if max_value is None:
                return bool(above)
            if not above:
                return False
        below = value < max_value if strict_max else value <= max_value
        return bool(below)

    return predicate


def _check_bounds(e: Any, min_value: Any, max_value: Any) -> None:
    if min_value is None and max_value is None:
        raise SuiteError(
            "min_value and max_value are both empty; set at least one",
            expectation_type=e.expectation_type,
        )
    if isinstance(min_value, dict) or isinstance(max_value, dict):
        raise SuiteError(
            "suite parameters ($PARAMETER bounds) are not supported yet; give literal bounds",
            expectation_type=e.expectation_type,
        )
    try:
        inverted = min_value is not None and max_value is not None and min_value > max_value
    except TypeError as exc:
        raise SuiteError(
            "min_value and max_value cannot be compared; give bounds of one type",
            expectation_type=e.expectation_type,
        ) from exc
    if inverted:
        raise SuiteError(
            f"min_value {min_value!r} is greater than max_value {max_value!r}; swap them",
            expectation_type=e.expectation_type,
        )


def _bounds_text(e: Any) -> str:
    low = "" if e.min_value is None else ("(" if e.strict_min else "[") + f"{e.min_value}"
    high = "" if e.max_value is None else f"{e.max_value}" + (")" if e.strict_max else "]")
    return f"{low or '(-inf'}, {high or '+inf)'}"


@register_check("expect_column_values_to_be_between")
def _between(e: Any) -> CheckSpec:
    _check_bounds(e, e.min_value, e.max_value)
    predicate = _between_predicate(e.min_value, e.max_value, bool(e.strict_min), bool(e.strict_max))
    return CheckSpec(
        fn=_column_map(e.column, predicate),
        column=e.column,
        fail_message=f"value is outside {_bounds_text(e)}",
        error_message="value cannot be compared with the bounds (e.g. text against numbers)",
    )


@register_check("expect_column_value_lengths_to_be_between")
def _lengths_between(e: Any) -> CheckSpec:
    _check_bounds(e, e.min_value, e.max_value)
    low, high = e.min_value, e.max_value
    strict_min, strict_max = bool(e.strict_min), bool(e.strict_max)

    def predicate(value: Any) -> bool:
        length = len(_as_str(value))
        if low is not None and (length <= low if strict_min else length < low):
            return False
        return not (high is not None and (length >= high if strict_max else length > high))

    return CheckSpec(
        fn=_column_map(e.column, predicate),
        column=e.column,
        fail_message=f"length is outside {_bounds_text(e)}",
    )


@register_check("expect_column_value_lengths_to_equal")
def _lengths_equal(e: Any) -> CheckSpec:
    expected = e.value
    return CheckSpec(
        fn=_column_map(e.column, lambda value: len(_as_str(value)) == expected),
        column=e.column,
        fail_message=f"length is not {expected:g}",
    )


# --- patterns ----------------------------------------------------------------------------


def _compile_regex(e: Any, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SuiteError(
            f"regex {pattern!r} does not compile ({exc}); fix the pattern",
            expectation_type=e.expectation_type,
        ) from exc


def _regex_check(column: str, search: Callable[[str], Any], *, negate: bool) -> CheckFn:
    """``str(value)`` searched with ``re.search``; nulls skipped. Specialised: the hot path."""
    hit, miss = (FAIL, PASS) if negate else (PASS, FAIL)

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) is str:
            return hit if search(value) is not None else miss
        if type(value) not in _PLAIN and is_null(value):
            return SKIP
        try:
            return hit if search(str(value)) is not None else miss
        except Exception:
            return ERROR

    return check


@register_check("expect_column_values_to_match_regex")
def _match_regex(e: Any) -> CheckSpec:
    search = _compile_regex(e, e.regex).search
    return CheckSpec(
        fn=_regex_check(e.column, search, negate=False),
        column=e.column,
        fail_message="value does not match the required pattern",
    )


@register_check("expect_column_values_to_not_match_regex")
def _not_match_regex(e: Any) -> CheckSpec:
    search = _compile_regex(e, e.regex).search
    return CheckSpec(
        fn=_regex_check(e.column, search, negate=True),
        column=e.column,
        fail_message="value matches a forbidden pattern",
    )


@register_check("expect_column_values_to_match_regex_list")
def _match_regex_list(e: Any) -> CheckSpec:
    searches = tuple(_compile_regex(e, p).search for p in e.regex_list)
    if e.match_on not in ("any", "all"):
        raise SuiteError("match_on must be 'any' or 'all'", expectation_type=e.expectation_type)
    if not searches:
        raise SuiteError(
            "regex_list is empty; give at least one pattern", expectation_type=e.expectation_type
        )
    combine = any if e.match_on == "any" else all

    def predicate(value: Any) -> bool:
        text = _as_str(value)
        return combine(search(text) is not None for search in searches)

    return CheckSpec(
        fn=_column_map(e.column, predicate),
        column=e.column,
        fail_message=f"value does not match {e.match_on} of the {len(searches)} patterns",
    )


@register_check("expect_column_values_to_not_match_regex_list")
def _not_match_regex_list(e: Any) -> CheckSpec:
    searches = tuple(_compile_regex(e, p).search for p in e.regex_list)
    if not searches:
        raise SuiteError(
            "regex_list is empty; give at least one pattern", expectation_type=e.expectation_type
        )

    def predicate(value: Any) -> bool:
        text = _as_str(value)
        return not any(search(text) is not None for search in searches)

    return CheckSpec(
        fn=_column_map(e.column, predicate),
        column=e.column,
        fail_message="value matches one of the forbidden patterns",
    )


# --- dates -------------------------------------------------------------------------------


@register_check("expect_column_values_to_match_strftime_format")
def _strftime(e: Any) -> CheckSpec:
    fmt: str = e.strftime_format
    return CheckSpec(
        fn=_column_map(e.column, strptime_matcher(fmt)),
        column=e.column,
        fail_message=f"date does not match the format {fmt}",
        error_message="value is not a string, so it cannot be parsed as a date",
    )


@register_check("expect_column_values_to_be_dateutil_parseable")
def _dateutil(e: Any) -> CheckSpec:
    def predicate(value: Any) -> bool:
        if type(value) is not str:
            raise TypeError("not a string")
        try:
            dateutil_parse(value)
        except (ValueError, OverflowError):
            return False
        return True

    return CheckSpec(
        fn=_column_map(e.column, predicate),
        column=e.column,
        fail_message="value is not a parseable date",
        error_message="value is not a string, so it cannot be parsed as a date",
    )


# --- types -------------------------------------------------------------------------------

_NATIVE_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "none": (type(None),),
    "bool": (bool,),
    "int": (int,),
    "long": (int,),
    "float": (float,),
    "bytes": (bytes,),
    "complex": (complex,),
    "str": (str,),
    "string_types": (str,),
    "list": (list,),
    "dict": (dict,),
}


def _types_for(name: str) -> list[type]:
    """The classes GX's pandas type check accepts for one type name (same lookup order)."""
    found: list[type] = []
    try:
        found.append(np.dtype(name).type)
    except TypeError:
        for namespace in (pd, pd.core.dtypes.dtypes):
            candidate = getattr(namespace, name, None)
            if isinstance(candidate, type):
                found.append(candidate)
    found.extend(_NATIVE_TYPES.get(name.lower(), ()))
    return found


def _type_check(e: Any, names: list[str]) -> CheckFn:
    classes: list[type] = []
    for name in names:
        try:
            classes.extend(_types_for(name))
        except Exception as exc:
            raise SuiteError(
                f"type {name!r} is not a numpy or Python type ({exc}); "
                "use one of int, float, str, bool, list, dict",
                expectation_type=e.expectation_type,
            ) from exc
    if not classes:
        raise SuiteError(
            f"no recognised numpy or Python type in {names!r}; "
            "use one of int, float, str, bool, list, dict",
            expectation_type=e.expectation_type,
        )
    accepted = tuple(classes)
    return _column_map(e.column, lambda value: isinstance(value, accepted))


@register_check("expect_column_values_to_be_of_type")
def _of_type(e: Any) -> CheckSpec:
    message = f"value is not of type {e.type_}"
    if e.type_ in ("object", "object_", "O"):
        # GX compares the column dtype (object) and passes every row.
        return CheckSpec(fn=lambda record: PASS, column=e.column, fail_message=message)
    return CheckSpec(fn=_type_check(e, [e.type_]), column=e.column, fail_message=message)


@register_check("expect_column_values_to_be_in_type_list")
def _in_type_list(e: Any) -> CheckSpec:
    if e.type_list is None:
        return CheckSpec(fn=lambda record: PASS, column=e.column, fail_message="")
    names = list(e.type_list)
    return CheckSpec(
        fn=_type_check(e, names),
        column=e.column,
        fail_message=f"value is not of any type in {names}",
    )


# --- table level (evaluated on the record's own keys) -------------------------------------


@register_check("expect_column_to_exist")
def _column_exists(e: Any) -> CheckSpec:
    column: str = e.column
    index = e.column_index

    if index:  # GX's own quirk: column_index=0 is ignored

        def check(record: Record) -> int:
            try:
                return PASS if list(record)[index] == column else FAIL
            except IndexError:
                return FAIL

        message = f"field is not at position {index}"
    else:

        def check(record: Record) -> int:
            return PASS if column in record else FAIL

        message = "required field is absent"
    return CheckSpec(fn=check, column=column, fail_message=message)


@register_check("expect_table_columns_to_match_set")
def _columns_match_set(e: Any) -> CheckSpec:
    expected = frozenset(e.column_set) if e.column_set is not None else frozenset()
    exact = bool(e.exact_match)

    def check(record: Record) -> int:
        actual = record.keys()
        if exact:
            return PASS if actual == expected else FAIL
        return PASS if expected <= actual else FAIL

    message = "fields differ from the expected set" if exact else "required fields are absent"
    return CheckSpec(fn=check, column=tuple(sorted(expected)) or None, fail_message=message)
