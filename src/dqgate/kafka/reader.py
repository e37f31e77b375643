"""Read partitions without a consumer group: the one partition reader of dqgate's tools.

:class:`PartitionReader` wraps an aiokafka consumer that belongs to no group, never
commits and reads ``read_committed``. The quarantine commands read offset ranges with it
(:mod:`dqgate.quarantine.reader`); the demo, the integration tests and the benchmarks read
a gate's outputs back with it (:mod:`dqgate.testing.audit`). Connection failures are
explained by a probe (:func:`dqgate.kafka.probe.connection_error`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final

from dqgate.errors import GateError
from dqgate.kafka.probe import connection_error

__all__ = ["PartitionReader", "partitions_of"]

_POLL_MS: Final = 500
_MAX_BATCH: Final = 500


async def partitions_of(options: Mapping[str, Any], topics: Iterable[str]) -> dict[str, list[int]]:
    """The partition numbers of each of ``topics`` that exists (and is visible to the user).

    Every topic is described (none is named), so asking about a missing topic never
    creates it on a broker with ``auto.create.topics.enable``.
    """
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    wanted = set(topics)
    admin = AIOKafkaAdminClient(**options)
    try:
        await admin.start()
        described = await admin.describe_topics(None)
    except (KafkaError, OSError) as exc:
        raise await connection_error(options, exc) from exc
    finally:
        await admin.close()
    return {
        entry["topic"]: sorted(int(p["partition"]) for p in entry["partitions"])
        for entry in described
        if entry["topic"] in wanted and entry["error_code"] == 0 and entry["partitions"]
    }


class PartitionReader:
    """Reads assigned partitions (async context manager around an aiokafka consumer)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = dict(options)
        self._consumer: Any = None

    async def __aenter__(self) -> PartitionReader:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.errors import KafkaError

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

    @staticmethod
    def partitions(topic: str, partitions: Iterable[int]) -> list[Any]:
        """aiokafka ``TopicPartition`` s of ``topic``."""
        from aiokafka import TopicPartition

        return [TopicPartition(topic, p) for p in partitions]

    async def beginning_offsets(self, tps: Sequence[Any]) -> dict[Any, int]:
        """The first offset of each partition."""
        found = await self._consumer.beginning_offsets(list(tps))
        return {tp: int(offset) for tp, offset in found.items()}

    async def end_offsets(self, tps: Sequence[Any]) -> dict[Any, int]:
        """The end offset (the next offset to be written) of each partition."""
        found = await self._consumer.end_offsets(list(tps)) if tps else {}
        return {tp: int(offset) for tp, offset in found.items()}

    async def offsets_for_times(self, tps: Sequence[Any], epoch_ms: int) -> dict[Any, int | None]:
        """The first offset whose timestamp is >= ``epoch_ms`` (None: there is none)."""
        found = await self._consumer.offsets_for_times({tp: epoch_ms for tp in tps})
        return {tp: None if at is None else int(at.offset) for tp, at in found.items()}

    async def assign(self, tps: Sequence[Any], *, at: str | Mapping[Any, int]) -> None:
        """Read ``tps`` from ``at``: ``"beginning"``, ``"end"`` or an offset per partition."""
        consumer = self._consumer
        consumer.assign(list(tps))
        if at == "beginning":
            if tps:
                await consumer.seek_to_beginning(*tps)
        elif at == "end":
            for tp, end in (await self.end_offsets(tps)).items():
                consumer.seek(tp, end)
        elif isinstance(at, Mapping):
            for tp in tps:
                consumer.seek(tp, at[tp])
        else:
            raise ValueError(f"assign(at=...): 'beginning', 'end' or offsets, not {at!r}")

    async def poll(
        self, timeout_s: float = _POLL_MS / 1000, max_records: int = _MAX_BATCH
    ) -> dict[Any, list[Any]]:
        """What the assigned partitions have (waiting up to ``timeout_s``): records per
        partition, each in offset order."""
        batches: dict[Any, list[Any]] = await self._consumer.getmany(
            timeout_ms=round(timeout_s * 1000), max_records=max_records
        )
        return batches

    async def read_range(
        self, tp: Any, start: int, stop: int, *, idle_timeout_s: float
    ) -> AsyncGenerator[list[Any], None]:
        """Batches of ``tp`` from ``start`` until its position reaches ``stop``.

        Each fetch asks for at most the records left in the range, so the broker delivers
        nothing far past it; a batch may still end with records at or after ``stop`` (a
        range that ends in a compacted gap): the caller stops there. GateError (retriable)
        when nothing arrives for ``idle_timeout_s`` although the range is not read yet.
        """
        consumer = self._consumer
        consumer.assign([tp])
        consumer.seek(tp, start)
        idle_since = time.monotonic()
        while (position := await consumer.position(tp)) < stop:
            batch = await consumer.getmany(
                tp, timeout_ms=_POLL_MS, max_records=min(_MAX_BATCH, stop - position)
            )
            messages: list[Any] = batch.get(tp, [])
            if not messages:
                if time.monotonic() - idle_since > idle_timeout_s:
                    raise GateError(
                        f"no records from {tp.topic}[{tp.partition}]@{position} for "
                        f"{idle_timeout_s:.0f} s although its range ends at {stop}; "
                        "is the broker reachable?",
                        retriable=True,
                    )
                continue
            idle_since = time.monotonic()
            yield messages
