"""A quarantined record with its dqgate headers decoded: what failed, where it came from.

The gate writes the headers listed in :mod:`dqgate.routing`; replay adds two more:

=========================== =============================================================
``dqgate.replay.count``     how many times the record was replayed, decimal (absent: 0)
``dqgate.replay.of``        ``topic/partition/offset`` of the quarantined record replayed
``dqgate.replay.at``        when it was replayed, ISO 8601 UTC with milliseconds (the
                            record keeps its original timestamp)
=========================== =============================================================

Decoding never raises: a header that is missing or malformed leaves its field empty and
is named in :attr:`QuarantinedRecord.problems` (a record produced into a quarantine topic
by something else than the gate is still shown, exported and counted). When a header
occurs more than once, the first one counts, as in :func:`dqgate.routing.lineage_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

from dqgate import provenance
from dqgate.routing import (
    FAILURES,
    GATE_VERSION,
    QUARANTINED_AT,
    REASONS,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TIMESTAMP,
    SOURCE_TOPIC,
    STAGE,
    SUITE,
    SUITE_HASH,
    Header,
)

__all__ = [
    "DQGATE_HEADER_PREFIX",
    "REPLAY_AT",
    "REPLAY_COUNT",
    "REPLAY_OF",
    "FailureInfo",
    "QuarantinedRecord",
    "decode_record",
    "from_message",
]

DQGATE_HEADER_PREFIX: Final = "dqgate."
REPLAY_COUNT: Final = provenance.REPLAY_COUNT
REPLAY_OF: Final = provenance.REPLAY_OF
REPLAY_AT: Final = provenance.REPLAY_AT

Column = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureInfo:
    """One enforced failure as the ``dqgate.failures`` header lists it (no record values)."""

    expectation_id: str
    type: str
    column: Column
    reason: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The referenced columns as a tuple (empty when the failure names none)."""
        if self.column is None:
            return ()
        return self.column if isinstance(self.column, tuple) else (self.column,)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, shaped like the header's entries."""
        column = list(self.column) if isinstance(self.column, tuple) else self.column
        return {
            "expectation_id": self.expectation_id,
            "type": self.type,
            "column": column,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedRecord:
    """A record read from a quarantine topic: the raw bytes plus its decoded headers."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    source_topic: str | None = None
    source_partition: int | None = None
    source_offset: int | None = None
    source_timestamp_ms: int | None = None
    suite: str | None = None
    suite_hash: str | None = None
    stage: str | None = None
    reasons: tuple[str, ...] = ()
    failures: tuple[FailureInfo, ...] = ()
    gate_version: str | None = None
    quarantined_at: str | None = None
    replay_count: int | None = 0
    """Replays so far (0 when the header is absent, None when it is unreadable)."""
    replay_of: str | None = None
    problems: tuple[str, ...] = ()
    """Names of dqgate headers that were present but could not be decoded."""

    @property
    def where(self) -> str:
        """``topic[partition]@offset`` of this quarantined record (for logs)."""
        return f"{self.topic}[{self.partition}]@{self.offset}"

    @property
    def source_where(self) -> str | None:
        """``topic[partition]@offset`` of the source record, None without lineage."""
        if self.source_topic is None or self.source_partition is None:
            return None
        offset = "?" if self.source_offset is None else str(self.source_offset)
        return f"{self.source_topic}[{self.source_partition}]@{offset}"

    @property
    def user_headers(self) -> tuple[Header, ...]:
        """The headers not written by dqgate (names not starting with ``dqgate.``)."""
        return tuple(h for h in self.headers if not h[0].startswith(DQGATE_HEADER_PREFIX))

    @property
    def expectation_ids(self) -> tuple[str, ...]:
        """Distinct expectation ids of the failures, in header order."""
        return tuple(dict.fromkeys(f.expectation_id for f in self.failures))

    @property
    def columns(self) -> tuple[str, ...]:
        """Distinct columns of the failures, in header order."""
        return tuple(dict.fromkeys(c for f in self.failures for c in f.columns))

    def header(self, name: str) -> bytes | None:
        """The first header named ``name`` (None when absent)."""
        return next((value for key, value in self.headers if key == name), None)


def from_message(message: Any) -> QuarantinedRecord:
    """Decode an aiokafka ``ConsumerRecord`` read from a quarantine topic."""
    timestamp = message.timestamp
    return decode_record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=None if timestamp is None or timestamp < 0 else int(timestamp),
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
    )


def decode_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header] = (),
) -> QuarantinedRecord:
    """Decode the dqgate headers of one record; never raises on bad header values."""
    first: dict[str, bytes | None] = {}
    for name, raw in headers:
        first.setdefault(name, raw)
    problems: list[str] = []

    def text(name: str) -> str | None:
        raw = first.get(name)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(name)
            return None

    def number(name: str) -> int | None:
        found = text(name)
        if found is None:
            return None
        try:
            return int(found)
        except ValueError:
            problems.append(name)
            return None

    reasons_text = text(REASONS)
    replay_count: int | None = 0
    if first.get(REPLAY_COUNT) is not None:
        replay_count = number(REPLAY_COUNT)
        if replay_count is not None and replay_count < 0:
            problems.append(REPLAY_COUNT)
            replay_count = None
    return QuarantinedRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=timestamp_ms,
        key=key,
        value=value,
        headers=tuple(headers),
        source_topic=text(SOURCE_TOPIC),
        source_partition=number(SOURCE_PARTITION),
        source_offset=number(SOURCE_OFFSET),
        source_timestamp_ms=number(SOURCE_TIMESTAMP),
        suite=text(SUITE),
        suite_hash=text(SUITE_HASH),
        stage=text(STAGE),
        reasons=tuple(r for r in (reasons_text or "").split(",") if r),
        failures=_failures(text(FAILURES), problems),
        gate_version=text(GATE_VERSION),
        quarantined_at=text(QUARANTINED_AT),
        replay_count=replay_count,
        replay_of=text(REPLAY_OF),
        problems=tuple(dict.fromkeys(problems)),
    )


def _failures(raw: str | None, problems: list[str]) -> tuple[FailureInfo, ...]:
    if raw is None:
        return ()
    try:
        items = orjson.loads(raw)
        if not isinstance(items, list):
            raise TypeError("not a list")
        return tuple(_failure(item) for item in items)
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        problems.append(FAILURES)
        return ()


def _failure(item: Any) -> FailureInfo:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    column = item.get("column")
    if isinstance(column, list):
        column = tuple(str(c) for c in column)
    elif column is not None:
        column = str(column)
    return FailureInfo(
        expectation_id=str(item["expectation_id"]),
        type=str(item.get("type", "")),
        column=column,
        reason=str(item.get("reason", "")),
    )
