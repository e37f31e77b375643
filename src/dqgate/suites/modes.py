"""How each expectation of a suite is evaluated in the stream: its mode and its policy.

- ``compiled``: a per-record check with GX's semantics (the fast path);
- ``fallback``: a per-record expectation dqgate does not compile (a pandas pass-through
  row condition, a newer or custom map type): GX's own engine on micro-batches;
- ``window``: batch-only and aggregate expectations, evaluated by GX over tumbling windows
  and reported as metrics, never quarantining a record;
- ``unsupported``: refused at start-up, with the reason.

Registered types (:mod:`dqgate.suites.catalog`) have their mode from the registry; the
others are classified by their GX class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dqgate.suites.loader import LoadedExpectation
from dqgate.suites.registry import Mode, registration
from dqgate.verdict import Policy, Reason

__all__ = ["Mode", "ModeDecision", "classify", "default_reason", "policy_of"]


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


def default_reason(expectation_type: str) -> Reason:
    """The reason class a failure of this type reports unless the suite overrides it."""
    entry = registration(expectation_type)
    return entry.reason if entry is not None else Reason.EVALUATION_ERROR


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


_WINDOW_WHY = "needs many records: evaluated by GX over tumbling windows"


def classify(e: LoadedExpectation) -> ModeDecision:
    """The mode for one loaded expectation (no exception: unsupported is a decision)."""
    policy, _ = policy_of(e.gx)
    entry = registration(e.type)
    if entry is not None and entry.mode is Mode.UNSUPPORTED:
        return ModeDecision(mode=Mode.UNSUPPORTED, policy=policy, why=entry.why)
    if entry is not None and entry.mode is Mode.WINDOW:
        return ModeDecision(mode=Mode.WINDOW, policy=Policy.OBSERVE, why=entry.why)
    condition = getattr(e.gx, "row_condition", None)
    pass_through = getattr(condition, "type", None) == "pass_through"
    if entry is not None:  # compiled, unless GX must evaluate its pandas condition
        if not pass_through:
            return ModeDecision(mode=Mode.COMPILED, policy=policy, why=entry.why)
        return ModeDecision(
            mode=Mode.FALLBACK,
            policy=policy,
            why="pandas pass-through row_condition: GX's engine on micro-batches",
        )
    if _is_map(e.gx):
        return ModeDecision(
            mode=Mode.FALLBACK,
            policy=policy,
            why="map expectation without a compiled check: GX's engine on micro-batches",
        )
    if _is_batch(e.gx):
        return ModeDecision(mode=Mode.WINDOW, policy=Policy.OBSERVE, why=_WINDOW_WHY)
    return ModeDecision(
        mode=Mode.UNSUPPORTED, policy=policy, why="neither a per-record nor a batch expectation"
    )
