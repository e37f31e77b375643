"""Counts and shares of quarantined records, grouped by reason, expectation, column,
source partition or hour.

A record counts once in every group it belongs to: a record failing two expectations
counts for both, so shares (count / records) can add up to more than 1 for
``reason``, ``expectation`` and ``column``; for ``source-partition`` and ``hour`` every
record is in exactly one group. Records without the header a grouping needs count in
the group ``(none)``.

``distinct`` counts origins instead of records: the copies that replays leave of one
source record (see :mod:`dqgate.quarantine.origins`) count once per group, and the
total is the number of distinct origins, so 560 copies of 140 records read as 140.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from dqgate.quarantine.envelope import QuarantinedRecord
from dqgate.quarantine.origins import Origins

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
    """Counts records (or, ``distinct``, origins) into groups as they stream past."""

    by: GroupBy
    distinct: bool = False
    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    _origins: Origins = field(default_factory=Origins)
    _members: dict[str, list[str]] = field(default_factory=dict)

    def add(self, record: QuarantinedRecord) -> None:
        """Count one record."""
        self.records += 1
        at = self._origins.add(record) if self.distinct else ""
        for key in group_keys(record, self.by):
            self.counts[key] += 1
            if self.distinct:
                self._members.setdefault(key, []).append(at)

    @property
    def origins(self) -> int:
        """Distinct origins of the records counted (``distinct`` only; else 0)."""
        return self._origins.count() if self.distinct else 0

    def _counts(self) -> dict[str, int]:
        if not self.distinct:
            return dict(self.counts)
        find = self._origins.origin_of
        return {key: len({find(at) for at in ats}) for key, ats in self._members.items()}

    def rows(self) -> list[tuple[str, int, float]]:
        """``(group, count, share)``: hours in time order, other groups by count."""
        counts = self._counts()
        if self.by is GroupBy.HOUR:
            ordered = sorted(counts.items())
        else:
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        total = (self.origins if self.distinct else self.records) or 1
        return [(key, count, count / total) for key, count in ordered]

    def to_dict(self) -> dict[str, Any]:
        """``{"by", "distinct", "records", "origins", "counts", "shares", "groups"}``;
        with ``distinct`` the counts and shares are of origins (``origins`` is null without)."""
        rows = self.rows()
        return {
            "by": str(self.by),
            "distinct": self.distinct,
            "records": self.records,
            "origins": self.origins if self.distinct else None,
            "counts": {k: c for k, c, _ in rows},
            "shares": {k: round(s, 6) for k, _, s in rows},
            "groups": [{"key": k, "count": c, "share": round(s, 6)} for k, c, s in rows],
        }
