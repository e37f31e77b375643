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

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from dqgate.errors import ConfigError, GateError
from dqgate.kafka.probe import connection_error
from dqgate.quarantine.envelope import QuarantinedRecord, from_message
from dqgate.quarantine.selection import Selection

__all__ = ["PartitionRange", "QuarantineReader", "ReadStats", "topic_partitions"]

_MAX_BATCH: Final = 500
_POLL_MS: Final = 500


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
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(**options)
    try:
        await admin.start()
        described = await admin.describe_topics(None)  # all: naming one may auto-create it
    except (KafkaError, OSError) as exc:
        raise await connection_error(options, exc) from exc
    finally:
        await admin.close()
    for entry in described:
        if entry["topic"] == topic and entry["error_code"] == 0 and entry["partitions"]:
            return sorted(int(p["partition"]) for p in entry["partitions"])
    raise ConfigError(
        f"topic {topic!r} does not exist (or is not visible to this user); "
        "`dqgate quarantine ls --config GATE.YAML` lists the quarantine topics"
    )


class QuarantineReader:
    """Reads one :class:`Selection` (async context manager around an aiokafka consumer).

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
        self._consumer: Any = None
        self._partitions: list[int] = []

    async def __aenter__(self) -> QuarantineReader:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.errors import KafkaError

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
        self._consumer = AIOKafkaConsumer(
            **self._options,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        try:
            await self._consumer.start()
            await asyncio.sleep(0)  # let aiokafka's no-group task start, or stop() raises
        except (KafkaError, OSError) as exc:
            raise await connection_error(self._options, exc) from exc
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

    async def plan(self) -> list[PartitionRange]:
        """The offset range of every selected partition (also kept in ``stats.ranges``)."""
        from aiokafka import TopicPartition

        topic = self.selection.topic
        tps = [TopicPartition(topic, p) for p in self._partitions]
        begins = await self._consumer.beginning_offsets(tps)
        ends = await self._consumer.end_offsets(tps)
        starts = {tp: int(begins[tp]) for tp in tps}
        stops = {tp: int(ends[tp]) for tp in tps}
        since, until = self.selection.since, self.selection.until
        if since is not None:
            found = await self._consumer.offsets_for_times({tp: since.epoch_ms for tp in tps})
            for tp in tps:
                starts[tp] = stops[tp] if found[tp] is None else max(starts[tp], found[tp].offset)
        if until is not None:
            found = await self._consumer.offsets_for_times({tp: until.epoch_ms + 1 for tp in tps})
            for tp in tps:
                if found[tp] is not None:
                    stops[tp] = min(stops[tp], found[tp].offset)
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
        from aiokafka import TopicPartition

        ranges = self.stats.ranges or await self.plan()
        limit = self.selection.limit
        for span in ranges:
            if limit is not None and self.stats.matched >= limit:
                return
            if span.size == 0:
                continue
            tp = TopicPartition(self.selection.topic, span.partition)
            self._consumer.assign([tp])
            self._consumer.seek(tp, span.start)
            idle_since = time.monotonic()
            while (position := await self._consumer.position(tp)) < span.stop:
                if limit is not None and self.stats.matched >= limit:
                    return
                batch = await self._consumer.getmany(
                    tp, timeout_ms=_POLL_MS, max_records=min(_MAX_BATCH, span.stop - position)
                )
                messages = batch.get(tp, [])
                if not messages:
                    if time.monotonic() - idle_since > self._idle_timeout_s:
                        raise GateError(
                            f"no records from {tp.topic}[{tp.partition}]@{position} for "
                            f"{self._idle_timeout_s:.0f} s although its range ends at "
                            f"{span.stop}; is the broker reachable?",
                            retriable=True,
                        )
                    continue
                idle_since = time.monotonic()
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
        from aiokafka import TopicPartition

        tps = [TopicPartition(self.selection.topic, p) for p in self._partitions]
        self._consumer.assign(tps)
        ends = await self._consumer.end_offsets(tps)
        for tp in tps:
            self._consumer.seek(tp, ends[tp])
        limit = self.selection.limit
        while limit is None or self.stats.matched < limit:
            batch = await self._consumer.getmany(timeout_ms=_POLL_MS, max_records=_MAX_BATCH)
            for tp in sorted(batch, key=lambda t: t.partition):
                for message in batch[tp]:
                    self.stats.fetched += 1
                    record = from_message(message)
                    if self.selection.matches(record):
                        self.stats.matched += 1
                        yield record
                        if limit is not None and self.stats.matched >= limit:
                            return
