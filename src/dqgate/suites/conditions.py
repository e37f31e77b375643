"""GX row conditions compiled into per-record predicates.

GX turns a structured condition into a ``DataFrame.query`` string and keeps the rows it
selects. Per record, with pandas' object-dtype operators: a null (None, NaN, a missing
key) makes ``== < <= > >=`` False and ``!=`` True; ``IN``/``NOT_IN`` are ``isin`` (hash
membership, None matches None, NaN matches NaN, unhashable never matches); comparing
types Python cannot order raises, which makes the record's verdict ERROR. Legacy string
conditions with ``condition_parser: great_expectations`` arrive already converted by GX.
A ``pass_through`` (pandas query) condition cannot be compiled.
"""

from __future__ import annotations

import io
import keyword
import math
import operator
import re
import tokenize
from collections.abc import Callable, Mapping
from typing import Any, Final

from dqgate.errors import UnsupportedExpectationError
from dqgate.suites.values import MISSING, is_null

__all__ = ["Predicate", "compile_condition", "condition_columns", "frame_columns"]

Predicate = Callable[[Mapping[str, Any]], bool]

_BACKTICKED: Final = re.compile(r"`([^`]+)`")
_OPERATORS: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _NaN:
    __slots__ = ()


_NAN: Final = _NaN()


def _isin_key(value: Any) -> Any:
    if value is MISSING or (type(value) is float and math.isnan(value)):
        return _NAN
    return value


def _comparison(column: str, op: str, parameter: Any) -> Predicate:
    if op in ("IN", "NOT_IN"):
        members = frozenset(_isin_key(p) for p in parameter)
        negate = op == "NOT_IN"

        def member(record: Mapping[str, Any]) -> bool:
            try:
                found = _isin_key(record.get(column, MISSING)) in members
            except TypeError:  # unhashable: isin never matches it
                found = False
            return found != negate

        return member
    compare = _OPERATORS[op]
    null_result = op == "!="

    def comparison(record: Mapping[str, Any]) -> bool:
        value = record.get(column, MISSING)
        if is_null(value):
            return null_result
        return bool(compare(value, parameter))

    return comparison


def compile_condition(condition: Any) -> Predicate:
    """A predicate selecting the records GX's pandas engine would keep for this condition."""
    kind = getattr(condition, "type", None)
    if kind == "comparison":
        return _comparison(condition.column.name, str(condition.operator), condition.parameter)
    if kind == "nullity":
        column = condition.column.name
        if condition.is_null:
            return lambda record: is_null(record.get(column, MISSING))
        return lambda record: not is_null(record.get(column, MISSING))
    # pandas evaluates every part of and/or (element-wise & and |): no short circuit, so
    # a part that raises makes the whole condition raise, as in DataFrame.query.
    if kind == "and":
        parts = tuple(compile_condition(c) for c in condition.conditions)
        return lambda record: all([p(record) for p in parts])
    if kind == "or":
        parts = tuple(compile_condition(c) for c in condition.conditions)
        return lambda record: any([p(record) for p in parts])
    raise UnsupportedExpectationError(
        f"row_condition of type {kind!r} (a pandas query string) cannot be compiled per record; "
        "rewrite it as a structured condition (comparison, nullity, and, or)"
    )


def condition_columns(condition: Any) -> tuple[str, ...]:
    """The columns a structured condition reads, in order (none for pass-through strings)."""
    kind = getattr(condition, "type", None)
    if kind in ("comparison", "nullity"):
        return (condition.column.name,)
    if kind in ("and", "or"):
        return tuple(c for sub in condition.conditions for c in condition_columns(sub))
    return ()


def frame_columns(condition: Any) -> tuple[str, ...]:
    """Columns GX's frame needs for a condition: a pass-through string's every name too."""
    if getattr(condition, "type", None) == "pass_through":
        return _query_names(str(condition.pass_through_filter))
    return condition_columns(condition)


def _query_names(query: str) -> tuple[str, ...]:
    """Every name in a pandas query (``status.str.lower()``: status, str, lower).

    A name that is not a column only adds an all-null column to the fallback's frame,
    which changes no verdict; a missing column would fail ``DataFrame.query`` for the
    whole batch.
    """
    names = [m.group(1) for m in _BACKTICKED.finditer(query)]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(_BACKTICKED.sub(" 0 ", query)).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = []
    names += [
        t.string for t in tokens if t.type == tokenize.NAME and not keyword.iskeyword(t.string)
    ]
    return tuple(dict.fromkeys(names))
