"""One route's batch processing: evaluate, route, produce, await every delivery.

:meth:`RouteProcessor.process` returns only when the broker has acknowledged (acks=all)
every output record of the batch; otherwise it raises :class:`~dqgate.errors.DeliveryError`
and the caller ends the process without committing. :class:`AckGuard` makes that
structural: Faust may only mark a source message as acked (committable) after the gate
marked it delivered, whatever path inside Faust tries to ack it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dqgate.errors import DeliveryError
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.values import ValuesHeader
from dqgate.metrics import GateMetrics
from dqgate.routing import OutputRecord, RouteTarget, SourceRecord, route
from dqgate.verdict import Failure, Outcome, Reason, Stage, Verdict

__all__ = [
    "AckGuard",
    "BatchResult",
    "Evaluator",
    "PassThrough",
    "RouteProcessor",
    "SendFn",
    "internal_error_verdict",
]

log = logging.getLogger(__name__)

INTERNAL_ERROR_ID = "dqgate.internal"


class Evaluator(Protocol):
    """What the processor needs from a compiled suite."""

    @property
    def name(self) -> str: ...

    @property
    def hash(self) -> str: ...

    def evaluate(self, record: bytes) -> Verdict: ...

    def evaluate_many(self, records: list[bytes]) -> list[Verdict]: ...


SendFn = Callable[[OutputRecord], Awaitable[Awaitable[Any]]]
"""Schedules one output record; the awaited result is its delivery future."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """What one processed batch did."""

    routed: int
    quarantined: int
    tripped: bool


class PassThrough:
    """An Evaluator that passes every record unevaluated (a route with ``validate: false``)."""

    def __init__(self, name: str, hash: str) -> None:
        self.name = name
        self.hash = hash

    def evaluate(self, record: bytes) -> Verdict:
        return _PASS

    def evaluate_many(self, records: list[bytes]) -> list[Verdict]:
        return [_PASS] * len(records)


_PASS = Verdict(outcome=Outcome.PASS)


def internal_error_verdict(suite: str, exc: BaseException) -> Verdict:
    """The verdict for a record whose evaluation raised (a bug): quarantine, reason error."""
    failure = Failure(
        suite=suite,
        expectation_id=INTERNAL_ERROR_ID,
        type="dqgate_internal",
        column=None,
        reason=Reason.EVALUATION_ERROR,
        message=f"evaluation raised {type(exc).__name__}",
        error=True,
    )
    return Verdict(outcome=Outcome.ERROR, failures=(failure,), stage=Stage.VALIDATE)


class RouteProcessor:
    """Evaluates and routes the batches of one route; never drops a record."""

    def __init__(
        self,
        *,
        route_name: str,
        suite: Evaluator,
        target: RouteTarget,
        send: SendFn,
        metrics: GateMetrics,
        breaker: CircuitBreaker,
        values: ValuesHeader | None = None,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.route_name = route_name
        self.suite = suite
        self.target = target
        self.breaker = breaker
        self._values = values
        self._send = send
        self._metrics = metrics
        self._clock_ms = clock_ms
        self._evaluating = False
        metrics.declare_route(route_name, suite)

    async def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        """Route ``records``; returns after every output is acknowledged by the broker."""
        if not records:
            return BatchResult(routed=0, quarantined=0, tripped=False)
        started_s = time.perf_counter()
        if getattr(self.suite, "has_fallback", False):
            # GX's engine takes tens of milliseconds per batch: run it off the event loop so
            # the other routes' agents (and heartbeats, commits) are not held back.
            self._evaluating = True  # tick() leaves the suite's windows alone meanwhile
            try:
                verdicts, decoded = await asyncio.to_thread(self._evaluate, records)
            finally:
                self._evaluating = False
        else:
            verdicts, decoded = self._evaluate(records)
        validation_s = time.perf_counter() - started_s
        now_ms = self._clock_ms()
        outputs = [
            route(r, v, self.target, now_ms=now_ms, values=self._values_of(r, v))
            for r, v in zip(records, verdicts, strict=True)
        ]
        futures: list[Awaitable[Any]] = []
        for record, output in zip(records, outputs, strict=True):
            try:
                futures.append(await self._send(output))
            except Exception as exc:
                raise DeliveryError(
                    f"route {self.route_name!r}: could not send {record.where} to "
                    f"{output.topic}: {type(exc).__name__}: {exc}"
                ) from exc
        results = await asyncio.gather(*futures, return_exceptions=True)
        failed = [
            (record, output, result)
            for record, output, result in zip(records, outputs, results, strict=True)
            if isinstance(result, BaseException)
        ]
        if failed:
            first, first_output, error = failed[0]
            raise DeliveryError(
                f"route {self.route_name!r}: {len(failed)} of {len(records)} output records "
                f"were not acknowledged; first: {first.where} -> {first_output.topic}: "
                f"{type(error).__name__}: {error}"
            )
        self._metrics.observe(
            self.route_name, verdicts, records, decoded=decoded, validation_s=validation_s
        )
        self._metrics.observe_windows(self.route_name, self._drain_windows())
        flags = [o.quarantined for o in outputs]
        tripped = self.breaker.record(flags)
        status = self.breaker.status()
        if status.enabled:
            self._metrics.route_quarantine_ratio.labels(route=self.route_name).set(status.ratio)
        quarantined = sum(flags)
        log.debug(
            "route %s: routed %d records (%d quarantined), %s..%s",
            self.route_name, len(records), quarantined, records[0].where, records[-1].where,
        )  # fmt: skip
        return BatchResult(routed=len(records), quarantined=quarantined, tripped=tripped)

    def _values_of(self, record: SourceRecord, verdict: Verdict) -> bytes | None:
        """The opt-in ``dqgate.values`` header of a quarantined record (None: off or none)."""
        if self._values is None or verdict.outcome is Outcome.PASS:
            return None
        return self._values.encode(record.value, verdict)

    def evaluate(self, records: Sequence[SourceRecord]) -> list[Verdict]:
        """Verdicts for ``records``; a record whose evaluation raises gets an error verdict."""
        return self._evaluate(records)[0]

    def tick(self) -> None:
        """Close a tumbling window whose time is up (the route may be idle); export it."""
        if not self._evaluating:
            self._metrics.observe_windows(self.route_name, self._drain_windows(tick=True))

    def _drain_windows(self, *, tick: bool = False) -> list[Any]:
        windows = getattr(self.suite, "windows", None)
        if windows is None:
            return []
        if tick:
            windows.tick()
        return list(windows.drain())

    def _evaluate(
        self, records: Sequence[SourceRecord]
    ) -> tuple[list[Verdict], list[Mapping[str, Any]]]:
        """Verdicts, and the records that decoded to JSON objects (for the metrics).

        A suite with ``decode`` decodes each value once here; ``evaluate_many`` gets the
        decoded record (or, for a decode failure, the raw bytes, to give its verdict).
        """
        values = [r.value if r.value is not None else b"" for r in records]
        decoded: list[Mapping[str, Any]] = []
        try:
            decode = getattr(self.suite, "decode", None)
            inputs: list[Any] = values
            if decode is not None:
                inputs = [decode(value) for value in values]
                for i, item in enumerate(inputs):
                    if isinstance(item, Verdict):
                        inputs[i] = values[i]
                    else:
                        decoded.append(item)
            return self.suite.evaluate_many(inputs), decoded
        except Exception:
            verdicts = []
            for record, value in zip(records, values, strict=True):
                try:
                    verdicts.append(self.suite.evaluate(value))
                except Exception as exc:
                    log.error(
                        "route %s: evaluating %s raised %s; quarantined as %s",
                        self.route_name, record.where, type(exc).__name__,
                        Reason.EVALUATION_ERROR,
                    )  # fmt: skip
                    verdicts.append(internal_error_verdict(self.suite.name, exc))
            return verdicts, decoded


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
