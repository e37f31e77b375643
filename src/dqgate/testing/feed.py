"""Produce records into a source topic and remember where each one landed.

For the demo, the integration tests and the benchmark: ``produce`` returns, per record,
its ``(topic, partition, offset)``, which is what the gate's lineage headers name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dqgate.routing import Header
from dqgate.testing.audit import SourceOffset

__all__ = ["FeedRecord", "produce"]

_IN_FLIGHT = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedRecord:
    """One record to produce (``timestamp_ms`` None: the producer's clock)."""

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    timestamp_ms: int | None = None


async def produce(
    options: Mapping[str, Any],
    topic: str,
    records: Iterable[FeedRecord],
    *,
    partition: int | None = None,
) -> list[SourceOffset]:
    """Produce ``records`` in order (acks=all); returns where each one was written."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        **options, acks="all", linger_ms=10, max_batch_size=256 * 1024, enable_idempotence=True
    )
    await producer.start()
    written: list[SourceOffset] = []
    pending: list[Any] = []

    async def drain() -> None:
        for metadata in await asyncio.gather(*pending):
            written.append((metadata.topic, metadata.partition, metadata.offset))
        pending.clear()

    try:
        for record in records:
            pending.append(
                await producer.send(
                    topic,
                    record.value,
                    key=record.key,
                    partition=partition,
                    timestamp_ms=record.timestamp_ms,
                    headers=list(record.headers) or None,
                )
            )
            if len(pending) >= _IN_FLIGHT:
                await drain()
        await drain()
    finally:
        await producer.stop()
    return written
