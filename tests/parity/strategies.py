"""Hypothesis strategies for expectation configs of every compiled type, and for records.

Each type draws its kwargs from GX's valid domain (configs dqgate refuses on purpose, such as
``min_value > max_value`` or an unknown type name, are left to the unit tests). Columns are
drawn with a preference for those whose values the check can compare, so that GX's
whole-batch errors stay few per batch (see ``pools.GEN_COLUMNS``); the ``x y`` column and
the hand-drawn records still bring every kind of value to every check.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st

from .condition_strategies import CONDITION_FORMS, row_conditions
from .pools import (
    ANY,
    BOUNDS,
    GEN_COLUMNS,
    GEN_TABLE_KEYS,
    JSON_SCHEMAS,
    REGEXES,
    SET_VALUES,
    SMALL,
    STRFTIME_FORMATS,
    TYPE_NAMES,
    draw_gen_records,
    draw_table_records,
)

__all__ = [
    "FORMS",
    "ROW_TYPES",
    "TABLE_TYPES",
    "UNCONDITIONED",
    "RecordRecipe",
    "expectation_configs",
    "record_recipes",
    "table_configs",
]

_P = "expect_column_values_to_"
_ALL: Final = tuple(GEN_COLUMNS)
_NUMERIC: Final = ("num", "small", "small2", "mixed")
_TEXT: Final = ("text", "json")
FORMS: Final = ("none", *CONDITION_FORMS)
"""One config per form (each comparison operator apart) in each drawn batch of configs, so
every example compares every form; ``and``/``or`` add more comparisons of drawn operators."""


def _column(preferred: tuple[str, ...], weight: int = 4) -> st.SearchStrategy[str]:
    """A column, ``weight`` times likelier from ``preferred`` than from the rest."""
    return st.sampled_from(preferred * weight + _ALL)


def _bounds(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """min_value <= max_value, one of them possibly absent, strict flags sometimes set."""

    def build(low: Any, high: Any, drop: str, strict_min: bool, strict_max: bool) -> dict[str, Any]:
        low, high = sorted((low, high))
        kwargs: dict[str, Any] = {"min_value": low, "max_value": high}
        if drop != "none":
            del kwargs[drop]
        if strict_min:
            kwargs["strict_min"] = True
        if strict_max:
            kwargs["strict_max"] = True
        return kwargs

    return st.builds(
        build,
        values,
        values,
        st.sampled_from(("none", "none", "min_value", "max_value")),
        st.booleans(),
        st.booleans(),
    )


_NUMBER_BOUNDS: Final = st.one_of(
    st.sampled_from(BOUNDS),
    st.integers(-3, 120),
    st.floats(-1e3, 1e3, allow_nan=False),
)
_LENGTHS: Final = st.integers(0, 12)
_IGNORE_PAIR: Final = ("both_values_are_missing", "either_value_is_missing", "neither")
_IGNORE_MULTI: Final = ("all_values_are_missing", "any_value_is_missing", "never")


def _with_ignore(modes: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """An ``ignore_row_if`` kwarg, or none (GX's default)."""
    return st.one_of(st.just({}), st.sampled_from(modes).map(lambda m: {"ignore_row_if": m}))


def _pair(preferred: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(_column(preferred), min_size=2, max_size=2, unique=True).map(
        lambda ab: {"column_A": ab[0], "column_B": ab[1]}
    )


def _column_list(preferred: tuple[str, ...], max_size: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(_column(preferred, 10), min_size=2, max_size=max_size, unique=True).map(
        lambda columns: {"column_list": columns}
    )


def _merged(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


def _on(preferred: tuple[str, ...], weight: int = 4) -> st.SearchStrategy[dict[str, Any]]:
    return _column(preferred, weight).map(lambda c: {"column": c})


def _only(columns: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """One of ``columns`` only: the check would error on most values of the other columns."""
    return st.sampled_from(columns).map(lambda c: {"column": c})


def _kw(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(strategies)


_TYPE_LIST: Final = st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3)
"""Never empty: dqgate refuses ``type_list: []`` at load, where GX fails every value."""
_REGEX_LIST: Final = st.lists(st.sampled_from(REGEXES), min_size=1, max_size=3)
_OPTIONAL_MATCH_ON: Final[st.SearchStrategy[dict[str, Any]]] = st.one_of(
    st.just({}), st.sampled_from(("any", "all")).map(lambda m: {"match_on": m})
)
_PAIR_VALUES: Final = st.one_of(st.sampled_from((*SMALL[:9], None)), st.sampled_from(SET_VALUES))
_PAIR_SET: Final = st.lists(
    st.tuples(_PAIR_VALUES, _PAIR_VALUES).map(list), min_size=1, max_size=12
)
"""Pairs mostly of small numbers and null, so that records' pairs are often in the set."""
_COMPARABLE_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    *((a, b) for a in _NUMERIC for b in _NUMERIC if a != b),
    ("text", "json"),
    ("json", "text"),
)
_SUMS: Final = st.sampled_from((0, 1, 2, 3, 4, 2.5, -1, 0.5, 3.5, 1e10, 2**53 + 2))

KWARGS: Final[dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]]] = {
    f"{_P}not_be_null": lambda: _on(_ALL),
    f"{_P}be_null": lambda: _on(_ALL),
    f"{_P}be_in_set": lambda: _merged(
        _on(_ALL), _kw(value_set=st.lists(st.sampled_from(SET_VALUES), max_size=6))
    ),
    f"{_P}not_be_in_set": lambda: _merged(
        _on(_ALL), _kw(value_set=st.lists(st.sampled_from(SET_VALUES), max_size=6))
    ),
    f"{_P}be_between": lambda: _merged(_only(_NUMERIC), _bounds(_NUMBER_BOUNDS)),
    "expect_column_value_lengths_to_be_between": lambda: _merged(_on(_ALL), _bounds(_LENGTHS)),
    "expect_column_value_lengths_to_equal": lambda: _merged(
        _on(_ALL), _kw(value=st.one_of(_LENGTHS, st.just(2.5)))
    ),
    f"{_P}match_regex": lambda: _merged(
        _on(_ALL), st.one_of(st.just({}), _kw(regex=st.sampled_from(REGEXES)))
    ),
    f"{_P}not_match_regex": lambda: _merged(_on(_ALL), _kw(regex=st.sampled_from(REGEXES))),
    f"{_P}match_regex_list": lambda: _merged(
        _on(_ALL), _kw(regex_list=_REGEX_LIST), _OPTIONAL_MATCH_ON
    ),
    f"{_P}not_match_regex_list": lambda: _merged(_on(_ALL), _kw(regex_list=_REGEX_LIST)),
    f"{_P}match_strftime_format": lambda: _merged(
        _only(_TEXT), _kw(strftime_format=st.sampled_from(STRFTIME_FORMATS))
    ),
    f"{_P}be_dateutil_parseable": lambda: _only(_TEXT),
    f"{_P}be_json_parseable": lambda: _on(_TEXT, 2),
    f"{_P}match_json_schema": lambda: _merged(
        _only(("json",)), _kw(json_schema=st.sampled_from(JSON_SCHEMAS).map(copy.deepcopy))
    ),
    f"{_P}be_of_type": lambda: _merged(_on(_ALL), _kw(type_=st.sampled_from(TYPE_NAMES))),
    f"{_P}be_in_type_list": lambda: _merged(
        _on(_ALL),
        _kw(type_list=st.one_of(st.none(), _TYPE_LIST)),
    ),
    "expect_column_pair_values_to_be_equal": lambda: _merged(
        _pair(_NUMERIC), _with_ignore(_IGNORE_PAIR)
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": lambda: _merged(
        st.sampled_from(_COMPARABLE_PAIRS).map(lambda ab: {"column_A": ab[0], "column_B": ab[1]}),
        _with_ignore(_IGNORE_PAIR),
        st.one_of(st.just({}), _kw(or_equal=st.sampled_from((None, True, False)))),
    ),
    "expect_column_pair_values_to_be_in_set": lambda: _merged(
        _pair(_NUMERIC), _kw(value_pairs_set=_PAIR_SET), _with_ignore(_IGNORE_PAIR)
    ),
    "expect_multicolumn_sum_to_equal": lambda: _merged(
        _column_list(_NUMERIC, 3),
        _kw(sum_total=_SUMS),
        _with_ignore(_IGNORE_MULTI),
    ),
    "expect_multicolumn_values_to_be_equal": lambda: _merged(
        _column_list(_NUMERIC, 3), _with_ignore(_IGNORE_MULTI)
    ),
    "expect_select_column_values_to_be_unique_within_record": lambda: _merged(
        _column_list((*_NUMERIC, "text"), 4), _with_ignore(_IGNORE_MULTI)
    ),
}

_TABLE_COLUMNS: Final = st.sampled_from((*GEN_TABLE_KEYS, "never"))
TABLE_KWARGS: Final[dict[str, st.SearchStrategy[dict[str, Any]]]] = {
    "expect_column_to_exist": _merged(
        _kw(column=_TABLE_COLUMNS),
        st.one_of(st.just({}), _kw(column_index=st.integers(0, 4))),
    ),
    "expect_table_columns_to_match_set": _merged(
        _kw(column_set=st.one_of(st.lists(_TABLE_COLUMNS, max_size=5, unique=True), st.just(None))),
        st.one_of(st.just({}), _kw(exact_match=st.sampled_from((True, False, None)))),
    ),
    "expect_table_column_count_to_equal": _kw(value=st.integers(0, 5)),
    "expect_table_column_count_to_be_between": _bounds(
        st.one_of(st.integers(0, 5), st.sampled_from((1.5, 2.5)))
    ).map(lambda kw: {k: v for k, v in kw.items() if not k.startswith("strict")}),
}

ROW_TYPES: Final[tuple[str, ...]] = tuple(sorted(KWARGS))
TABLE_TYPES: Final[tuple[str, ...]] = tuple(sorted(TABLE_KWARGS))


def _with_ids(cfgs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {"type": etype, "kwargs": kwargs, "meta": {"id": f"{etype.removeprefix('expect_')}-{i}"}}
        for i, (etype, kwargs) in enumerate(cfgs)
    ]


_MOSTLY: Final[st.SearchStrategy[dict[str, Any]]] = st.one_of(
    st.just({}), st.just({}), st.sampled_from((0.5, 0.9, 0.999)).map(lambda m: {"mostly": m})
)
_SEVERITY: Final[st.SearchStrategy[dict[str, Any]]] = st.one_of(
    st.just({}), st.sampled_from(("critical", "warning", "info")).map(lambda s: {"severity": s})
)

UNCONDITIONED: Final = {
    "expect_column_pair_values_to_be_in_set": (
        "GX 1.24 ignores row_condition when it lists this type's unexpected rows "
        "(ColumnPairValuesInSet.condition_domain_keys lacks it), then errors on the "
        "inconsistent counts; see test_oracle.py"
    ),
}
"""Types drawn without row conditions, and why (a GX bug, not a dqgate one)."""


@st.composite
def expectation_configs(draw: st.DrawFn, etype: str) -> list[dict[str, Any]]:
    """Configs of one row-level type, one per row-condition form (FORMS), with unique ids."""
    forms = ["none"] * len(FORMS) if etype in UNCONDITIONED else FORMS
    cfgs = _with_ids(
        [
            (etype, {**draw(KWARGS[etype]()), **draw(row_conditions(form)), **draw(_MOSTLY)})
            for form in forms
        ]
    )
    for cfg in cfgs:  # severity and mostly change the policy, never a row's verdict
        cfg.update(draw(_SEVERITY))
    return cfgs


@st.composite
def table_configs(draw: st.DrawFn, per_type: int) -> list[dict[str, Any]]:
    """``per_type`` configs of each table-level type (no row conditions: GX has none there)."""
    return _with_ids(
        [(etype, draw(TABLE_KWARGS[etype])) for etype in TABLE_TYPES for _ in range(per_type)]
    )


_HAND_VALUE: Final = st.sampled_from(ANY).map(copy.deepcopy)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordRecipe:
    """How to build one batch of records: a few drawn by hypothesis, then seeded pool records.

    Hypothesis prints the recipe (short) rather than the records when an example fails.
    """

    table: bool
    hand: list[dict[str, Any]]
    rng_seed: int
    n_records: int
    missing_rate: float

    def build(self) -> list[dict[str, Any]]:
        """The records, the hand-drawn ones first."""
        rng = random.Random(self.rng_seed)
        if self.table:
            return copy.deepcopy(self.hand) + draw_table_records(rng, self.n_records)
        drawn = draw_gen_records(rng, self.n_records, missing_rate=self.missing_rate)
        return copy.deepcopy(self.hand) + drawn


@st.composite
def record_recipes(draw: st.DrawFn, *, table: bool, n_min: int, n_max: int) -> RecordRecipe:
    """A recipe for ``n_min``..``n_max`` records plus up to 6 hand-drawn ones."""
    keys = GEN_TABLE_KEYS if table else _ALL
    hand_record = st.dictionaries(st.sampled_from(keys), _HAND_VALUE, max_size=len(keys))
    return RecordRecipe(
        table=table,
        hand=draw(st.lists(hand_record, max_size=6)),
        rng_seed=draw(st.integers(0, 2**32 - 1)),
        n_records=draw(st.integers(n_min, n_max)),
        missing_rate=draw(st.sampled_from((0.0, 0.05, 0.15, 0.3))),
    )
