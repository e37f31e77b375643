"""Read a quarantine topic over a time window without scanning it, or follow it.

Bounded reads (``show``, ``stats``, ``export``, ``replay``) first plan one offset range per
partition, then read the partitions one after the other:

- start: the beginning offset, or with ``since`` Kafka's ``offsets_for_times(since)``
  (the first offset whose timestamp is >= since), or one past a replay checkpoint;
- stop: the end offset when the read starts (records quarantined later are not
  included, so a read always terminates), or with ``until`` ``offsets_for_times(until+1)``,
  the first record past ``until``.

Each fetch asks for at most the records left in the range, so a window is read without
fetching records outside it (:attr:`ReadStats.fetched` counts what the broker delivered).
Kafka's time index assumes timestamps that grow with offsets: a record whose timestamp
is inside the window but was appended after a record stamped past ``until`` is not read.
Every record returned is checked against the window and the filters again.

Records are read with ``isolation_level=read_committed`` and never commit offsets
(no consumer group).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from dqgate.errors import ConfigError
from dqgate.kafka.reader import PartitionReader, partitions_of
from dqgate.quarantine.envelope import QuarantinedRecord, from_message
from dqgate.quarantine.selection import Selection

__all__ = ["PartitionRange", "QuarantineReader", "ReadStats", "topic_partitions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionRange:
    """Offsets ``[start, stop)`` of one partition to read."""

    partition: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        """Offsets in the range (records, unless compacted or transactional)."""
        return max(0, self.stop - self.start)


@dataclass(slots=True)
class ReadStats:
    """What a read did: records fetched from the broker, records matched, the plan."""

    fetched: int = 0
    matched: int = 0
    ranges: list[PartitionRange] = field(default_factory=list)

    @property
    def planned(self) -> int:
        """Offsets in the planned ranges (an upper bound of the records to fetch)."""
        return sum(r.size for r in self.ranges)


async def topic_partitions(options: Mapping[str, Any], topic: str) -> list[int]:
    """The partition numbers of ``topic``; ConfigError when it does not exist."""
    found = await partitions_of(options, [topic])
    if topic in found:
        return found[topic]
    raise ConfigError(
        f"topic {topic!r} does not exist (or is not visible to this user); "
        "`dqgate quarantine ls --config GATE.YAML` lists the quarantine topics"
    )


class QuarantineReader:
    """Reads one :class:`Selection` (async context manager around a
    :class:`~dqgate.kafka.reader.PartitionReader`).

    ``resume_after`` maps partitions to the last offset already handled (a replay
    checkpoint): reading starts after it.
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        selection: Selection,
        *,
        resume_after: Mapping[int, int] | None = None,
        idle_timeout_s: float = 30.0,
    ) -> None:
        self.selection = selection
        self.stats = ReadStats()
        self._options = dict(options)
        self._resume = dict(resume_after or {})
        self._idle_timeout_s = idle_timeout_s
        self._reader: PartitionReader | None = None
        self._partitions: list[int] = []

    async def __aenter__(self) -> QuarantineReader:
        topic = self.selection.topic
        available = await topic_partitions(self._options, topic)
        wanted = self.selection.partitions
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise ConfigError(
                f"topic {topic!r} has partitions {available[0]}..{available[-1]}; "
                f"no partition {', '.join(map(str, unknown))}"
            )
        self._partitions = [p for p in available if not wanted or p in wanted]
        self._reader = await PartitionReader(self._options).__aenter__()
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

    @property
    def _open(self) -> PartitionReader:
        if self._reader is None:
            raise RuntimeError("QuarantineReader is used outside its `async with`")
        return self._reader

    async def plan(self) -> list[PartitionRange]:
        """The offset range of every selected partition (also kept in ``stats.ranges``)."""
        reader = self._open
        tps = reader.partitions(self.selection.topic, self._partitions)
        starts = await reader.beginning_offsets(tps)
        stops = await reader.end_offsets(tps)
        since, until = self.selection.since, self.selection.until
        if since is not None:
            found = await reader.offsets_for_times(tps, since.epoch_ms)
            for tp in tps:
                at = found[tp]
                starts[tp] = stops[tp] if at is None else max(starts[tp], at)
        if until is not None:
            found = await reader.offsets_for_times(tps, until.epoch_ms + 1)
            for tp in tps:
                at = found[tp]
                if at is not None:
                    stops[tp] = min(stops[tp], at)
        for tp in tps:
            if tp.partition in self._resume:
                starts[tp] = max(starts[tp], self._resume[tp.partition] + 1)
        self.stats.ranges = [
            PartitionRange(
                partition=tp.partition, start=starts[tp], stop=max(starts[tp], stops[tp])
            )
            for tp in tps
        ]
        return self.stats.ranges

    async def records(self) -> AsyncIterator[QuarantinedRecord]:
        """The selected records, partition after partition, each in offset order."""
        reader = self._open
        ranges = self.stats.ranges or await self.plan()
        limit = self.selection.limit
        for span in ranges:
            if limit is not None and self.stats.matched >= limit:
                return
            if span.size == 0:
                continue
            (tp,) = reader.partitions(self.selection.topic, [span.partition])
            batches = reader.read_range(
                tp, span.start, span.stop, idle_timeout_s=self._idle_timeout_s
            )
            async with contextlib.aclosing(batches):
                async for messages in batches:
                    for message in messages:
                        self.stats.fetched += 1
                        if message.offset >= span.stop:
                            break
                        record = from_message(message)
                        if self.selection.matches(record):
                            self.stats.matched += 1
                            yield record
                            if limit is not None and self.stats.matched >= limit:
                                return

    async def follow(self) -> AsyncIterator[QuarantinedRecord]:
        """Records appended after the call, as they arrive, forever (``limit`` ends it)."""
        reader = self._open
        tps = reader.partitions(self.selection.topic, self._partitions)
        await reader.assign(tps, at="end")
        limit = self.selection.limit
        while limit is None or self.stats.matched < limit:
            batch = await reader.poll()
            for tp in sorted(batch, key=lambda t: t.partition):
                for message in batch[tp]:
                    self.stats.fetched += 1
                    record = from_message(message)
                    if self.selection.matches(record):
                        self.stats.matched += 1
                        yield record
                        if limit is not None and self.stats.matched >= limit:
                            return
