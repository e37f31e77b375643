"""The Python backend of the per-record checks: one builder per column-map and table type.

A builder receives the GX ``Expectation`` object (pydantic, so defaults and coercions
are GX's own; its kwargs already passed the registry's rules) and returns a
:class:`~dqgate.suites.registry.CheckSpec`: a function ``record -> PASS | FAIL | ERROR |
SKIP`` plus the column(s) and the fields of its message. Nothing is re-validated per
record. Each predicate reproduces GX 1.24's pandas semantics under ``dtype=object``
framing, including the inputs on which GX raises for the whole batch: those give ERROR
for that record only. The registrations that join these builders to their types are in
:mod:`dqgate.suites.catalog`; the ``validate_*`` functions are the types' kwargs rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np
import pandas as pd
from dateutil.parser import parse as dateutil_parse

from dqgate.errors import SuiteError
from dqgate.suites.dates import strptime_matcher
from dqgate.suites.regexes import searcher
from dqgate.suites.registry import CheckFn, CheckOptions, CheckSpec
from dqgate.suites.values import MISSING, is_null

__all__ = [
    "ERROR",
    "FAIL",
    "PASS",
    "SKIP",
    "CheckFn",
    "accepted_types",
    "bounds_text",
    "build_be_null",
    "build_between",
    "build_column_exists",
    "build_columns_match_set",
    "build_dateutil",
    "build_in_set",
    "build_in_type_list",
    "build_lengths_between",
    "build_lengths_equal",
    "build_match_regex",
    "build_match_regex_list",
    "build_not_in_set",
    "build_not_match_regex",
    "build_not_match_regex_list",
    "build_not_null",
    "build_of_type",
    "build_strftime",
    "column_map",
    "validate_regex",
    "validate_regex_list",
    "validate_type_list",
    "validate_type_name",
    "validate_value_set",
]

PASS: Final = 0
FAIL: Final = 1
ERROR: Final = 2
SKIP: Final = 3
"""The record is outside the expectation's domain (a null, an ignored row, a row condition
that does not select it): it passes, and it does not count in GX's ``mostly`` denominator."""

Record = Mapping[str, Any]
Predicate = Callable[[Any], bool]

# Types that are never null in a record decoded from JSON: lets the hot path skip is_null().
_PLAIN: Final = frozenset({str, int, bool, list, dict})


def column_map(column: str, predicate: Predicate) -> CheckFn:
    """A column-map check: nulls are skipped; an exception is ERROR, as in GX."""

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) not in _PLAIN and is_null(value):
            return SKIP
        try:
            return PASS if predicate(value) else FAIL
        except Exception:  # noqa: BLE001 - GX raises for this value: an error verdict
            return ERROR

    return check


def _as_str(value: Any) -> str:
    """``Series.astype(str)`` for one object cell."""
    return value if type(value) is str else str(value)


def _always_pass(record: Record) -> int:
    return PASS


# --- nullity ---------------------------------------------------------------------------


def build_not_null(e: Any, options: CheckOptions) -> CheckSpec:
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) in _PLAIN:
            return PASS
        return FAIL if is_null(value) else PASS

    return CheckSpec(fn=check, column=column)


def build_be_null(e: Any, options: CheckOptions) -> CheckSpec:
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) in _PLAIN:
            return FAIL
        return PASS if is_null(value) else FAIL

    return CheckSpec(fn=check, column=column)


# --- sets --------------------------------------------------------------------------------


def validate_value_set(e: Any) -> None:
    """``value_set`` entries must be hashable (scalars)."""
    if e.value_set is None:
        return
    try:
        frozenset(e.value_set)
    except TypeError as exc:
        raise SuiteError(
            "value_set contains unhashable entries (lists or objects); "
            "use scalar values (strings, numbers, booleans)"
        ) from exc


def _member(allowed: frozenset[Any]) -> Predicate:
    def predicate(value: Any) -> bool:
        try:
            return value in allowed
        except TypeError:  # unhashable cell: pandas isin never matches it
            return False

    return predicate


def build_in_set(e: Any, options: CheckOptions) -> CheckSpec:
    if e.value_set is None:
        return CheckSpec(fn=_always_pass, column=e.column, fields={"allowed": "any"})
    allowed = frozenset(e.value_set)
    member = _member(allowed)
    column: str = e.column

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        if type(value) is str:
            return PASS if value in allowed else FAIL
        if type(value) not in _PLAIN and is_null(value):
            return SKIP
        return PASS if member(value) else FAIL

    return CheckSpec(fn=check, column=column, fields={"allowed": len(allowed)})


def build_not_in_set(e: Any, options: CheckOptions) -> CheckSpec:
    if e.value_set is None:
        return CheckSpec(fn=_always_pass, column=e.column)
    member = _member(frozenset(e.value_set))
    return CheckSpec(fn=column_map(e.column, lambda value: not member(value)), column=e.column)


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


def bounds_text(e: Any) -> str:
    """``[low, high)`` of an expectation's bounds, for messages."""
    low = "" if e.min_value is None else ("(" if e.strict_min else "[") + f"{e.min_value}"
    high = "" if e.max_value is None else f"{e.max_value}" + (")" if e.strict_max else "]")
    return f"{low or '(-inf'}, {high or '+inf)'}"


def build_between(e: Any, options: CheckOptions) -> CheckSpec:
    predicate = _between_predicate(e.min_value, e.max_value, bool(e.strict_min), bool(e.strict_max))
    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)


def build_lengths_between(e: Any, options: CheckOptions) -> CheckSpec:
    low, high = e.min_value, e.max_value
    strict_min, strict_max = bool(e.strict_min), bool(e.strict_max)

    def predicate(value: Any) -> bool:
        length = len(_as_str(value))
        if low is not None and (length <= low if strict_min else length < low):
            return False
        return not (high is not None and (length >= high if strict_max else length > high))

    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)


def build_lengths_equal(e: Any, options: CheckOptions) -> CheckSpec:
    expected = e.value
    return CheckSpec(
        fn=column_map(e.column, lambda value: len(_as_str(value)) == expected), column=e.column
    )


# --- patterns ----------------------------------------------------------------------------


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SuiteError(f"regex {pattern!r} does not compile ({exc}); fix the pattern") from exc


def validate_regex(e: Any) -> None:
    """The pattern compiles under Python's ``re`` (GX's engine)."""
    _compiled(e.regex)


def validate_regex_list(e: Any) -> None:
    """Every pattern compiles; the list is not empty; ``match_on`` is any or all."""
    for pattern in e.regex_list:
        _compiled(pattern)
    if not e.regex_list:
        raise SuiteError("regex_list is empty; give at least one pattern")
    if getattr(e, "match_on", "any") not in ("any", "all"):
        raise SuiteError("match_on must be 'any' or 'all'")


def _regex_check(column: str, search: Callable[[str], bool], *, negate: bool) -> CheckFn:
    """``str(value)`` searched with ``re.search``; nulls skipped. Specialised: the hot path.

    ``search`` raises when the evaluation runs past its time budget: an ERROR, like a
    ``str()`` that raises.
    """
    hit, miss = (FAIL, PASS) if negate else (PASS, FAIL)

    def check(record: Record) -> int:
        value = record.get(column, MISSING)
        kind = type(value)
        if kind is not str and kind not in _PLAIN and is_null(value):
            return SKIP
        try:
            return hit if search(value if kind is str else str(value)) else miss
        except Exception:  # noqa: BLE001 - GX raises for this value: an error verdict
            return ERROR

    return check


def _searcher(pattern: str, options: CheckOptions) -> Callable[[str], bool]:
    return searcher(pattern, linear=options.linear_regex, budget_s=options.regex_budget_s)


def build_match_regex(e: Any, options: CheckOptions) -> CheckSpec:
    search = _searcher(e.regex, options)
    return CheckSpec(fn=_regex_check(e.column, search, negate=False), column=e.column)


def build_not_match_regex(e: Any, options: CheckOptions) -> CheckSpec:
    search = _searcher(e.regex, options)
    return CheckSpec(fn=_regex_check(e.column, search, negate=True), column=e.column)


def build_match_regex_list(e: Any, options: CheckOptions) -> CheckSpec:
    searches = tuple(_searcher(p, options) for p in e.regex_list)
    combine = any if e.match_on == "any" else all

    def predicate(value: Any) -> bool:
        text = _as_str(value)
        return combine(search(text) for search in searches)

    return CheckSpec(
        fn=column_map(e.column, predicate), column=e.column, fields={"patterns": len(searches)}
    )


def build_not_match_regex_list(e: Any, options: CheckOptions) -> CheckSpec:
    searches = tuple(_searcher(p, options) for p in e.regex_list)

    def predicate(value: Any) -> bool:
        text = _as_str(value)
        return not any(search(text) for search in searches)

    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)


# --- dates -------------------------------------------------------------------------------


def build_strftime(e: Any, options: CheckOptions) -> CheckSpec:
    return CheckSpec(fn=column_map(e.column, strptime_matcher(e.strftime_format)), column=e.column)


def build_dateutil(e: Any, options: CheckOptions) -> CheckSpec:
    def predicate(value: Any) -> bool:
        if type(value) is not str:
            raise TypeError("not a string")
        try:
            dateutil_parse(value)
        except (ValueError, OverflowError):
            return False
        return True

    return CheckSpec(fn=column_map(e.column, predicate), column=e.column)


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
_TYPE_HINT: Final = "use one of int, float, str, bool, list, dict"
_ANY_OBJECT: Final = ("object", "object_", "O")


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


def accepted_types(names: list[str]) -> tuple[type, ...]:
    """The classes of a type check; raises SuiteError when a name is none GX knows."""
    classes: list[type] = []
    for name in names:
        try:
            classes.extend(_types_for(name))
        except Exception as exc:
            raise SuiteError(
                f"type {name!r} is not a numpy or Python type ({exc}); {_TYPE_HINT}"
            ) from exc
    if not classes:
        raise SuiteError(f"no recognised numpy or Python type in {names!r}; {_TYPE_HINT}")
    return tuple(classes)


def validate_type_name(e: Any) -> None:
    """``type_`` names a numpy or Python type (or object, which every row passes)."""
    if e.type_ not in _ANY_OBJECT:
        accepted_types([e.type_])


def validate_type_list(e: Any) -> None:
    """Every name of ``type_list`` resolves, together, to at least one type."""
    if e.type_list is not None:
        accepted_types(list(e.type_list))


def _type_check(column: str, accepted: tuple[type, ...]) -> CheckFn:
    return column_map(column, lambda value: isinstance(value, accepted))


def build_of_type(e: Any, options: CheckOptions) -> CheckSpec:
    if e.type_ in _ANY_OBJECT:
        # GX compares the column dtype (object) and passes every row.
        return CheckSpec(fn=_always_pass, column=e.column)
    return CheckSpec(fn=_type_check(e.column, accepted_types([e.type_])), column=e.column)


def build_in_type_list(e: Any, options: CheckOptions) -> CheckSpec:
    if e.type_list is None:
        return CheckSpec(fn=_always_pass, column=e.column)
    return CheckSpec(fn=_type_check(e.column, accepted_types(list(e.type_list))), column=e.column)


# --- table level (evaluated on the record's own keys) -------------------------------------


def build_column_exists(e: Any, options: CheckOptions) -> CheckSpec:
    column: str = e.column
    index = e.column_index

    if index:  # GX's own quirk: column_index=0 is ignored

        def check(record: Record) -> int:
            try:
                return PASS if list(record)[index] == column else FAIL
            except IndexError:
                return FAIL

    else:

        def check(record: Record) -> int:
            return PASS if column in record else FAIL

    return CheckSpec(fn=check, column=column)


def build_columns_match_set(e: Any, options: CheckOptions) -> CheckSpec:
    expected = frozenset(e.column_set) if e.column_set is not None else frozenset()
    exact = bool(e.exact_match)

    def check(record: Record) -> int:
        actual = record.keys()
        if exact:
            return PASS if actual == expected else FAIL
        return PASS if expected <= actual else FAIL

    return CheckSpec(fn=check, column=tuple(sorted(expected)) or None)
