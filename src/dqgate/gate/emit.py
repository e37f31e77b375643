"""Producing a routed batch: one record batch per output partition, one future per batch.

The outputs of a source batch are grouped by output topic and partition and appended to
aiokafka ``BatchBuilder`` s (the producer's batch API), so a source batch of 500 records
costs a handful of futures, not 500.

Partitions: an output topic with as many partitions as the source (the default when the
gate creates it) gets each record in its source partition, so partition p of the clean
topic is partition p of the source, filtered, in the same order, and keys stay where the
source's producer put them. Otherwise keyed records follow the Java client's default
partitioner (murmur2 of the key) and records without a key stick to one partition per
batch.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from dqgate.routing import Output

__all__ = ["Emitter", "Sent", "murmur2", "partition_for"]

_SEED: Final = 0x9747B28C
_M: Final = 0x5BD1E995
_MASK32: Final = 0xFFFFFFFF
_WORD: Final = struct.Struct("<I")


def murmur2(data: bytes) -> int:
    """The Java client's ``Utils.murmur2`` (32-bit, as an unsigned int)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    words = length // 4
    m = _M
    for (k,) in _WORD.iter_unpack(data[: words * 4]) if words else ():
        k = (k * m) & _MASK32
        k ^= k >> 24
        k = (k * m) & _MASK32
        h = ((h * m) & _MASK32) ^ k
    tail = length & 3
    base = words * 4
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & _MASK32
    h ^= h >> 13
    h = (h * m) & _MASK32
    h ^= h >> 15
    return h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner gives ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Emitter:
    """Sends routed outputs through one aiokafka producer, a record batch per partition."""

    def __init__(
        self,
        producer: Any,
        partitions: dict[str, int],
        outputs: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """``partitions``: the partition count of every source and output topic;
        ``outputs``: each source's output topics (those with its partition count keep
        the records' source partitions)."""
        self._producer = producer
        self._partitions = dict(partitions)
        self._outputs = dict(outputs or {})
        self._same: dict[str, frozenset[str]] = {}
        self._sticky = {topic: itertools.cycle(range(n)) for topic, n in partitions.items()}
        self._next_sticky = {topic: next(cycle) for topic, cycle in self._sticky.items()}
        self._refresh()

    def _refresh(self) -> None:
        counts = self._partitions
        self._same = {
            source: frozenset(t for t in topics if counts.get(t) == counts.get(source))
            for source, topics in self._outputs.items()
        }

    def set_partitions(self, topic: str, count: int) -> None:
        """The output topic now has ``count`` partitions (e.g. after partitions were added)."""
        if self._partitions.get(topic) != count:
            self._partitions[topic] = count
            self._sticky[topic] = itertools.cycle(range(count))
            self._next_sticky[topic] = next(self._sticky[topic])
            self._refresh()

    def partition_of(
        self, topic: str, key: bytes | None, source: str, source_partition: int
    ) -> int:
        """The output partition of a record of ``source[source_partition]`` on ``topic``."""
        if topic in self._same.get(source, frozenset()):
            return source_partition
        if key is None:
            return self._next_sticky[topic]
        return (murmur2(key) & 0x7FFFFFFF) % self._partitions[topic]

    async def send(
        self, outputs: Sequence[Output], source: str = "", source_partition: int = 0
    ) -> list[Sent]:
        """Queue the outputs of one batch of ``source[source_partition]`` (in order per
        output partition); what was sent: one record batch each, with its future."""
        producer = self._producer
        counts = self._partitions
        sticky = self._next_sticky
        same = self._same.get(source, frozenset())
        builders: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        sent: list[Sent] = []
        for index, (topic, key, value, headers, timestamp_ms) in enumerate(outputs):
            # partition_of, inlined: its lookups are made once per batch above
            if topic in same:
                partition = source_partition
            elif key is None:
                partition = sticky[topic]
            else:
                partition = (murmur2(key) & 0x7FFFFFFF) % counts[topic]
            slot = (topic, partition)
            open_batch = builders.get(slot)
            if open_batch is None:
                open_batch = builders[slot] = (producer.create_batch(), [])
            builder, indices = open_batch
            if builder.append(timestamp=timestamp_ms, key=key, value=value, headers=headers):
                indices.append(index)
                continue
            # full: send it and start the next one (the first record always fits)
            future = await producer.send_batch(builder, topic, partition=partition)
            sent.append(Sent(future, topic, partition, indices))
            builder, indices = builders[slot] = (producer.create_batch(), [index])
            if not builder.append(timestamp=timestamp_ms, key=key, value=value, headers=headers):
                raise ValueError(f"a record could not be added to an empty batch for {topic}")
        for (topic, partition), (builder, indices) in builders.items():
            future = await producer.send_batch(builder, topic, partition=partition)
            sent.append(Sent(future, topic, partition, indices))
        for topic in {slot[0] for slot in builders}:
            sticky[topic] = next(self._sticky[topic])
        return sent

    async def send_one(self, output: Output, partition: int) -> asyncio.Future[Any]:
        """Queue one output alone in a record batch to ``partition``; its future."""
        topic, key, value, headers, timestamp_ms = output
        builder = self._producer.create_batch()
        if not builder.append(timestamp=timestamp_ms, key=key, value=value, headers=headers):
            raise ValueError(f"a record could not be added to an empty batch for {topic}")
        future: asyncio.Future[Any] = await self._producer.send_batch(
            builder, topic, partition=partition
        )
        return future


class Sent(NamedTuple):
    """One record batch queued on the producer."""

    future: asyncio.Future[Any]
    topic: str
    partition: int
    indices: list[int]
    """The positions of its records among the outputs given to :meth:`Emitter.send`."""
