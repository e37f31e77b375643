"""Verdict and Failure values: what failed, where and why, never the record's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = ["PASS", "Failure", "Outcome", "Policy", "Reason", "Stage", "Verdict"]


class Outcome(StrEnum):
    """Where a record goes: ``pass`` to clean, ``quarantine`` and ``error`` to quarantine."""

    PASS = "pass"
    QUARANTINE = "quarantine"
    ERROR = "error"


class Stage(StrEnum):
    """Where the verdict was reached: turning bytes into a record, checking it, or writing
    it to its output (a record that cannot be written whole goes to quarantine as a stub)."""

    DECODE = "decode"
    VALIDATE = "validate"
    DELIVER = "deliver"


class Policy(StrEnum):
    """``enforce`` failures quarantine the record; ``observe`` failures are only counted."""

    ENFORCE = "enforce"
    OBSERVE = "observe"


class Reason(StrEnum):
    """Reason classes: a closed set, safe as a metric label and a header value."""

    UNDECODABLE = "undecodable"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"
    TOMBSTONE = "tombstone"
    """The record has no value (a delete on a compacted or CDC topic)."""
    OUTPUT_TOO_LARGE = "output_too_large"
    """The record with the gate's headers is larger than its output topic accepts."""
    MISSING_FIELD = "missing_field"
    UNPARSEABLE_DATE = "unparseable_date"
    OUT_OF_RANGE = "out_of_range"
    NOT_IN_SET = "not_in_set"
    PATTERN_MISMATCH = "pattern_mismatch"
    WRONG_TYPE = "wrong_type"
    WRONG_LENGTH = "wrong_length"
    EVALUATION_ERROR = "evaluation_error"


Column = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One expectation that a record did not meet (or could not be evaluated on)."""

    suite: str
    expectation_id: str
    type: str
    column: Column
    reason: Reason
    message: str
    policy: Policy = Policy.ENFORCE
    error: bool = False

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able form; ``column`` is a string, a list or null."""
        column: object = list(self.column) if isinstance(self.column, tuple) else self.column
        return {
            "expectation_id": self.expectation_id,
            "type": self.type,
            "column": column,
            "reason": str(self.reason),
            "message": self.message,
            "policy": str(self.policy),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The outcome for one record plus every failure found (enforced and observed)."""

    outcome: Outcome
    failures: tuple[Failure, ...] = field(default=())
    stage: Stage = Stage.VALIDATE

    @property
    def routed_to_quarantine(self) -> bool:
        """True when the record belongs in the quarantine topic."""
        return self.outcome is not Outcome.PASS

    @property
    def enforced(self) -> tuple[Failure, ...]:
        """Failures that decided the outcome (enforced failures and errors)."""
        return tuple(f for f in self.failures if f.policy is Policy.ENFORCE or f.error)

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Distinct reasons of the enforced failures, in first-seen order."""
        seen: dict[Reason, None] = {}
        for f in self.enforced:
            seen.setdefault(f.reason, None)
        return tuple(seen)


PASS: Final = Verdict(outcome=Outcome.PASS)
"""The verdict of a record that met every expectation: one shared value (compare with
``is``; a Verdict is never mutated)."""
