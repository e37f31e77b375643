"""How each expectation of a suite is evaluated in the stream: its mode and its policy.

- ``compiled``: a per-record check with GX's semantics (the fast path);
- ``fallback``: a per-record expectation dqgate does not compile (a pandas pass-through
  row condition, a newer or custom map type): GX's own engine on micro-batches;
- ``window``: batch-only and aggregate expectations, evaluated by GX over tumbling
  windows and reported as metrics, never quarantining a record;
- ``unsupported``: refused at start-up, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from dqgate.suites.checks import supported_types
from dqgate.suites.loader import LoadedExpectation
from dqgate.verdict import Policy

__all__ = ["Mode", "ModeDecision", "classify", "policy_of"]


class Mode(StrEnum):
    """Where an expectation is evaluated."""

    COMPILED = "compiled"
    FALLBACK = "fallback"
    WINDOW = "window"
    UNSUPPORTED = "unsupported"


_SQL_LIKE: Final = "SQL LIKE patterns have no pandas engine in GX"
UNSUPPORTED_TYPES: Final[dict[str, str]] = {
    "expect_column_values_to_match_like_pattern": _SQL_LIKE,
    "expect_column_values_to_match_like_pattern_list": _SQL_LIKE,
    "expect_column_values_to_not_match_like_pattern": _SQL_LIKE,
    "expect_column_values_to_not_match_like_pattern_list": _SQL_LIKE,
    "expect_query_results_to_match_comparison": "it runs SQL queries against a database",
    "expect_table_row_count_to_equal_other_table": "it compares two database tables",
    "unexpected_rows_expectation": "it runs an SQL query against a database",
}

WINDOW_TYPES: Final = frozenset(
    {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_decreasing",
        "expect_column_value_z_scores_to_be_less_than",
        "expect_column_values_to_not_be_outliers",
        "expect_compound_columns_to_be_unique",
        "expect_column_type_to_be",
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_columns_to_match_ordered_list",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeDecision:
    """An expectation's mode, its policy, and why."""

    mode: Mode
    policy: Policy
    why: str


def policy_of(gx: Any) -> tuple[Policy, float]:
    """Enforce when severity is critical and mostly is 1; observe otherwise."""
    severity = getattr(gx.severity, "value", gx.severity)
    mostly = float(getattr(gx, "mostly", 1.0) if getattr(gx, "mostly", None) is not None else 1.0)
    enforce = severity == "critical" and mostly >= 1.0
    return (Policy.ENFORCE if enforce else Policy.OBSERVE), mostly


def _is_map(gx: Any) -> bool:
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )

    return isinstance(
        gx, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation
    )


def _is_batch(gx: Any) -> bool:
    from great_expectations.expectations.expectation import BatchExpectation

    return isinstance(gx, BatchExpectation)


def classify(e: LoadedExpectation) -> ModeDecision:
    """The mode for one loaded expectation (no exception: unsupported is a decision)."""
    policy, _ = policy_of(e.gx)
    if e.type in UNSUPPORTED_TYPES:
        return ModeDecision(mode=Mode.UNSUPPORTED, policy=policy, why=UNSUPPORTED_TYPES[e.type])
    condition = getattr(e.gx, "row_condition", None)
    pass_through = getattr(condition, "type", None) == "pass_through"
    if e.type in WINDOW_TYPES or (
        _is_batch(e.gx) and not _is_map(e.gx) and e.type not in supported_types()
    ):
        return ModeDecision(
            mode=Mode.WINDOW,
            policy=Policy.OBSERVE,
            why="needs many records: evaluated by GX over tumbling windows",
        )
    if e.type in supported_types() and not pass_through:
        return ModeDecision(mode=Mode.COMPILED, policy=policy, why="per-record check")
    if _is_map(e.gx) or e.type in supported_types():
        why = (
            "pandas pass-through row_condition"
            if pass_through
            else "map expectation without a compiled check"
        )
        return ModeDecision(
            mode=Mode.FALLBACK, policy=policy, why=f"{why}: GX's engine on micro-batches"
        )
    return ModeDecision(
        mode=Mode.UNSUPPORTED, policy=policy, why="neither a per-record nor a batch expectation"
    )
