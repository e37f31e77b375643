"""VerdictTally: counts of verdicts by outcome, reason and expectation, for people and JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dqgate.verdict import Failure, Outcome, Policy, Verdict

__all__ = ["VerdictTally"]


@dataclass(slots=True)
class VerdictTally:
    """Accumulates verdicts. ``by_reason`` counts records (a record counts once per reason)."""

    total: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    by_expectation: Counter[str] = field(default_factory=Counter)
    expectations: dict[str, Failure] = field(default_factory=dict)

    def add(self, verdict: Verdict) -> None:
        """Count one verdict."""
        self.total += 1
        self.by_outcome[verdict.outcome.value] += 1
        if not verdict.failures:
            return
        if verdict.outcome is not Outcome.PASS:
            for reason in verdict.reasons:
                self.by_reason[reason.value] += 1
        for failure in verdict.failures:
            self.by_expectation[failure.expectation_id] += 1
            self.expectations.setdefault(failure.expectation_id, failure)

    @property
    def quarantined(self) -> int:
        """Records routed to quarantine (outcome quarantine or error)."""
        return self.by_outcome[Outcome.QUARANTINE.value] + self.by_outcome[Outcome.ERROR.value]

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form (stable keys)."""
        return {
            "total": self.total,
            "by_outcome": {o.value: self.by_outcome[o.value] for o in Outcome},
            "by_reason": dict(sorted(self.by_reason.items())),
            "by_expectation": {
                eid: {
                    "type": f.type,
                    "column": list(f.column) if isinstance(f.column, tuple) else f.column,
                    "policy": f.policy.value,
                    "failures": self.by_expectation[eid],
                }
                for eid, f in sorted(self.expectations.items())
            },
        }

    def render(self) -> str:
        """A short human summary."""
        lines = [f"records: {self.total}"]
        for outcome in Outcome:
            n = self.by_outcome[outcome.value]
            lines.append(f"  {outcome.value:<11} {n:>9}  {_pct(n, self.total)}")
        if self.by_reason:
            lines.append("quarantined by reason (records):")
            for reason, n in self.by_reason.most_common():
                lines.append(f"  {reason:<17} {n:>9}  {_pct(n, self.total)}")
        if self.expectations:
            lines.append("failures by expectation:")
            for eid, n in self.by_expectation.most_common():
                f = self.expectations[eid]
                note = " (observed only)" if f.policy is Policy.OBSERVE and not f.error else ""
                lines.append(f"  {eid:<30} {n:>9}  {_pct(n, self.total)}  {f.type}{note}")
        return "\n".join(lines)


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:6.2f}%" if total else "   n/a"
