"""Read a gate's output topics back and account for every source offset by lineage.

Used by the demo (wait until everything is routed, then summarise), by the integration
tests (zero loss, duplicates) and by the benchmark. Every output record names its
source record in its ``dqgate.source.*`` headers, so "nothing lost" is: every
``(topic, partition, offset)`` below the source's end offsets was seen at least once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from dqgate.routing import REASONS, Header, lineage_of

__all__ = ["ConsumedRecord", "OutputReader", "SourceOffset", "end_offsets"]

SourceOffset = tuple[str, int, int]
"""``(topic, partition, offset)`` of a source record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsumedRecord:
    """One record read back from an output topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]

    def header(self, name: str) -> bytes | None:
        """The first header named ``name`` (None if absent)."""
        return next((v for n, v in self.headers if n == name), None)


async def _partitions(options: Mapping[str, Any], topics: Iterable[str]) -> list[Any]:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(set(topics)))
    finally:
        await admin.close()
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    ]


async def end_offsets(
    options: Mapping[str, Any], topics: Iterable[str]
) -> dict[tuple[str, int], int]:
    """``{(topic, partition): end offset}`` of existing ``topics``."""
    from aiokafka import AIOKafkaConsumer

    tps = await _partitions(options, topics)
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}


@dataclass(slots=True, kw_only=True)
class _Tally:
    seen: Counter[SourceOffset] = field(default_factory=Counter)
    quarantined: set[SourceOffset] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    unlabelled: int = 0


class OutputReader:
    """Reads output topics from their beginning (async context manager).

    ``keep_records=True`` also keeps every record (for byte-for-byte comparisons).
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        topics: Sequence[str],
        *,
        quarantine_topics: Sequence[str] = (),
        keep_records: bool = False,
    ) -> None:
        self._options = dict(options)
        self._topics = tuple(topics)
        self._quarantine = frozenset(quarantine_topics)
        self._keep = keep_records
        self._consumer: Any = None
        self._tally = _Tally()
        self.records: list[ConsumedRecord] = []

    async def __aenter__(self) -> OutputReader:
        from aiokafka import AIOKafkaConsumer

        tps = await _partitions(self._options, self._topics)
        self._consumer = AIOKafkaConsumer(
            **self._options, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_beginning(*tps)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def poll(self, timeout_s: float = 0.5) -> int:
        """Read what is available (waiting up to ``timeout_s``); returns records read."""
        batches = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000), max_records=10_000)
        n = 0
        tally = self._tally
        for messages in batches.values():
            for m in messages:
                n += 1
                headers = tuple(m.headers or ())
                source = lineage_of(headers)
                if source is None:
                    tally.unlabelled += 1
                else:
                    tally.seen[source] += 1
                    if m.topic in self._quarantine and source not in tally.quarantined:
                        tally.quarantined.add(source)
                        reasons = next((v for k, v in headers if k == REASONS), None) or b""
                        for reason in reasons.decode("utf-8").split(","):
                            tally.reasons[reason] += 1
                if self._keep:
                    self.records.append(
                        ConsumedRecord(
                            topic=m.topic,
                            partition=m.partition,
                            offset=m.offset,
                            timestamp_ms=m.timestamp,
                            key=m.key,
                            value=m.value,
                            headers=headers,
                        )
                    )
        return n

    async def wait_for(
        self, expected: Mapping[tuple[str, int], int], *, timeout_s: float, idle_s: float = 0.5
    ) -> bool:
        """Read until every source offset below ``expected`` ends is seen; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            await self.poll(idle_s)
            if not self.missing(expected, limit=1):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0)

    def missing(
        self, expected: Mapping[tuple[str, int], int], *, limit: int | None = None
    ) -> list[SourceOffset]:
        """Source offsets not seen in any output (at most ``limit`` of them)."""
        seen = self._tally.seen
        out: list[SourceOffset] = []
        for (topic, partition), end in sorted(expected.items()):
            for offset in range(end):
                if (topic, partition, offset) not in seen:
                    out.append((topic, partition, offset))
                    if limit is not None and len(out) >= limit:
                        return out
        return out

    @property
    def seen(self) -> Counter[SourceOffset]:
        """How many outputs each source offset has (more than 1: a duplicate)."""
        return self._tally.seen

    @property
    def duplicates(self) -> int:
        """Output records beyond the first for their source offset."""
        return sum(n - 1 for n in self._tally.seen.values())

    @property
    def quarantined(self) -> set[SourceOffset]:
        """Distinct source offsets found in a quarantine topic."""
        return self._tally.quarantined

    @property
    def reasons(self) -> Counter[str]:
        """Distinct quarantined source records per reason class."""
        return self._tally.reasons

    @property
    def unlabelled(self) -> int:
        """Output records without lineage headers (should be 0)."""
        return self._tally.unlabelled
