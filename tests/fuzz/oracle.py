"""What every verdict must satisfy, whatever the input: the fuzzers' oracle."""

from __future__ import annotations

from collections import Counter

import orjson

from dqgate.suites import CompiledSuite
from dqgate.verdict import Failure, Outcome, Policy, Reason, Stage, Verdict

from .inputs import MARKER

__all__ = ["check_verdict", "tally"]

_OUTCOMES = frozenset(Outcome)


def check_verdict(verdict: object, suite: CompiledSuite, what: object) -> Outcome:
    """Assert ``verdict`` is a well-formed pass / quarantine / error; return its outcome.

    Well-formed: a Verdict of a known outcome and stage; failures of this suite with a
    known reason and policy; the outcome follows from the failures (error if any failure
    is an error, else quarantine if any is enforced, else pass); a decode-stage verdict
    quarantines; every failure is JSON-able (it becomes headers) and quotes no record
    value (:data:`MARKER`).
    """
    assert isinstance(verdict, Verdict), f"{type(verdict).__name__} for {what!r}"
    assert verdict.outcome in _OUTCOMES, what
    assert verdict.stage in (Stage.DECODE, Stage.VALIDATE), what
    errors = enforced = False
    for failure in verdict.failures:
        assert isinstance(failure, Failure), what
        assert failure.suite == suite.name, what
        assert isinstance(failure.reason, Reason) and isinstance(failure.policy, Policy), what
        errors = errors or failure.error
        enforced = enforced or failure.policy is Policy.ENFORCE
        encoded = orjson.dumps(failure.to_dict())
        assert MARKER.encode() not in encoded, f"a failure quotes a record value: {encoded!r}"
    expected = Outcome.ERROR if errors else Outcome.QUARANTINE if enforced else Outcome.PASS
    assert verdict.outcome is expected, f"{verdict} for {what!r}"
    if verdict.stage is Stage.DECODE:
        assert verdict.outcome is Outcome.QUARANTINE and len(verdict.failures) == 1, what
    assert verdict.routed_to_quarantine == (verdict.outcome is not Outcome.PASS), what
    return verdict.outcome


def tally(counts: Counter[str]) -> str:
    """``pass=…, quarantine=…, error=…`` for a report line."""
    return ", ".join(f"{outcome}={counts.get(str(outcome), 0)}" for outcome in Outcome)
