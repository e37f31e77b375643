"""Counts and shares of quarantined records, grouped by reason, expectation, column,
source partition or hour.

A record counts once in every group it belongs to: a record failing two expectations
counts for both, so shares (count / records) can add up to more than 1 for
``reason``, ``expectation`` and ``column``; for ``source-partition`` and ``hour`` every
record is in exactly one group. Records without the header a grouping needs count in
the group ``(none)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from dqgate.quarantine.envelope import QuarantinedRecord

__all__ = ["NONE", "GroupBy", "Tally"]

NONE: Final = "(none)"


class GroupBy(StrEnum):
    """What ``stats --by`` groups on."""

    REASON = "reason"
    EXPECTATION = "expectation"
    COLUMN = "column"
    SOURCE_PARTITION = "source-partition"
    HOUR = "hour"


def group_keys(record: QuarantinedRecord, by: GroupBy) -> tuple[str, ...]:
    """The groups ``record`` counts in (at least one)."""
    keys: tuple[str, ...]
    match by:
        case GroupBy.REASON:
            keys = record.reasons
        case GroupBy.EXPECTATION:
            keys = record.expectation_ids
        case GroupBy.COLUMN:
            keys = record.columns
        case GroupBy.SOURCE_PARTITION:
            where = record.source_where
            keys = () if where is None else (where.rpartition("@")[0],)
        case GroupBy.HOUR:
            ts = record.timestamp_ms
            keys = () if ts is None else (_hour(ts),)
    return keys or (NONE,)


def _hour(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:00Z")


@dataclass(slots=True)
class Tally:
    """Counts records into groups as they stream past."""

    by: GroupBy
    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, record: QuarantinedRecord) -> None:
        """Count one record."""
        self.records += 1
        for key in group_keys(record, self.by):
            self.counts[key] += 1

    def rows(self) -> list[tuple[str, int, float]]:
        """``(group, count, share)``: hours in time order, other groups by count."""
        if self.by is GroupBy.HOUR:
            ordered = sorted(self.counts.items())
        else:
            ordered = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        total = self.records or 1
        return [(key, count, count / total) for key, count in ordered]

    def to_dict(self) -> dict[str, Any]:
        """``{"by", "records", "counts", "shares", "groups": [{key, count, share}]}``."""
        rows = self.rows()
        return {
            "by": str(self.by),
            "records": self.records,
            "counts": {k: c for k, c, _ in rows},
            "shares": {k: round(s, 6) for k, _, s in rows},
            "groups": [{"key": k, "count": c, "share": round(s, 6)} for k, c, s in rows],
        }
