"""``engine: batch`` (the default): the gate on aiokafka, a batch at a time, pipelined.

One consumer (every route's source, one group) and one producer (acks=all).
The fetch loop takes batches with ``getmany`` (at most ``batch_size`` records) and hands
each partition's records to its route's worker, which evaluates the raw bytes, builds
the outputs and queues them on the producer as record batches, one per output partition
(:mod:`dqgate.gate.emit`); it does not wait for the acknowledgements, so several batches
are in flight at once, bounded by ``max_in_flight_records`` / ``max_in_flight_bytes``
(the fetch loop waits for room: back-pressure).

No loss: a source offset is committed only when every output of it and of every
earlier offset of its partition was acknowledged (:mod:`dqgate.gate.progress`), every
``commit_interval_s``, when partitions are revoked and at a graceful stop. A delivery
that fails for good ends the process at once (exit 3) without another commit.

Rebalances: on revocation the partitions stop being routed (batches fetched but not
routed are dropped: they were never produced), their in-flight outputs are awaited
(at most ``session_timeout_s``) and what was delivered is committed before the
partitions are released. A partition that comes back resumes from its committed offset.

The circuit breaker cuts a batch at the record that trips it: the records after it are
not routed; the partition is sought back to the first of them and paused, and fetched
again from there after ``POST /routes/<route>/resume``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NoReturn

from aiokafka import ConsumerRebalanceListener

from dqgate.config import GateConfig
from dqgate.errors import DeliveryError, GateError
from dqgate.gate.circuit import log_trip
from dqgate.gate.emit import Emitter, Sent
from dqgate.gate.exits import ExitCode
from dqgate.gate.http import ResumeResult
from dqgate.gate.processor import Consumed, RoutedBatch, RouteProcessor
from dqgate.gate.progress import InFlight, PartitionProgress, Ticket
from dqgate.gate.readiness import Readiness, assess, stall_limit_s
from dqgate.gate.stubs import refused_record
from dqgate.kafka.clients import aiokafka_options
from dqgate.metrics import GateMetrics
from dqgate.routing import Output

__all__ = ["BatchEngine", "run_batch"]

log = logging.getLogger(__name__)

_LINGER_MS: Final = 5
_MAX_BATCH_BYTES: Final = 512 * 1024
_REQUEST_OVERHEAD_BYTES: Final = 64 * 1024
_WINDOW_TICK_S: Final = 1.0
_LAG_REFRESH_S: Final = 5.0
_TOPIC_WATCH_S: Final = 5.0
_DRAIN_POLL_S: Final = 0.005
_MAX_QUEUED_BATCHES: Final = 2

Fatal = Callable[[str, int], NoReturn]
_Item = tuple[Any, PartitionProgress, Sequence[Consumed], int]
"""(topic-partition, its progress, the fetched records, their size in bytes)."""


class BatchEngine:
    """The batch engine's state: clients, partitions in progress, routes, controls."""

    def __init__(
        self,
        *,
        config: GateConfig,
        processors: Mapping[str, RouteProcessor],
        metrics: GateMetrics,
        fatal: Fatal,
    ) -> None:
        self.config = config
        self.processors = dict(processors)
        self.metrics = metrics
        self.fatal = fatal
        self._by_source = {r.source: self.processors[r.name] for r in config.routes}
        self._partitions: dict[Any, PartitionProgress] = {}
        self._held: dict[Any, int] = {}
        self._end_offsets: dict[Any, int] = {}
        self._in_flight = InFlight(
            max_records=config.max_in_flight_records, max_bytes=config.max_in_flight_bytes
        )
        self._queues: dict[str, asyncio.Queue[_Item | None]] = {}
        self._dequeued = asyncio.Event()
        self._stopping = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._consumer: Any = None
        self._producer: Any = None
        self._emitter: Emitter | None = None
        self._deadline: threading.Timer | None = None
        self.assigned_once = False
        self.rebalancing = False
        self._recovering: set[asyncio.Task[None]] = set()
        self.tickers: list[Callable[[], object]] = []
        """Called every second with the window ticks (e.g. the quiet log filter's flush)."""
        metrics.watch_partitions(self.partition_offsets)

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the producer and the consumer; GateError (exit 2) if Kafka refuses."""
        from aiokafka.errors import KafkaError

        try:
            await self._start_clients()
        except KafkaError as exc:
            await self.close()
            servers = ",".join(self.config.kafka.bootstrap_servers)
            raise GateError(
                f"cannot start the Kafka clients at {servers}: {type(exc).__name__}: {exc}",
                retriable=True,
            ) from exc

    async def _start_clients(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        config = self.config
        options = aiokafka_options(config.kafka)
        self._producer = AIOKafkaProducer(
            **options,
            acks="all",
            # Not idempotent: aiokafka does not reset a partition's sequence numbers after
            # the broker refuses a batch (OutOfOrderSequenceNumber on every later one), and
            # a refused record must not stop its output partition. aiokafka keeps one
            # produce request in flight per broker, so retries cannot reorder; a retry of a
            # request that did land is a duplicate, identified by the lineage headers.
            enable_idempotence=False,
            linger_ms=_LINGER_MS,
            max_batch_size=_MAX_BATCH_BYTES,
            max_request_size=config.output_topics.max_message_bytes + _REQUEST_OVERHEAD_BYTES,
            request_timeout_ms=int(config.delivery_timeout_s * 1000),
        )
        await self._producer.start()
        topics = sorted({t for r in config.routes for t in (r.source, *r.outputs)})
        partitions = {}
        for topic in topics:
            found = await self._producer.partitions_for(topic)
            partitions[topic] = len(found)
        self._emitter = Emitter(
            self._producer, partitions, {r.source: r.outputs for r in config.routes}
        )
        self._consumer = AIOKafkaConsumer(
            **options,
            group_id=config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=config.batch_size,
            session_timeout_ms=int(config.session_timeout_s * 1000),
            heartbeat_interval_ms=max(1000, int(config.session_timeout_s * 100)),
        )
        self._consumer.subscribe(
            sorted(self._by_source), listener=_Listener(self._revoked, self._assigned)
        )
        await self._consumer.start()

    async def run(self) -> int:
        """Route until stopped or until the engine fails; returns the exit code."""
        for name in self.processors:
            self._queues[name] = asyncio.Queue()
        tasks = [
            asyncio.create_task(self._fetch(), name="dqgate.fetch"),
            asyncio.create_task(self._commit_loop(), name="dqgate.commit"),
            asyncio.create_task(self._tick(), name="dqgate.windows"),
            asyncio.create_task(self._refresh_lag(), name="dqgate.lag"),
            asyncio.create_task(self._watch_topics(), name="dqgate.topics"),
            *(
                asyncio.create_task(self._route_worker(p, self._queues[n]), name=f"dqgate.{n}")
                for n, p in self.processors.items()
            ),
        ]
        stop = asyncio.create_task(self._stopping.wait())
        done, _ = await asyncio.wait([*tasks, stop], return_when=asyncio.FIRST_COMPLETED)
        code = ExitCode.STOPPED
        for task in done:
            if task is stop or task.cancelled() or task.exception() is None:
                continue
            exc = task.exception()
            log.critical(
                "the gate's %s task failed: %s: %s; committing what was delivered and exiting",
                task.get_name(), type(exc).__name__, exc,
            )  # fmt: skip
            code = ExitCode.ENGINE_FAILED
        self._stopping.set()
        for queue in self._queues.values():
            queue.put_nowait(None)
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._drain(list(self._partitions.values()), timeout_s=None)
        await self._commit()
        await self.close()
        return code

    def request_stop(self) -> None:
        """SIGTERM / SIGINT: finish the routed batches, commit, exit 0 (within the deadline)."""
        if self._deadline is None:
            log.warning(
                "stopping: finishing in-flight batches and committing (at most %.0f s)",
                self.config.shutdown_timeout_s,
            )
            self._deadline = threading.Timer(
                self.config.shutdown_timeout_s,
                self.fatal,
                args=("graceful stop timed out; pending offsets stay uncommitted",
                      ExitCode.SHUTDOWN_TIMEOUT),
            )  # fmt: skip
            self._deadline.daemon = True
            self._deadline.start()
        self._stopping.set()

    async def close(self) -> None:
        """Leave the group and stop the clients."""
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        if self._deadline is not None:
            self._deadline.cancel()

    # --- the hot path --------------------------------------------------------------------

    async def _fetch(self) -> None:
        """Fetch batches for the routes that are ready for one.

        A route's worker holds at most ``_MAX_QUEUED_BATCHES`` fetched batches: the
        partitions of a busy route are left out of ``getmany`` (the client keeps them
        buffered), so fetched records wait in the route's queue for one batch at most
        (latency), a slow route holds back only its own partitions, and the in-flight
        bounds cap what waits for acknowledgements.
        """
        consumer = self._consumer
        wait_ms = max(1, round(self.config.batch_wait_s * 1000))
        batch_size = self.config.batch_size
        in_flight = self._in_flight
        partitions = self._partitions
        by_source = self._by_source
        queues = {source: self._queues[p.route_name] for source, p in by_source.items()}
        ready = self._dequeued
        while not self._stopping.is_set():
            if in_flight.full():
                await in_flight.wait_for_room()
                continue
            busy = {s for s, q in queues.items() if q.qsize() >= _MAX_QUEUED_BATCHES}
            if busy:
                wanted = [tp for tp in partitions if tp.topic not in busy]
                if not wanted:
                    ready.clear()
                    await ready.wait()
                    continue
                fetched = await consumer.getmany(
                    *wanted, timeout_ms=wait_ms, max_records=batch_size
                )
            else:
                fetched = await consumer.getmany(timeout_ms=wait_ms, max_records=batch_size)
            for tp, records in fetched.items():
                state = partitions.get(tp)
                if state is None or state.revoked or not records:
                    continue  # not ours any more: the next owner reads them
                size = 0
                for record in records:
                    size += record.serialized_value_size + record.serialized_key_size
                in_flight.add(len(records), size)
                state.queued += 1
                queues[tp.topic].put_nowait((tp, state, records, size))
            await asyncio.sleep(0)  # let the route workers take what was fetched

    async def _route_worker(
        self, processor: RouteProcessor, queue: asyncio.Queue[_Item | None]
    ) -> None:
        emitter = self._emitter
        assert emitter is not None
        while True:
            item = await queue.get()
            self._dequeued.set()
            if item is None:
                return
            tp, state, records, size = item
            if self._stopping.is_set() or state.revoked:
                state.queued -= 1
                self._in_flight.release(len(records), size)  # never produced: read again
                continue
            if processor.paused:
                state.queued -= 1
                self._hold(tp, records[0].offset)
                self._in_flight.release(len(records), size)
                continue
            batch = await processor.prepare(records)
            state.queued -= 1
            if state.revoked:
                self._in_flight.release(len(records), size)
                continue
            if batch.routed:
                ticket = state.register(batch.next_offset, len(records), size)
                sent = await emitter.send(batch.outputs, tp.topic, tp.partition)
                delivered = asyncio.gather(*(s.future for s in sent), return_exceptions=True)
                delivered.add_done_callback(
                    functools.partial(self._on_delivered, processor, state, ticket, batch, sent)
                )
            else:
                self._in_flight.release(len(records), size)
            if batch.held_offset is not None:
                self._hold(tp, batch.held_offset)
            if batch.tripped:
                log_trip(processor.route_name, processor.breaker.status())
                self.metrics.circuit_breaker_trips_total.labels(route=processor.route_name).inc()
                self.metrics.set_circuit_open(processor.route_name, True)

    def _on_delivered(
        self,
        processor: RouteProcessor,
        state: PartitionProgress,
        ticket: Ticket,
        batch: RoutedBatch,
        sent: list[Sent],
        delivered: asyncio.Future[list[Any]],
    ) -> None:
        if delivered.cancelled():
            return  # only at a hard stop: nothing of the batch is committed
        failed = [
            (batch_sent, result)
            for batch_sent, result in zip(sent, delivered.result(), strict=True)
            if isinstance(result, BaseException)
        ]
        if failed:
            for batch_sent, error in failed:
                if not refused_record(error):
                    self._delivery_failed(processor, batch, batch_sent.topic, error)
            task = asyncio.create_task(self._recover(processor, state, ticket, batch, failed))
            self._recovering.add(task)
            task.add_done_callback(self._recovering.discard)
            return
        self._complete(processor, state, ticket, batch)

    def _complete(
        self,
        processor: RouteProcessor,
        state: PartitionProgress,
        ticket: Ticket,
        batch: RoutedBatch,
    ) -> None:
        """Every output of ``batch`` was acknowledged: it may be committed, and counted."""
        state.ack(ticket)
        self._in_flight.release(ticket.records, ticket.size_bytes)
        try:
            processor.delivered(batch)
        except Exception as exc:  # a bug in the metrics must not pass silently
            log.exception("route %s: counting a delivered batch failed", processor.route_name)
            self.fatal(
                f"route {processor.route_name!r}: internal error {type(exc).__name__}",
                ExitCode.INTERNAL_ERROR,
            )

    async def _recover(
        self,
        processor: RouteProcessor,
        state: PartitionProgress,
        ticket: Ticket,
        batch: RoutedBatch,
        failed: list[tuple[Sent, BaseException]],
    ) -> None:
        """The broker refused records of ``batch``: send them one by one; each one refused
        alone goes to quarantine as a stub (:mod:`dqgate.gate.stubs`)."""
        emitter = self._emitter
        assert emitter is not None

        async def send_stub(stub: Output) -> None:
            partition = emitter.partition_of(stub[0], stub[1], batch.topic, batch.partition)
            await (await emitter.send_one(stub, partition))

        for refused, batch_error in failed:

            async def resend(output: Output, partition: int = refused.partition) -> None:
                await (await emitter.send_one(output, partition))

            for index in refused.indices:
                try:
                    await processor.deliver_alone(
                        batch, index, refused.topic, batch_error, resend=resend,
                        send_stub=send_stub,
                    )  # fmt: skip
                except DeliveryError as exc:
                    self.fatal(
                        f"{exc}; no offset of this batch is committed", ExitCode.DELIVERY_FAILED
                    )
        self._complete(processor, state, ticket, batch)

    def _delivery_failed(
        self, processor: RouteProcessor, batch: RoutedBatch, topic: str, error: BaseException
    ) -> NoReturn:
        first, last = batch.next_offset - batch.routed, batch.next_offset - 1
        self.fatal(
            f"route {processor.route_name!r}: the outputs of {batch.topic}[{batch.partition}]"
            f"@{first}..{last} were not acknowledged by {topic}: {type(error).__name__}: "
            f"{error}; no offset of this batch is committed",
            ExitCode.DELIVERY_FAILED,
        )

    # --- commits and rebalances ----------------------------------------------------------

    async def _commit_loop(self) -> None:
        interval_s = self.config.commit_interval_s
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), interval_s)
            except TimeoutError:
                await self._commit()

    async def _commit(self, only: Sequence[Any] | None = None) -> None:
        """Commit every partition's delivered run (``only``: these partitions)."""
        from aiokafka.errors import KafkaError

        async with self._commit_lock:
            chosen = only if only is not None else list(self._partitions)
            offsets: dict[Any, int] = {}
            for tp in chosen:
                state = self._partitions.get(tp)
                offset = state.to_commit() if state is not None else None
                if offset is not None:
                    offsets[tp] = offset
            if not offsets:
                return
            try:
                await self._consumer.commit(offsets)
            except KafkaError as exc:
                log.warning(
                    "commit of %d partitions failed (%s: %s); the next commit retries, and "
                    "a new owner of a partition re-reads from its last commit",
                    len(offsets), type(exc).__name__, exc,
                )  # fmt: skip
                return
            for tp, offset in offsets.items():
                state = self._partitions.get(tp)
                if state is not None:
                    state.committed = offset
            self.metrics.record_commit()

    async def _drain(self, states: Sequence[PartitionProgress], *, timeout_s: float | None) -> bool:
        """Wait until every batch of ``states`` was acknowledged; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while any(s.pending for s in states):
            if deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(_DRAIN_POLL_S)
        return True

    async def _revoked(self, revoked: Sequence[Any]) -> None:
        self.rebalancing = True
        mine = [tp for tp in revoked if tp in self._partitions]
        states = [self._partitions[tp] for tp in mine]
        for state in states:
            state.revoked = True
        pending = sum(s.pending for s in states)
        queued = sum(s.queued for s in states)
        if pending or queued:
            log.info(
                "revoking %s with batches in flight: %d awaiting acknowledgement, %d "
                "fetched and not routed (the next owner reads them again)",
                _names(mine), pending, queued,
            )  # fmt: skip
        if not await self._drain(states, timeout_s=self.config.session_timeout_s):
            log.warning(
                "partitions revoked while outputs were still unacknowledged after %.0f s; "
                "their new owner re-reads from the last commit (duplicates, no loss)",
                self.config.session_timeout_s,
            )
        await self._commit(mine)
        for tp in mine:
            self._partitions.pop(tp, None)
            self._held.pop(tp, None)
            self._end_offsets.pop(tp, None)
        if mine:
            log.info("released %d source partitions", len(mine))

    async def _assigned(self, assigned: Sequence[Any]) -> None:
        consumer = self._consumer
        mine = [tp for tp in assigned if tp.topic in self._by_source and tp not in self._partitions]

        async def committed(tp: Any) -> int | None:
            try:
                offset: int | None = await consumer.committed(tp)
                return offset
            except Exception as exc:  # noqa: BLE001 - only the lag needs it; the assignment must go on
                log.debug("committed offset of %s unknown: %s", tp, type(exc).__name__)
                return None

        for tp, offset in zip(mine, await asyncio.gather(*map(committed, mine)), strict=True):
            self._partitions[tp] = PartitionProgress(offset)
        paused = [tp for tp in assigned if self._by_source[tp.topic].paused]
        if paused:
            consumer.pause(*paused)
        self.assigned_once = True
        self.rebalancing = False
        log.info("assigned source partitions: %s", _names(assigned))

    # --- breaker, lag, windows -----------------------------------------------------------

    def _hold(self, tp: Any, offset: int) -> None:
        """Fetch ``tp`` again from ``offset`` once its route is resumed (pause it now)."""
        if tp in self._held or tp not in self._partitions:
            return
        self._held[tp] = offset
        self._consumer.seek(tp, offset)
        self._consumer.pause(tp)
        log.info("%s[%d]: held at @%d while the route is paused", tp.topic, tp.partition, offset)

    async def resume(self, route_name: str) -> ResumeResult:
        """Close the route's breaker and fetch its partitions again; say whether it was paused.

        The control endpoint logs who asked; nothing changes for a route that was not paused.
        """
        processor = self.processors.get(route_name)
        if processor is None:
            return ResumeResult.UNKNOWN
        if not processor.breaker.resume():
            return ResumeResult.NOT_PAUSED
        tps = [tp for tp in self._partitions if self._by_source[tp.topic] is processor]
        for tp in tps:
            self._held.pop(tp, None)
        if tps:
            self._consumer.resume(*tps)
        self.metrics.set_circuit_open(route_name, False)
        return ResumeResult.RESUMED

    async def _tick(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), _WINDOW_TICK_S)
            except TimeoutError:
                for processor in self.processors.values():
                    processor.tick()
                for ticker in self.tickers:
                    ticker()

    async def _refresh_lag(self) -> None:
        """Paused partitions are not fetched, so their highwater is read here (the lag)."""
        from aiokafka.errors import KafkaError

        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), _LAG_REFRESH_S)
            except TimeoutError:
                paused = [tp for tp in self._consumer.paused() if tp in self._partitions]
                if not paused:
                    continue
                try:
                    self._end_offsets.update(await self._consumer.end_offsets(paused))
                except KafkaError as exc:
                    log.debug("end offsets unavailable: %s", type(exc).__name__)

    async def _watch_topics(self) -> None:
        """End the worker promptly, naming the topic, when a route's topic is deleted.

        The Kafka clients would retry a deleted topic until ``delivery_timeout_s``, logging
        leadership errors that do not say what happened.
        """
        from aiokafka.errors import KafkaError

        routes = self.config.routes
        missing_before: set[str] = set()
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), _TOPIC_WATCH_S)
            except TimeoutError:
                try:
                    cluster = await self._producer.client.fetch_all_metadata()
                except KafkaError as exc:  # the brokers are away: the clients ride it out
                    log.debug("topic watch: metadata unavailable: %s", type(exc).__name__)
                    continue
                existing = cluster.topics()
                if not existing:
                    continue  # an empty answer while the cluster restarts proves nothing
                missing = {t for r in routes for t in (r.source, *r.outputs)} - existing
                confirmed, missing_before = missing & missing_before, missing  # twice in a row
                for route in routes:
                    for kind, topic in (
                        ("source", route.source),
                        ("clean", route.clean),
                        ("quarantine", route.quarantine),
                    ):
                        if topic in confirmed:
                            self.fatal(
                                f"route {route.name!r}: its {kind} topic {topic!r} no longer "
                                "exists (deleted?); recreate it (or fix the route) and restart "
                                "the worker; no offset after the last commit was committed",
                                ExitCode.DELIVERY_FAILED
                                if kind != "source"
                                else ExitCode.ENGINE_FAILED,
                            )

    # --- what the HTTP endpoint and the metrics read -------------------------------------

    def partition_offsets(self) -> list[tuple[str, int, int | None, int | None]]:
        """(route, partition, highwater, committed offset) per assigned source partition."""
        offsets = []
        consumer = self._consumer
        for tp, state in list(self._partitions.items()):
            highwater = consumer.highwater(tp) if consumer is not None else None
            known = self._end_offsets.get(tp)
            if known is not None and (highwater is None or known > highwater):
                highwater = known
            route = self._by_source[tp.topic].route_name
            offsets.append((route, tp.partition, highwater, state.committed))
        return offsets

    def readiness(self) -> Readiness:
        """Ready, or why not: assigned, committing what it routed, consuming what waits."""
        partitions = [] if not self.assigned_once or self.rebalancing else self.partition_offsets()
        return assess(
            assigned=self.assigned_once,
            rebalancing=self.rebalancing,
            partitions=partitions,
            progress=self.metrics.progress(),
            paused_routes={n for n, p in self.processors.items() if p.paused},
            stall_s=stall_limit_s(self.config.commit_interval_s),
        )

    def status(self) -> dict[str, Any]:
        """A JSON-able snapshot for /healthz."""
        from dqgate.gate.faust_engine import route_states

        partitions: dict[str, list[int]] = {}
        for tp in list(self._partitions):
            partitions.setdefault(tp.topic, []).append(tp.partition)
        readiness = self.readiness()
        return {
            "engine": "batch",
            "ready": readiness.ready,
            "not_ready": list(readiness.reasons),
            "in_flight": {
                "records": self._in_flight.records,
                "bytes": self._in_flight.size_bytes,
            },
            "partitions": {t: sorted(p) for t, p in sorted(partitions.items())},
            "routes": route_states(self.processors),
        }


def _names(tps: Sequence[Any]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(tps)) or "none"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """aiokafka's rebalance callbacks, forwarded to the engine."""

    def __init__(
        self,
        revoked: Callable[[Sequence[Any]], Any],
        assigned: Callable[[Sequence[Any]], Any],
    ) -> None:
        self._revoked = revoked
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: Sequence[Any]) -> None:
        await self._revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: Sequence[Any]) -> None:
        await self._assigned(list(assigned))


def run_batch(
    engine: BatchEngine,
    *,
    loop: asyncio.AbstractEventLoop,
    http: Any,
    before_start: Callable[[], None],
    stop_requested: Callable[[], bool] = lambda: False,
) -> int:
    """Run ``engine`` on ``loop`` until SIGTERM/SIGINT or a failure; the exit code.

    ``stop_requested``: True when a stop signal arrived before the handlers were set.
    """

    async def main() -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.request_stop)
        if stop_requested():
            engine.request_stop()
        try:
            await engine.start()
            before_start()
            return await engine.run()
        finally:
            if http is not None:
                await http.on_stop()

    return loop.run_until_complete(main())
