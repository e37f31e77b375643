"""``engine: faust``: the gate as a faust-streaming worker, for teams that run Faust.

Every use of faust's private internals lives here, and :func:`check_faust_version`
refuses at start-up a faust version these hooks were not tested with. The settings that
make Faust at-least-once (see the project's notes on Faust 0.15): source topics with raw
serializers (decoding is the suite's job, so nothing is skipped by a deserializer); one
agent with ``concurrency=1`` per source topic; batches from ``take_events``; every
output's delivery future awaited before the batch is acked; ``producer_acks=-1``;
``consumer_auto_offset_reset='earliest'``; ``stream_wait_empty``; an :class:`AckGuard`
over ``Consumer.ack``. A failed delivery or an unexpected error ends the process at once
through ``fatal`` (``os._exit``), so the batch is never committed and is read again after
a restart.

The circuit breaker acts per batch here: a batch being routed when the breaker trips is
routed whole (the batch engine stops at the record that trips it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final, NoReturn, cast

from dqgate.config import GateConfig
from dqgate.errors import ConfigError, DeliveryError
from dqgate.gate.exits import ExitCode
from dqgate.gate.http import ResumeResult
from dqgate.gate.processor import RoutedBatch, RouteProcessor
from dqgate.gate.readiness import Readiness, assess, stall_limit_s
from dqgate.kafka.clients import faust_options
from dqgate.metrics import GateMetrics
from dqgate.routing import Output, SourceRecord

__all__ = [
    "TESTED_FAUST_VERSIONS",
    "AckGuard",
    "FaustRuntime",
    "check_faust_version",
    "faust_timestamp",
    "run_faust",
    "source_record",
]

log = logging.getLogger(__name__)

TESTED_FAUST_VERSIONS: Final = frozenset({"0.15.3"})
"""faust-streaming versions whose internals the hooks below were checked against."""
_STREAM_BUFFER_MIN: Final = 1000
_MAX_POLL_RECORDS_MIN: Final = 500
_LINGER_S: Final = 0.005
_MAX_BATCH_BYTES: Final = 512 * 1024
_WINDOW_TICK_S: Final = 1.0
_LAG_REFRESH_S: Final = 5.0

Fatal = Callable[[str, int], NoReturn]


def check_faust_version() -> str:
    """The installed faust-streaming version; ConfigError if it was not tested."""
    try:
        installed = version("faust-streaming")
    except PackageNotFoundError as exc:
        raise ConfigError(
            "engine: faust needs the faust-streaming package, which is not installed; "
            "install dqgate's pinned dependencies or use engine: batch"
        ) from exc
    if installed not in TESTED_FAUST_VERSIONS:
        tested = ", ".join(sorted(TESTED_FAUST_VERSIONS))
        raise ConfigError(
            f"engine: faust: faust-streaming {installed} is installed, but dqgate's "
            f"at-least-once hooks were tested with {tested} only; install "
            f"faust-streaming=={max(TESTED_FAUST_VERSIONS)} or use engine: batch"
        )
    return installed


def faust_timestamp(timestamp_ms: int | None) -> float | None:
    """Seconds for faust's producer such that its ``int(s * 1000.0)`` gives back the ms."""
    return None if timestamp_ms is None else (timestamp_ms + 0.5) / 1000.0


def source_record(message: Any) -> SourceRecord:
    """A faust message as the processor reads records (its timestamp back to integer ms)."""
    stamp = message.timestamp
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp=round(stamp * 1000.0) if stamp is not None and stamp >= 0 else None,
        key=message.key,
        value=message.value,
        headers=tuple(message.headers or ()),
    )


class AckGuard:
    """Lets Faust ack a source message only after the gate marked it delivered.

    Faust acks (makes committable) messages on paths that never reached the gate: events
    skipped during a rebalance or a shutdown, a take() buffer closed by a cancellation.
    Installed over ``Consumer.ack``, the guard refuses those acks, so the offset stays
    uncommitted and the record is read again after the rebalance or restart.
    """

    def __init__(self, topics: Collection[str]) -> None:
        self.topics = frozenset(topics)
        self.refused = 0
        self._delivered: weakref.WeakSet[Any] = weakref.WeakSet()

    def mark_delivered(self, messages: Iterable[Any]) -> None:
        """Allow the ack of these messages (their outputs are acknowledged)."""
        for message in messages:
            self._delivered.add(message)

    def allows(self, message: Any) -> bool:
        """True if ``message`` may be acked now (consumes the mark)."""
        if message.topic not in self.topics:
            return True
        if message in self._delivered:
            self._delivered.discard(message)
            return True
        self.refused += 1
        log.info(
            "not acking %s[%s]@%s: it was not delivered by the gate; it will be read again",
            message.topic, message.partition, message.offset,
        )  # fmt: skip
        return False

    def install(self, consumer: Any) -> None:
        """Wrap ``consumer.ack`` (a faust Consumer) with this guard."""
        original = consumer.ack

        def guarded_ack(message: Any) -> bool:
            if not self.allows(message):
                return False
            result: bool = original(message)
            return result

        consumer.ack = guarded_ack


class FaustRuntime:
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
        faust.streams._CStreamIterator = None  # type: ignore[attr-defined]  # noqa: SLF001 - faust's hooks: this module's job
        self.config = config
        self.processors = dict(processors)
        self.metrics = metrics
        self.fatal = fatal
        self.guard = AckGuard([r.source for r in config.routes])
        self.assigned_once = False
        self.tickers: list[Callable[[], object]] = []
        """Called every second with the window ticks (e.g. the quiet log filter's flush)."""
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
        self.app.timer(_LAG_REFRESH_S, name="dqgate.lag")(self._refresh_lag)
        self._end_offsets: dict[Any, int] = {}
        metrics.watch_partitions(self.partition_offsets)

    def install_guard(self) -> None:
        """Wrap the consumer's ack with the AckGuard (call before the worker starts).

        Also times its commits, for ``dqgate_last_commit_age_seconds``.
        """
        self.guard.install(self.app.consumer)
        consumer: Any = self.app.consumer
        commit = consumer._commit  # noqa: SLF001 - faust's hooks: this module's job
        metrics = self.metrics

        async def timed_commit(offsets: Any) -> bool:
            done: bool = await commit(offsets)
            if done:
                metrics.record_commit()
            return done

        consumer._commit = timed_commit  # noqa: SLF001 - faust's hooks: this module's job

    async def _tick_windows(self, *_: Any) -> None:
        for processor in self.processors.values():
            processor.tick()
        for ticker in self.tickers:
            ticker()

    async def _refresh_lag(self, *_: Any) -> None:
        """Paused partitions are not fetched, so their highwater is read here (the lag)."""
        paused = {p.route_name for p in self.processors.values() if p.paused}
        if not paused:
            self._end_offsets.clear()
            return
        sources = {r.source for r in self.config.routes if r.name in paused}
        try:
            tps = [tp for tp in self.app.consumer.assignment() if tp.topic in sources]
            if tps:
                self._end_offsets.update(await self.app.consumer.highwaters(*tps))
        except Exception as exc:  # noqa: BLE001 - the lag stays as it was this time
            log.debug("highwaters unavailable: %s", type(exc).__name__)

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
            except Exception:  # noqa: BLE001 - no fetch yet, or revoked meanwhile
                highwater = None
            known = self._end_offsets.get(tp)
            if known is not None and (highwater is None or known > highwater):
                highwater = known
            offsets.append((route, tp.partition, highwater, committed.get(tp)))
        return offsets

    def readiness(self) -> Readiness:
        """Ready, or why not: assigned, committing what it routed, consuming what waits."""
        if not self.assigned_once or self.app.rebalancing:
            partitions = []
        else:
            try:
                partitions = self.partition_offsets()
            except Exception:  # noqa: BLE001 - consumer restarting: judged on assignment alone
                partitions = []
        return assess(
            assigned=self.assigned_once,
            rebalancing=bool(self.app.rebalancing),
            partitions=partitions,
            progress=self.metrics.progress(),
            paused_routes={n for n, p in self.processors.items() if p.paused},
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
                    messages = [event.message for event in events]
                    await self._route(processor, messages)
                    guard.mark_delivered(messages)
                except asyncio.CancelledError:
                    raise  # the AckGuard keeps an unfinished batch uncommitted
                except DeliveryError as exc:
                    self.fatal(
                        f"{exc}; no offset of this batch is committed", ExitCode.DELIVERY_FAILED
                    )
                except BaseException as exc:
                    log.exception("route %s: internal error", processor.route_name)
                    self.fatal(
                        f"route {processor.route_name!r}: internal error "
                        f"{type(exc).__name__}; no offset of this batch is committed",
                        ExitCode.INTERNAL_ERROR,
                    )

        route_agent.__name__ = route_agent.__qualname__ = f"route_{processor.route_name}"
        return route_agent

    async def _route(self, processor: RouteProcessor, messages: list[Any]) -> None:
        """Route one take() batch (it may span partitions) and await every delivery."""
        by_partition: dict[int, list[SourceRecord]] = {}
        for message in messages:
            by_partition.setdefault(message.partition, []).append(source_record(message))
        producer = self.app.producer
        for records in by_partition.values():
            batch = await processor.prepare(records, cut=False)
            refused: dict[int, BaseException] = {}
            futures: dict[int, Any] = {}
            for index, output in enumerate(batch.outputs):
                try:
                    futures[index] = await _send(producer, output)
                except Exception as exc:  # noqa: BLE001 - sent again alone below: a stub or exit 3
                    refused[index] = exc
            results = await asyncio.gather(*futures.values(), return_exceptions=True)
            for index, result in zip(futures, results, strict=True):
                if isinstance(result, BaseException):
                    refused[index] = result
            if refused:
                await self._recover(processor, batch, sorted(refused.items()))
            processor.delivered(batch)
            if batch.tripped:
                self._on_trip(processor)
            if processor.paused:
                await self._pause_or_warn(processor.route_name)

    async def _recover(
        self, processor: RouteProcessor, batch: RoutedBatch, failed: list[tuple[int, BaseException]]
    ) -> None:
        """Outputs of ``batch`` were not acknowledged: send each again alone; one the broker
        refuses alone goes to quarantine as a stub (:mod:`dqgate.gate.stubs`), as on the
        batch engine. Any other failure is a DeliveryError (exit 3, nothing committed)."""
        producer = self.app.producer

        async def deliver(output: Output) -> None:
            await (await _send(producer, output))

        for index, first_error in failed:
            await processor.deliver_alone(
                batch, index, batch.outputs[index][0], first_error, resend=deliver,
                send_stub=deliver,
            )  # fmt: skip

    def _on_trip(self, processor: RouteProcessor) -> None:
        from dqgate.gate.circuit import log_trip

        log_trip(processor.route_name, processor.breaker.status())
        self.metrics.circuit_breaker_trips_total.labels(route=processor.route_name).inc()
        self.metrics.set_circuit_open(processor.route_name, True)

    def _source_partitions(self, route_name: str) -> list[Any]:
        from aiokafka import TopicPartition

        source = next(r.source for r in self.config.routes if r.name == route_name)
        try:
            assigned = self.app.consumer.assignment()
        except Exception:  # noqa: BLE001 - consumer not started yet: nothing to pause
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
        thread = self.app.consumer._thread  # type: ignore[attr-defined]  # noqa: SLF001 - faust's hooks: this module's job
        client = thread._ensure_consumer()  # noqa: SLF001 - faust's hooks: this module's job

        async def apply() -> None:
            assigned = client.assignment()
            mine = [tp for tp in tps if tp in assigned]
            if paused:
                client.pause(*mine)
            else:
                client.resume(*mine)

        await thread.call_thread(apply)

    async def _pause_or_warn(self, route_name: str) -> None:
        try:
            await self._fetching(route_name, paused=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - keep routing rather than stop the worker
            log.error("route %s: could not pause fetching: %s", route_name, type(exc).__name__)

    async def resume(self, route_name: str) -> ResumeResult:
        """Close the route's breaker and fetch its partitions again; say whether it was paused."""
        processor = self.processors.get(route_name)
        if processor is None:
            return ResumeResult.UNKNOWN
        if not processor.breaker.resume():
            return ResumeResult.NOT_PAUSED
        await self._fetching(route_name, paused=False)
        self.metrics.set_circuit_open(route_name, False)
        return ResumeResult.RESUMED

    def status(self) -> dict[str, Any]:
        """A JSON-able snapshot for /healthz."""
        partitions: dict[str, list[int]] = {}
        try:
            for tp in self.app.consumer.assignment():
                partitions.setdefault(tp.topic, []).append(tp.partition)
        except Exception:  # noqa: BLE001 - consumer not started yet: /healthz answers all the same
            pass
        readiness = self.readiness()
        return {
            "engine": "faust",
            "ready": readiness.ready,
            "not_ready": list(readiness.reasons),
            "refused_acks": self.guard.refused,
            "partitions": {t: sorted(p) for t, p in sorted(partitions.items())},
            "routes": route_states(self.processors),
        }


def route_states(processors: Mapping[str, RouteProcessor]) -> dict[str, Any]:
    """Each route's breaker state, for /healthz."""
    routes = {}
    for name, processor in processors.items():
        breaker = processor.breaker.status()
        routes[name] = {
            "paused": breaker.paused,
            "breaker_enabled": breaker.enabled,
            "window_quarantine_ratio": round(breaker.ratio, 4),
        }
    return routes


def run_faust(
    config: GateConfig,
    *,
    processors: Mapping[str, RouteProcessor],
    metrics: GateMetrics,
    fatal: Fatal,
    http: Any,
    loop: asyncio.AbstractEventLoop,
    datadir: str,
    before_start: Callable[[], None],
) -> tuple[FaustRuntime, Callable[[], int]]:
    """Build the faust runtime; returns it and the function that runs it to its exit code.

    ``http`` (an HttpService, or None) runs as one of the worker's services.
    """
    runtime = FaustRuntime(
        config=config, processors=processors, metrics=metrics, fatal=fatal, datadir=datadir
    )

    def execute() -> int:
        runtime.install_guard()
        worker = _worker_class(fatal)(
            runtime.app,
            *([http] if http is not None else []),
            loop=loop,
            quiet=True,
            override_logging=False,
            redirect_stdouts=False,
            shutdown_timeout_s=config.shutdown_timeout_s,
        )
        before_start()
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else 1
        return 0  # pragma: no cover - execute_from_commandline always exits

    return runtime, execute


def _worker_class(fatal: Fatal) -> type[Any]:
    """faust.Worker that arms a hard deadline when a stop signal arrives."""
    import faust

    class GateWorker(faust.Worker):
        def __init__(self, *args: Any, shutdown_timeout_s: float, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.spinner = None  # no terminal escape codes in logs
            self._shutdown_timeout_s = shutdown_timeout_s
            self._deadline: threading.Timer | None = None

        def _arm_deadline(self) -> None:
            if self._deadline is None:
                log.warning(
                    "stopping: finishing in-flight batches and committing (at most %.0f s)",
                    self._shutdown_timeout_s,
                )
                self._deadline = threading.Timer(
                    self._shutdown_timeout_s,
                    fatal,
                    args=("graceful stop timed out; pending offsets stay uncommitted",
                          ExitCode.SHUTDOWN_TIMEOUT),
                )  # fmt: skip
                self._deadline.daemon = True
                self._deadline.start()

        def _on_sigterm(self) -> None:
            self._arm_deadline()
            super()._on_sigterm()

        def _on_sigint(self) -> None:
            self._arm_deadline()
            super()._on_sigint()

    return GateWorker


async def _send(producer: Any, output: Output) -> Any:
    """Queue one output on faust's producer; the delivery future."""
    topic, key, value, headers, stamp = output
    return await producer.send(
        topic, key, value, partition=None, timestamp=faust_timestamp(stamp),
        headers=headers,  # None values are valid
    )  # fmt: skip
