"""Producing routed batches: partitions like the Java client, one batch per partition."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from dqgate.gate.emit import Emitter, murmur2, partition_for


def test_murmur2_matches_the_java_clients_hash() -> None:
    """Known Java values (Utils.murmur2) and aiokafka's port, over random keys of every length."""
    # values from the Java client's UtilsTest / DefaultPartitionerTest
    assert murmur2(b"21") == -973932308 & 0xFFFFFFFF
    assert murmur2(b"foobar") == -790332482 & 0xFFFFFFFF
    assert murmur2(b"") == 275646681
    for length in range(0, 80):
        for _ in range(20):
            key = os.urandom(length)
            assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF


def test_a_key_lands_where_the_default_partitioner_puts_it() -> None:
    """partition_for is murmur2 & 0x7fffffff modulo the partition count."""
    assert partition_for(b"foobar", 3) == ((-790332482 & 0x7FFFFFFF) % 3)


class Builder:
    """A BatchBuilder that takes ``capacity`` records."""

    def __init__(self, capacity: int) -> None:
        self.capacity, self.records = capacity, []

    def append(self, *, timestamp: Any, key: Any, value: Any, headers: Any) -> bool:
        if len(self.records) >= self.capacity:
            return False
        self.records.append((key, value, timestamp, headers))
        return True


class Producer:
    """Records the batches sent per (topic, partition)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.sent: list[tuple[str, int, list[Any]]] = []

    def create_batch(self) -> Builder:
        return Builder(self.capacity)

    async def send_batch(self, batch: Builder, topic: str, *, partition: int) -> Any:
        self.sent.append((topic, partition, batch.records))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def test_outputs_are_grouped_per_partition_in_order_with_full_batches_rolled_over() -> None:
    """Keyed records follow murmur2, each partition keeps the outputs' order, and a full
    builder is sent before the next one starts."""
    producer = Producer(capacity=3)
    emitter = Emitter(producer, {"clean": 4, "quarantine": 2})
    keys = [f"key-{i}".encode() for i in range(40)]
    outputs = [
        ("clean" if i % 3 else "quarantine", key, b"v%d" % i, [], 1000 + i)
        for i, key in enumerate(keys)
    ]
    sent = asyncio.run(emitter.send(outputs))
    assert len(sent) == len(producer.sent)
    for batch, (topic, partition, records) in zip(sent, producer.sent, strict=True):
        assert (batch.topic, batch.partition) == (topic, partition)
        assert [outputs[i][2] for i in batch.indices] == [r[1] for r in records]
    got: dict[tuple[str, int], list[bytes]] = {}
    for topic, partition, records in producer.sent:
        assert 1 <= len(records) <= 3
        got.setdefault((topic, partition), []).extend(r[1] for r in records)
    expected: dict[tuple[str, int], list[bytes]] = {}
    for topic, key, value, _headers, _stamp in outputs:
        slot = (topic, partition_for(key, 4 if topic == "clean" else 2))
        expected.setdefault(slot, []).append(value)
    assert got == expected


def test_records_without_a_key_stick_to_one_partition_per_batch() -> None:
    """Keyless outputs of one send go to one partition; the next send moves on."""
    producer = Producer(capacity=100)
    emitter = Emitter(producer, {"clean": 3})
    outputs = [("clean", None, b"v", [], None)] * 10
    asyncio.run(emitter.send(outputs))
    asyncio.run(emitter.send(outputs))
    partitions = [partition for _topic, partition, _records in producer.sent]
    assert len(partitions) == 2 and partitions[0] != partitions[1]


def test_outputs_with_the_sources_partition_count_keep_the_source_partition() -> None:
    """Same partition count as the source: the record's source partition, key or not;
    another count: murmur2 of the key."""
    producer = Producer(capacity=100)
    emitter = Emitter(
        producer, {"src": 4, "clean": 4, "quarantine": 8}, {"src": ("clean", "quarantine")}
    )
    outputs = [("clean", b"key-%d" % i, b"v", [], None) for i in range(20)]
    outputs += [("clean", None, b"v", [], None), ("quarantine", b"key-1", b"v", [], None)]
    asyncio.run(emitter.send(outputs, "src", 3))
    sent = {(topic, partition): len(records) for topic, partition, records in producer.sent}
    assert sent == {("clean", 3): 21, ("quarantine", partition_for(b"key-1", 8)): 1}
