"""``ls``: what is in the quarantine topics of the configured routes.

Per topic: partitions, records (end minus beginning offset per partition, summed; exact
for the gate's non-transactional producer, an upper bound after compaction or with
transaction markers), the oldest and newest record timestamps (the first and the last
record of each partition; with timestamps that do not grow with offsets they are
approximate) and the size on disk of one replica (None when the brokers do not say).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dqgate.kafka.probe import connection_error
from dqgate.quarantine.selection import format_ms

__all__ = ["TopicSummary", "summarise_topics"]

_EDGE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicSummary:
    """One quarantine topic as ``ls`` shows it (``exists`` False: not created yet)."""

    topic: str
    routes: tuple[str, ...]
    exists: bool
    partitions: int = 0
    records: int = 0
    oldest_ms: int | None = None
    newest_ms: int | None = None
    size_bytes: int | None = None
    origins: int | None = None
    """Distinct origins of the records (``ls --distinct``; None when not counted)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (timestamps in ms and as ISO 8601)."""
        return {
            "topic": self.topic,
            "routes": list(self.routes),
            "exists": self.exists,
            "partitions": self.partitions,
            "records": self.records,
            "oldest_ms": self.oldest_ms,
            "oldest": None if self.oldest_ms is None else format_ms(self.oldest_ms),
            "newest_ms": self.newest_ms,
            "newest": None if self.newest_ms is None else format_ms(self.newest_ms),
            "size_bytes": self.size_bytes,
            "origins": self.origins,
        }


async def summarise_topics(
    options: Mapping[str, Any], routes: Mapping[str, Sequence[str]]
) -> list[TopicSummary]:
    """Summaries of the topics in ``routes`` (``{quarantine topic: route names}``)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    from dqgate.quarantine.logdirs import partition_sizes

    admin = AIOKafkaAdminClient(**options)
    consumer = AIOKafkaConsumer(
        **options, group_id=None, enable_auto_commit=False, isolation_level="read_committed"
    )
    try:
        await admin.start()
        described = await admin.describe_topics(None)  # all: naming one may auto-create it
        await consumer.start()
        await asyncio.sleep(0)  # let aiokafka's no-group task start, or stop() raises
        parts = {
            t["topic"]: sorted(int(p["partition"]) for p in t["partitions"])
            for t in described
            if t["topic"] in routes and t["error_code"] == 0 and t["partitions"]
        }
        tps = [TopicPartition(t, p) for t, ps in parts.items() for p in ps]
        begins = await consumer.beginning_offsets(tps) if tps else {}
        ends = await consumer.end_offsets(tps) if tps else {}
        spans = {tp: (int(begins[tp]), int(ends[tp])) for tp in tps}
        firsts = await _edge_timestamps(consumer, {tp: b for tp, (b, e) in spans.items() if e > b})
        lasts = await _edge_timestamps(
            consumer, {tp: e - 1 for tp, (b, e) in spans.items() if e > b}
        )
        sizes = await partition_sizes(options, parts)
    except (KafkaError, OSError) as exc:
        raise await connection_error(options, exc) from exc
    finally:
        await consumer.stop()
        await admin.close()
    out = []
    for topic, names in sorted(routes.items()):
        if topic not in parts:
            out.append(TopicSummary(topic=topic, routes=tuple(names), exists=False))
            continue
        mine = [tp for tp in tps if tp.topic == topic]
        known = [sizes[(topic, tp.partition)] for tp in mine if (topic, tp.partition) in sizes]
        oldest = [firsts[tp] for tp in mine if tp in firsts]
        newest = [lasts[tp] for tp in mine if tp in lasts]
        out.append(
            TopicSummary(
                topic=topic,
                routes=tuple(names),
                exists=True,
                partitions=len(mine),
                records=sum(spans[tp][1] - spans[tp][0] for tp in mine),
                oldest_ms=min(oldest) if oldest else None,
                newest_ms=max(newest) if newest else None,
                size_bytes=sum(known) if len(known) == len(mine) else None,
            )
        )
    return out


async def _edge_timestamps(consumer: Any, positions: Mapping[Any, int]) -> dict[Any, int]:
    """The timestamp of the first record at or after each position (one record each)."""
    found: dict[Any, int] = {}
    if not positions:
        return found
    consumer.assign(list(positions))
    for tp, offset in positions.items():
        consumer.seek(tp, offset)
    waiting = set(positions)
    try:
        async with asyncio.timeout(_EDGE_TIMEOUT_S):
            while waiting:
                batch = await consumer.getmany(*waiting, timeout_ms=500, max_records=len(waiting))
                for tp, messages in batch.items():
                    if messages and tp in waiting:
                        found[tp] = int(messages[0].timestamp)
                        waiting.discard(tp)
                        consumer.pause(tp)
    except TimeoutError:  # a partition ending in transaction markers: no timestamp
        pass
    consumer.resume(*consumer.paused())
    return found
