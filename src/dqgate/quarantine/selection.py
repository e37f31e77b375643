"""Which quarantined records a command works on: a topic, a time window and filters.

Times are ISO 8601 (``2024-05-01``, ``2024-05-01T10:00:00Z``, ``...+02:00``; without an
offset: UTC), relative durations back from now (``90s``, ``30m``, ``2h``, ``7d``, ``2w``)
or ``now``. ``--since`` is inclusive, ``--until`` too; both compare with the Kafka record
timestamp of the quarantined record (the gate keeps the source record's timestamp).

Filters of different kinds must all match (AND); several values of one kind match any
of them (OR): ``--reason missing_field --reason out_of_range --column age``.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import orjson

from dqgate.quarantine.envelope import QuarantinedRecord

__all__ = ["Instant", "Selection", "parse_instant", "parse_rate"]

_RELATIVE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_MS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_UNIT_MS["w"] = 7 * _UNIT_MS["d"]
_RATE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s)?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Instant:
    """A point in time as the user wrote it (``text``) and resolved (``epoch_ms``)."""

    text: str
    epoch_ms: int

    def __str__(self) -> str:
        return format_ms(self.epoch_ms)


def parse_instant(text: str, *, now_ms: int | None = None) -> Instant:
    """``2h``, ``7d``, ``now`` or ISO 8601 -> Instant; ValueError says what is accepted."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    stripped = text.strip()
    if stripped.lower() == "now":
        return Instant(text, now)
    relative = _RELATIVE.match(stripped)
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2).lower()
        return Instant(text, now - int(amount * _UNIT_MS[unit]))
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 (2024-05-01T10:00:00Z), a duration "
            "back from now (30m, 2h, 7d) or 'now'"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Instant(text, int(moment.timestamp() * 1000))


def parse_rate(text: str) -> float:
    """``50/s``, ``50`` or ``0.5/s`` -> records per second (> 0); ValueError otherwise."""
    found = _RATE.match(text)
    rate = float(found.group(1)) if found else 0.0
    if rate <= 0:
        raise ValueError(f"{text!r} is not a rate: use records per second, e.g. 50/s")
    return rate


def format_ms(epoch_ms: int | None) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds (``-`` for None)."""
    if epoch_ms is None:
        return "-"
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """A quarantine topic, optionally narrowed by partitions, a time window and filters."""

    topic: str
    partitions: tuple[int, ...] = ()
    """Empty: every partition."""
    since: Instant | None = None
    until: Instant | None = None
    reasons: tuple[str, ...] = ()
    expectations: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    limit: int | None = None
    """At most this many matching records (None: all)."""

    def __post_init__(self) -> None:
        since, until = self.since, self.until
        if since is not None and until is not None and since.epoch_ms > until.epoch_ms:
            raise ValueError(
                f"--since {since.text} ({since}) is after --until {until.text} ({until})"
            )
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"--limit must be >= 0, got {self.limit}")

    def in_window(self, timestamp_ms: int | None) -> bool:
        """True when the timestamp is within [since, until] (no timestamp: no window)."""
        if self.since is None and self.until is None:
            return True
        if timestamp_ms is None:
            return False
        if self.since is not None and timestamp_ms < self.since.epoch_ms:
            return False
        return self.until is None or timestamp_ms <= self.until.epoch_ms

    def matches(self, record: QuarantinedRecord) -> bool:
        """True when the record is in the window and passes every filter."""
        if self.partitions and record.partition not in self.partitions:
            return False
        if not self.in_window(record.timestamp_ms):
            return False
        if self.reasons and not set(self.reasons) & set(record.reasons):
            return False
        if self.expectations and not set(self.expectations) & set(record.expectation_ids):
            return False
        return not self.columns or bool(set(self.columns) & set(record.columns))

    def describe(self) -> dict[str, object]:
        """The selection as the user gave it (times as written), JSON-able."""
        return {
            "topic": self.topic,
            "partitions": sorted(self.partitions),
            "since": None if self.since is None else self.since.text,
            "until": None if self.until is None else self.until.text,
            "reasons": sorted(self.reasons),
            "expectations": sorted(self.expectations),
            "columns": sorted(self.columns),
            "limit": self.limit,
        }

    def fingerprint(self) -> str:
        """A short stable hash of :meth:`describe` (relative times hash as written)."""
        blob = orjson.dumps(self.describe(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()[:16]
