"""Hypothesis strategies for GX row conditions: every structured form and legacy strings.

Forms: comparison (``== != < <= > >= IN NOT_IN``), nullity, ``and``, ``or`` (GX limits: no
OR inside an AND, no nested OR) and legacy strings with ``condition_parser:
great_expectations`` (``col("a")>1``, ``col("a").notnull()``), which GX converts. Ordering
operators are drawn on columns whose values they can compare (numbers with numbers, text
with text) plus the ``mixed`` column, whose rare strings make GX error on a few rows (each
erroring row is confirmed by a GX call of its own, so most rows erroring would leave most
rows uncompared).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from hypothesis import strategies as st

from .pools import GEN_COLUMNS

__all__ = ["CONDITION_FORMS", "condition_forms", "row_conditions"]

CONDITION_FORMS: Final[tuple[str, ...]] = (
    "comparison ==", "comparison !=", "comparison <", "comparison <=", "comparison >",
    "comparison >=", "comparison IN", "comparison NOT_IN", "nullity", "and", "or", "legacy",
)  # fmt: skip
"""Every row-condition form the parity suite must exercise on each kind of expectation."""

_NUMERIC: Final = ("num", "small", "small2", "mixed")
_TEXT: Final = ("text", "json")
_ALL: Final = tuple(GEN_COLUMNS)
_ORDERING: Final = ("<", "<=", ">", ">=")
_NUMBERS: Final[tuple[Any, ...]] = (
    0, 1, 2, -1, 0.5, 1.5, 2.5, 5, 9.99, 10, 100, -2.5, 1e10, 2**53 + 1, 10**20, -0.0,
    math.inf, -math.inf,
)  # fmt: skip
_IN_NUMBERS: Final = tuple(n for n in _NUMBERS if n != math.inf)
"""GX renders ``IN [inf]`` as a query pandas cannot evaluate, so every batch errors."""
_TEXTS: Final[tuple[str, ...]] = (
    "", "abc", "1", "m", "2024-01-05", "é", "ab'c\n", '{"a": 1}', "null", "Z", " ",
)  # fmt: skip
_LEGACY_TEXTS: Final[tuple[str, ...]] = ("abc", "1", "m", "2024-01-05", "x@y.z", "a b", "é")
_LEGACY_NUMBERS: Final[tuple[str, ...]] = ("1", "0", "-1", "2.5", "10", "1e2", "+3", "1.")
_LEGACY_PARSERS: Final = ("great_expectations", "great_expectations__experimental__")

Condition = dict[str, Any]


def _cmp(column: str, operator: str, parameter: Any) -> Condition:
    return {"type": "comparison", "column": {"name": column}, "operator": operator,
            "parameter": parameter}  # fmt: skip


@st.composite
def _comparison(draw: st.DrawFn, operator: str | None = None) -> Condition:
    op = operator or draw(st.sampled_from(("==", "!=", *_ORDERING, "IN", "NOT_IN")))
    if op in ("IN", "NOT_IN"):
        pool = draw(st.sampled_from((_IN_NUMBERS, _TEXTS)))
        values = draw(st.lists(st.sampled_from(pool), max_size=4))
        return _cmp(draw(st.sampled_from(_ALL)), op, values)
    if op in _ORDERING:
        column = draw(st.sampled_from(_NUMERIC + _TEXT))
        pool = _TEXTS if column in _TEXT else _NUMBERS
        return _cmp(column, op, draw(st.sampled_from(pool)))
    parameter = draw(st.sampled_from((*_NUMBERS, *_TEXTS, True, False)))
    return _cmp(draw(st.sampled_from(_ALL)), op, parameter)


def _nullity() -> st.SearchStrategy[Condition]:
    return st.builds(
        lambda column, is_null: {"type": "nullity", "column": {"name": column}, "is_null": is_null},
        st.sampled_from(_ALL),
        st.booleans(),
    )


def _leaf() -> st.SearchStrategy[Condition]:
    return st.one_of(_comparison(), _nullity())


def _and() -> st.SearchStrategy[Condition]:
    parts = st.lists(st.one_of(_leaf(), _leaf(), _leaf(), _small_and()), min_size=2, max_size=3)
    return parts.map(lambda conditions: {"type": "and", "conditions": conditions})


def _small_and() -> st.SearchStrategy[Condition]:
    parts = st.lists(_leaf(), min_size=2, max_size=2)
    return parts.map(lambda conditions: {"type": "and", "conditions": conditions})


def _or() -> st.SearchStrategy[Condition]:
    parts = st.lists(st.one_of(_leaf(), _leaf(), _small_and()), min_size=2, max_size=3)
    return parts.map(lambda conditions: {"type": "or", "conditions": conditions})


@st.composite
def _legacy(draw: st.DrawFn) -> tuple[str, str]:
    """A legacy ``great_expectations`` condition string and the parser name."""
    parser = draw(st.sampled_from(_LEGACY_PARSERS))
    kind = draw(st.sampled_from(("notnull", "number", "text")))
    if kind == "notnull":
        column = draw(st.sampled_from(_ALL))
        return f'col("{column}").notnull()', parser
    op = draw(st.sampled_from(("==", "!=", *_ORDERING)))
    if kind == "number":
        column = draw(st.sampled_from(_NUMERIC if op in _ORDERING else _ALL))
        value = draw(st.sampled_from(_LEGACY_NUMBERS))
    else:
        column = draw(st.sampled_from(_TEXT if op in _ORDERING else _ALL))
        quote = draw(st.sampled_from(("'", '"')))
        value = quote + draw(st.sampled_from(_LEGACY_TEXTS)) + quote
    space = draw(st.sampled_from(("", " ")))
    return f'col("{column}"){space}{op}{space}{value}', parser


@st.composite
def row_conditions(draw: st.DrawFn, form: str) -> dict[str, Any]:
    """kwargs adding a row condition of ``form``: none or one of CONDITION_FORMS."""
    if form == "none":
        return {}
    if form == "legacy":
        condition, parser = draw(_legacy())
        return {"row_condition": condition, "condition_parser": parser}
    if form.startswith("comparison "):
        return {"row_condition": draw(_comparison(form.removeprefix("comparison ")))}
    strategy = {"nullity": _nullity(), "and": _and(), "or": _or()}
    return {"row_condition": draw(strategy[form])}


def condition_forms(kwargs: Mapping[str, Any]) -> set[str]:
    """The forms a config's row condition uses, nested parts included (see CONDITION_FORMS)."""
    condition = kwargs.get("row_condition")
    if condition is None:
        return set()
    if isinstance(condition, str):
        return {"legacy"}
    return _forms(condition)


def _forms(condition: Mapping[str, Any]) -> set[str]:
    kind = condition.get("type")
    if kind == "comparison":
        return {f"comparison {condition['operator']}"}
    if kind in ("and", "or"):
        return {str(kind)}.union(*(_forms(c) for c in condition["conditions"]))
    return {str(kind)}
