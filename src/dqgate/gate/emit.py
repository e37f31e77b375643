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
from typing import Any, Final

from dqgate.gate.processor import Output

__all__ = ["Emitter", "murmur2", "partition_for"]

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

    async def send(
        self, outputs: Sequence[Output], source: str = "", source_partition: int = 0
    ) -> list[asyncio.Future[Any]]:
        """Queue the outputs of one batch of ``source[source_partition]`` (in order per
        output partition); their delivery futures."""
        producer = self._producer
        counts = self._partitions
        sticky = self._next_sticky
        same = self._same.get(source, frozenset())
        builders: dict[tuple[str, int], Any] = {}
        futures: list[asyncio.Future[Any]] = []
        for topic, key, value, headers, timestamp_ms in outputs:
            if topic in same:
                partition = source_partition
            elif key is None:
                partition = sticky[topic]
            else:
                partition = (murmur2(key) & 0x7FFFFFFF) % counts[topic]
            slot = (topic, partition)
            builder = builders.get(slot)
            if builder is None:
                builder = builders[slot] = producer.create_batch()
            if builder.append(timestamp=timestamp_ms, key=key, value=value, headers=headers):
                continue
            # full: send it and start the next one (the first record always fits)
            futures.append(await producer.send_batch(builder, topic, partition=partition))
            builder = builders[slot] = producer.create_batch()
            if not builder.append(timestamp=timestamp_ms, key=key, value=value, headers=headers):
                raise ValueError(f"a record could not be added to an empty batch for {topic}")
        for (topic, partition), builder in builders.items():
            futures.append(await producer.send_batch(builder, topic, partition=partition))
        for topic in {slot[0] for slot in builders}:
            sticky[topic] = next(self._sticky[topic])
        return futures
