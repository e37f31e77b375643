"""The Faust application: one agent per route, raw bytes in, acked only after delivery.

Settings that make the gate at-least-once (see the project's notes on Faust 0.15):
source topics with raw serializers (decoding is the suite's job, so nothing is skipped by
a deserializer); one agent with ``concurrency=1`` per source topic; batches from
``take_events``; every output's delivery future awaited before the batch is acked;
``producer_acks=-1``; ``consumer_auto_offset_reset='earliest'``; ``stream_wait_empty``;
an :class:`~dqgate.gate.processor.AckGuard` over ``Consumer.ack``. A failed delivery or
an unexpected error ends the process at once through ``fatal`` (``os._exit``), so the
batch is never committed and is read again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, cast

from dqgate.config import GateConfig
from dqgate.errors import DeliveryError
from dqgate.gate.connection import faust_options
from dqgate.gate.http import ResumeResult
from dqgate.gate.processor import AckGuard, RouteProcessor
from dqgate.gate.readiness import Readiness, assess, stall_limit_s
from dqgate.metrics import GateMetrics
from dqgate.routing import OutputRecord, SourceRecord

__all__ = ["EXIT_DELIVERY_FAILED", "EXIT_INTERNAL_ERROR", "GateRuntime", "source_record"]

log = logging.getLogger(__name__)

EXIT_DELIVERY_FAILED = 3
EXIT_INTERNAL_ERROR = 4
_STREAM_BUFFER_MIN = 1000
_MAX_POLL_RECORDS_MIN = 500
_LINGER_S = 0.005
_MAX_BATCH_BYTES = 512 * 1024
_WINDOW_TICK_S = 1.0

Fatal = Callable[[str, int], NoReturn]


def source_record(message: Any) -> SourceRecord:
    """A faust ConsumerMessage as a SourceRecord (timestamp back to integer milliseconds)."""
    timestamp_s = message.timestamp
    timestamp_ms = None
    if timestamp_s is not None and timestamp_s >= 0:
        timestamp_ms = round(timestamp_s * 1000.0)
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=timestamp_ms,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
    )


def faust_timestamp(timestamp_ms: int | None) -> float | None:
    """Seconds for faust's producer such that its ``int(s * 1000.0)`` gives back the ms."""
    return None if timestamp_ms is None else (timestamp_ms + 0.5) / 1000.0


class GateRuntime:
    """The faust app, the route processors and the controls the HTTP endpoint exposes."""

    def __init__(
        self,
        *,
        config: GateConfig,
        processors: Mapping[str, RouteProcessor],
        metrics: GateMetrics,
        fatal: Fatal,
        datadir: str,
    ) -> None:
        import faust
        import faust.streams

        # The Cython stream iterator acks skipped events inline, around Consumer.ack;
        # the pure-Python iterator goes through it, so the AckGuard sees every ack.
        faust.streams._CStreamIterator = None  # type: ignore[attr-defined]
        self.config = config
        self.processors = dict(processors)
        self.metrics = metrics
        self.fatal = fatal
        self.guard = AckGuard([r.source for r in config.routes])
        self.assigned_once = False
        producer_max_request = config.output_topics.max_message_bytes + 64 * 1024
        self.app = faust.App(
            config.group_id,
            env={},
            **faust_options(config.kafka),
            autodiscover=False,
            datadir=datadir,
            store="memory://",
            web_enabled=False,
            topic_allow_declare=False,
            topic_disable_leader=True,
            table_standby_replicas=0,
            processing_guarantee="at_least_once",
            producer_acks=-1,
            producer_linger=_LINGER_S,
            producer_max_batch_size=_MAX_BATCH_BYTES,
            producer_max_request_size=producer_max_request,
            producer_request_timeout=config.delivery_timeout_s,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=config.commit_interval_s,
            broker_session_timeout=config.session_timeout_s,
            broker_heartbeat_interval=config.session_timeout_s / 10,
            stream_wait_empty=True,
            stream_buffer_maxsize=max(_STREAM_BUFFER_MIN, 2 * config.batch_size),
            broker_max_poll_records=max(_MAX_POLL_RECORDS_MIN, config.batch_size),
            worker_redirect_stdouts=False,
        )
        self.app.on_partitions_assigned.connect(cast(Any, self._on_assigned))
        for route in config.routes:
            topic = self.app.topic(
                route.source, key_serializer="raw", value_serializer="raw", acks=True
            )
            agent = self._agent(self.processors[route.name])
            self.app.agent(topic, name=f"dqgate.route.{route.name}", concurrency=1)(agent)
        self.app.timer(_WINDOW_TICK_S, name="dqgate.windows")(self._tick_windows)
        metrics.watch_partitions(self.partition_offsets)

    def install_guard(self) -> None:
        """Wrap the consumer's ack with the AckGuard (call before the worker starts).

        Also times its commits, for ``dqgate_last_commit_age_seconds``.
        """
        self.guard.install(self.app.consumer)
        consumer: Any = self.app.consumer
        commit = consumer._commit
        metrics = self.metrics

        async def timed_commit(offsets: Any) -> bool:
            done: bool = await commit(offsets)
            if done:
                metrics.record_commit()
            return done

        consumer._commit = timed_commit

    async def _tick_windows(self, *_: Any) -> None:
        for processor in self.processors.values():
            processor.tick()

    def partition_offsets(self) -> list[tuple[str, int, int | None, int | None]]:
        """(route, partition, highwater, committed offset) per assigned source partition."""
        routes = {r.source: r.name for r in self.config.routes}
        consumer = self.app.consumer
        committed = getattr(consumer, "_committed_offset", {})
        offsets = []
        for tp in consumer.assignment():
            route = routes.get(tp.topic)
            if route is None:
                continue
            try:
                highwater = consumer.highwater(tp)
            except Exception:  # no fetch yet, or revoked meanwhile
                highwater = None
            offsets.append((route, tp.partition, highwater, committed.get(tp)))
        return offsets

    @property
    def ready(self) -> bool:
        """True while the worker consumes and commits (see :mod:`dqgate.gate.readiness`)."""
        return self.readiness().ready

    def readiness(self) -> Readiness:
        """Ready, or why not: assigned, committing what it routed, consuming what waits."""
        if not self.assigned_once or self.app.rebalancing:
            partitions = []
        else:
            try:
                partitions = self.partition_offsets()
            except Exception:  # consumer restarting: judged on assignment alone
                partitions = []
        return assess(
            assigned=self.assigned_once,
            rebalancing=bool(self.app.rebalancing),
            partitions=partitions,
            progress=self.metrics.progress(),
            paused_routes={n for n, p in self.processors.items() if p.breaker.status().paused},
            stall_s=stall_limit_s(self.config.commit_interval_s),
        )

    async def _on_assigned(self, sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        # A new assignment un-pauses every partition; a paused route pauses again after
        # its next delivered batch (see _agent).
        self.assigned_once = True

    def _agent(self, processor: RouteProcessor) -> Callable[[Any], Any]:
        batch_size = self.config.batch_size
        batch_wait_s = self.config.batch_wait_s
        guard = self.guard

        async def route_agent(stream: Any) -> None:
            async for events in stream.take_events(batch_size, within=batch_wait_s):
                try:
                    records = [source_record(event.message) for event in events]
                    result = await processor.process(records)
                    guard.mark_delivered(event.message for event in events)
                    if result.tripped:
                        self._on_trip(processor)
                    if processor.breaker.paused:
                        await self._pause_or_warn(processor.route_name)
                except asyncio.CancelledError:
                    raise  # the AckGuard keeps an unfinished batch uncommitted
                except DeliveryError as exc:
                    self.fatal(f"{exc}; no offset of this batch is committed", EXIT_DELIVERY_FAILED)
                except BaseException as exc:
                    log.exception("route %s: internal error", processor.route_name)
                    self.fatal(
                        f"route {processor.route_name!r}: internal error "
                        f"{type(exc).__name__}; no offset of this batch is committed",
                        EXIT_INTERNAL_ERROR,
                    )

        route_agent.__name__ = route_agent.__qualname__ = f"route_{processor.route_name}"
        return route_agent

    async def send(self, output: OutputRecord) -> Any:
        """Schedule one output record on faust's producer; returns its delivery future."""
        return await self.app.producer.send(
            output.topic,
            output.key,
            output.value,
            partition=None,
            timestamp=faust_timestamp(output.timestamp_ms),
            headers=list(output.headers),  # type: ignore[arg-type]  # None values are valid
        )

    def _on_trip(self, processor: RouteProcessor) -> None:
        status = processor.breaker.status()
        self.metrics.circuit_breaker_trips_total.labels(route=processor.route_name).inc()
        self.metrics.set_circuit_open(processor.route_name, True)
        log.error(
            "route %s paused by the circuit breaker: %d of the last %d records were "
            "quarantined (ratio %.3f > %.3f). The source is probably broken upstream; "
            "fix it, then resume with POST /routes/%s/resume on the worker's HTTP address "
            "(or restart the worker)",
            processor.route_name, status.quarantined_records, status.seen_records,
            status.ratio, status.max_quarantine_ratio or 0.0, processor.route_name,
        )  # fmt: skip

    def _source_partitions(self, route_name: str) -> list[Any]:
        from aiokafka import TopicPartition

        source = next(r.source for r in self.config.routes if r.name == route_name)
        try:
            assigned = self.app.consumer.assignment()
        except Exception:  # consumer not started yet: nothing to pause
            return []
        return [TopicPartition(tp.topic, tp.partition) for tp in assigned if tp.topic == source]

    async def _fetching(self, route_name: str, *, paused: bool) -> None:
        """Pause or resume fetching the route's partitions in aiokafka itself.

        aiokafka keeps the position of a paused partition and discards its prefetched
        records, so nothing is skipped. (faust's own pause_partitions drops records it
        already fetched; they would only come back after a restart.) The aiokafka
        consumer lives in faust's consumer thread, so the call runs there.
        """
        tps = self._source_partitions(route_name)
        if not tps:
            return
        thread = self.app.consumer._thread  # type: ignore[attr-defined]
        client = thread._ensure_consumer()

        async def apply() -> None:
            assigned = client.assignment()
            mine = [tp for tp in tps if tp in assigned]
            if paused:
                client.pause(*mine)
            else:
                client.resume(*mine)

        await thread.call_thread(apply)

    async def pause(self, route_name: str) -> None:
        """Stop fetching the route's source partitions (idempotent)."""
        await self._fetching(route_name, paused=True)

    async def _pause_or_warn(self, route_name: str) -> None:
        try:
            await self.pause(route_name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep routing rather than stop the worker
            log.error("route %s: could not pause fetching: %s", route_name, type(exc).__name__)

    async def resume(self, route_name: str) -> ResumeResult:
        """Close the route's breaker and fetch its partitions again; say whether it was paused."""
        processor = self.processors.get(route_name)
        if processor is None:
            return ResumeResult.UNKNOWN
        was_paused = processor.breaker.resume()
        await self._fetching(route_name, paused=False)
        self.metrics.set_circuit_open(route_name, False)
        if not was_paused:
            return ResumeResult.NOT_PAUSED
        log.warning("route %s resumed by request", route_name)
        return ResumeResult.RESUMED

    def status(self) -> dict[str, Any]:
        """A JSON-able snapshot for /healthz."""
        routes = {}
        for name, processor in self.processors.items():
            breaker = processor.breaker.status()
            routes[name] = {
                "paused": breaker.paused,
                "breaker_enabled": breaker.enabled,
                "window_quarantine_ratio": round(breaker.ratio, 4),
            }
        partitions: dict[str, list[int]] = {}
        try:
            for tp in self.app.consumer.assignment():
                partitions.setdefault(tp.topic, []).append(tp.partition)
        except Exception:  # consumer not started yet
            pass
        readiness = self.readiness()
        return {
            "ready": readiness.ready,
            "not_ready": list(readiness.reasons),
            "refused_acks": self.guard.refused,
            "partitions": {t: sorted(p) for t, p in sorted(partitions.items())},
            "routes": routes,
        }
