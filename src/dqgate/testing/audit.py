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

from dqgate.kafka.reader import PartitionReader, partitions_of
from dqgate.routing import REASONS, SourceRecord, lineage_of

__all__ = ["OutputReader", "SourceOffset", "end_offsets"]

SourceOffset = tuple[str, int, int]
"""``(topic, partition, offset)`` of a source record."""


async def _partitions(options: Mapping[str, Any], topics: Iterable[str]) -> list[Any]:
    found = await partitions_of(options, topics)
    return [
        tp for topic, ps in sorted(found.items()) for tp in PartitionReader.partitions(topic, ps)
    ]


async def end_offsets(
    options: Mapping[str, Any], topics: Iterable[str]
) -> dict[tuple[str, int], int]:
    """``{(topic, partition): end offset}`` of existing ``topics``."""
    tps = await _partitions(options, topics)
    async with PartitionReader(options) as reader:
        ends = await reader.end_offsets(tps)
    return {(tp.topic, tp.partition): end for tp, end in ends.items()}


@dataclass(slots=True, kw_only=True)
class _Tally:
    seen: Counter[SourceOffset] = field(default_factory=Counter)
    quarantined: set[SourceOffset] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)
    unlabelled: int = 0


class OutputReader:
    """Reads output topics from their beginning (async context manager).

    ``keep_records=True`` also keeps every record read (:class:`~dqgate.routing.SourceRecord`
    values, for byte-for-byte comparisons).
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
        self._reader: PartitionReader | None = None
        self._tally = _Tally()
        self.records: list[SourceRecord] = []

    async def __aenter__(self) -> OutputReader:
        tps = await _partitions(self._options, self._topics)
        self._reader = await PartitionReader(self._options).__aenter__()
        await self._reader.assign(tps, at="beginning")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None:
            await self._reader.__aexit__(exc_type, exc, tb)
            self._reader = None

    async def poll(self, timeout_s: float = 0.5) -> int:
        """Read what is available (waiting up to ``timeout_s``); returns records read."""
        if self._reader is None:
            raise RuntimeError("OutputReader is used outside its `async with`")
        batches = await self._reader.poll(timeout_s, max_records=10_000)
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
                        SourceRecord(
                            topic=m.topic,
                            partition=m.partition,
                            offset=m.offset,
                            timestamp=m.timestamp,
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
