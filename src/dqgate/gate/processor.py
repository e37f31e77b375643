"""One route's batches, whatever the engine: evaluate, decide, build the outputs, count.

:meth:`RouteProcessor.prepare` turns a batch of consumed records into a
:class:`RoutedBatch`: one verdict per record (the suite evaluates the raw bytes; a
suite with GX fallback expectations runs off the event loop), the output of each record
(topic, key, value, headers, timestamp), and where the circuit breaker cut the batch. The
engine produces the outputs and, once every one is acknowledged, calls
:meth:`RouteProcessor.delivered`, which updates the metrics a batch at a time. Nothing
here talks to Kafka, so both engines (batch and faust) route a record identically.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from dqgate.config import TombstonePolicy
from dqgate.errors import DeliveryError
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.stubs import output_size, refused_record, stub_headers, stub_record, stub_verdict
from dqgate.gate.values import ValuesHeader
from dqgate.metrics import GateMetrics
from dqgate.provenance import ReplaySeal
from dqgate.routing import Consumed, Output, RouteHeaders, RouteTarget, quarantined_at
from dqgate.shape import SuiteShape
from dqgate.verdict import PASS, Failure, Outcome, Reason, Stage, Verdict

__all__ = [
    "Consumed",
    "Evaluation",
    "Evaluator",
    "Output",
    "PassThrough",
    "RouteProcessor",
    "RoutedBatch",
    "internal_error_verdict",
]

log = logging.getLogger(__name__)

INTERNAL_ERROR_ID: Final = "dqgate.internal"


class Evaluation(Protocol):
    """One batch's evaluation (a suites.BatchEvaluation)."""

    @property
    def verdicts(self) -> list[Verdict]: ...

    @property
    def decoded(self) -> int: ...

    @property
    def missing(self) -> tuple[int, ...]: ...

    @property
    def window_input(self) -> object | None: ...


class Evaluator(Protocol):
    """What the processor needs from a compiled suite."""

    @property
    def name(self) -> str: ...

    @property
    def hash(self) -> str: ...

    def evaluate(self, record: bytes) -> Verdict: ...

    def evaluate_batch(self, values: Sequence[bytes]) -> Evaluation: ...

    def shape(self) -> SuiteShape: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _Evaluated:
    verdicts: list[Verdict]
    decoded: int = 0
    missing: tuple[int, ...] = ()
    window_input: object | None = None


class PassThrough:
    """An Evaluator that passes every record unevaluated (a route with ``validate: false``)."""

    def __init__(self, name: str, hash: str) -> None:
        self.name = name
        self.hash = hash

    def evaluate(self, record: bytes) -> Verdict:
        return PASS

    def evaluate_batch(self, values: Sequence[bytes]) -> Evaluation:
        return _Evaluated(verdicts=[PASS] * len(values))

    def shape(self) -> SuiteShape:
        return SuiteShape(name=self.name, hash=self.hash)


TOMBSTONE_ID: Final = "dqgate.decode"


def _tombstone(suite: str) -> Verdict:
    """The verdict of a record without a value on a route that quarantines tombstones."""
    failure = Failure(
        suite=suite,
        expectation_id=TOMBSTONE_ID,
        type="dqgate_decode",
        column=None,
        reason=Reason.TOMBSTONE,
        message="record has no value (a tombstone); the route quarantines tombstones",
    )
    return Verdict(outcome=Outcome.QUARANTINE, failures=(failure,), stage=Stage.DECODE)


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


@dataclass(slots=True, kw_only=True)
class RoutedBatch:
    """A batch of one source partition, evaluated and routed, ready to produce."""

    topic: str
    partition: int
    outputs: list[Output]
    """One per routed record, in offset order."""
    records: Sequence[Consumed]
    """The routed source records (those of the outputs)."""
    verdicts: list[Verdict]
    next_offset: int
    """The offset after the last routed record (what may be committed once delivered)."""
    held_offset: int | None
    """The first record *not* routed because the route's circuit breaker is open: the
    engine fetches the partition again from here after a resume (None: all routed)."""
    tripped: bool
    """This batch tripped the circuit breaker."""
    quarantined: int
    quarantined_bytes: int
    evaluation: Evaluation
    validation_s: float

    @property
    def routed(self) -> int:
        """Records routed (those after a breaker cut are not)."""
        return len(self.outputs)


class RouteProcessor:
    """Evaluates and routes the batches of one route; never drops a record."""

    def __init__(
        self,
        *,
        route_name: str,
        suite: Evaluator,
        target: RouteTarget,
        metrics: GateMetrics,
        breaker: CircuitBreaker,
        values: ValuesHeader | None = None,
        windows: Any = None,
        seal: ReplaySeal | None = None,
        tombstones: TombstonePolicy = TombstonePolicy.QUARANTINE,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.route_name = route_name
        self.suite = suite
        self.target = target
        self.breaker = breaker
        self._values = values
        self._windows = windows
        self._metrics = metrics
        self._clock_ms = clock_ms
        self._headers = RouteHeaders(target, seal=seal)
        passes = tombstones is TombstonePolicy.CLEAN or isinstance(suite, PassThrough)
        self._tombstone = PASS if passes else _tombstone(suite.name)
        self._threaded = bool(getattr(suite, "has_fallback", False))
        metrics.declare_route(route_name, suite.shape())

    @property
    def paused(self) -> bool:
        """True while the route's circuit breaker is open."""
        return self.breaker.paused

    async def prepare(self, records: Sequence[Consumed], *, cut: bool = True) -> RoutedBatch:
        """Evaluate and route ``records`` (one source partition, offset order).

        With ``cut`` the circuit breaker stops the batch at the record that trips it (and
        routes nothing while it is open); without, every record is routed.
        """
        started_s = time.perf_counter()
        raw = [r.value for r in records]
        deletes = None in raw
        judged = records
        if deletes:  # tombstones: the route's policy decides, the suite never sees them
            judged = [r for r in records if r.value is not None]
        values = cast(list[bytes], [v for v in raw if v is not None] if deletes else raw)
        if self._threaded:
            # GX's engine takes tens of milliseconds per batch: off the event loop, so the
            # other routes, heartbeats and commits go on meanwhile.
            evaluation = await asyncio.to_thread(self._evaluate, values, judged)
        else:
            evaluation = self._evaluate(values, judged)
        if deletes:
            evaluation = self._with_tombstones(records, evaluation)
        validation_s = time.perf_counter() - started_s
        verdicts = evaluation.verdicts
        admitted, tripped = len(records), False
        if self.breaker.enabled:
            flags = [v.outcome is not Outcome.PASS for v in verdicts]
            if cut:
                admitted, tripped = self.breaker.admit(flags)
            else:
                tripped = self.breaker.record(flags)
        if admitted < len(records):
            verdicts = verdicts[:admitted]
        routed = records if admitted == len(records) else records[:admitted]
        outputs = self._headers.route_batch(
            routed,
            verdicts,
            quarantined_at(self._clock_ms()),
            self._values.encode if self._values is not None else None,
        )
        passed = Outcome.PASS
        quarantined = quarantined_bytes = 0
        for record, verdict in zip(routed, verdicts, strict=True):
            if verdict.outcome is not passed:
                quarantined += 1
                quarantined_bytes += len(record.value or b"")
        first = records[0]
        last_routed = records[admitted - 1].offset if admitted else first.offset - 1
        return RoutedBatch(
            topic=first.topic,
            partition=first.partition,
            outputs=outputs,
            records=routed,
            verdicts=verdicts,
            next_offset=last_routed + 1,
            held_offset=records[admitted].offset if admitted < len(records) else None,
            tripped=tripped,
            quarantined=quarantined,
            quarantined_bytes=quarantined_bytes,
            evaluation=evaluation,
            validation_s=validation_s,
        )

    def stub(self, batch: RoutedBatch, index: int, topic: str, error: BaseException) -> Output:
        """The quarantine stub of the ``index``-th record of ``batch``, which ``topic``
        refused with ``error`` (see :mod:`dqgate.gate.stubs`); its verdict replaces the
        record's in ``batch`` for the metrics."""
        record = batch.records[index]
        verdict = stub_verdict(self.suite.name, batch.verdicts[index], topic, error)
        stub, dropped = stub_record(
            record, keep_timestamp=type(error).__name__ != "InvalidTimestampError"
        )
        ((out, key, value, headers, stamp),) = self._headers.route_batch(
            [stub], [verdict], quarantined_at(self._clock_ms())
        )
        headers.extend(stub_headers(record, dropped, topic, error))
        if batch.verdicts[index].outcome is Outcome.PASS:
            batch.quarantined += 1
        else:
            batch.quarantined_bytes -= len(record.value or b"")
        batch.verdicts[index] = verdict
        return (out, key, value, headers, stamp)

    async def deliver_alone(
        self,
        batch: RoutedBatch,
        index: int,
        topic: str,
        first_error: BaseException,
        *,
        resend: Callable[[Output], Awaitable[object]],
        send_stub: Callable[[Output], Awaitable[object]],
    ) -> None:
        """Deliver the ``index``-th output of ``batch``, which ``topic`` did not acknowledge
        (``first_error``), on both engines' stub path: ``resend`` it alone; if the broker
        refuses it alone, ``send_stub`` its quarantine stub instead (:meth:`stub`).

        Raises DeliveryError when it failed for another reason, or when even the stub was
        refused: the engine then exits (code 3) with nothing of the batch committed.
        """
        output, record = batch.outputs[index], batch.records[index]
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        try:
            await resend(output)
            return
        except Exception as error:
            if not refused_record(error):
                raise DeliveryError(
                    f"route {self.route_name!r}: {where} was not acknowledged by {topic}: "
                    f"{type(error).__name__}: {error}"
                ) from error
            stub = self.stub(batch, index, topic, error)
        try:
            await send_stub(stub)
        except Exception as error:
            raise DeliveryError(
                f"route {self.route_name!r}: {where} could not be written to {topic}, and "
                f"even its stub was refused by {stub[0]} ({type(error).__name__}: {error}); "
                f"raise {stub[0]}'s max.message.bytes"
            ) from error
        log.warning(
            "%s: %s refused the record (%d bytes with the gate's headers: %s); "
            "quarantined as a stub in %s (no value; size and sha256 in its headers)",
            where, topic, output_size(output), type(first_error).__name__, stub[0],
        )  # fmt: skip

    def _with_tombstones(self, records: Sequence[Consumed], evaluation: Evaluation) -> Evaluation:
        """The evaluation of the records with a value, with each tombstone's verdict put
        back in its place."""
        judged = iter(evaluation.verdicts)
        verdicts = [self._tombstone if r.value is None else next(judged) for r in records]
        return _Evaluated(
            verdicts=verdicts,
            decoded=evaluation.decoded,
            missing=evaluation.missing,
            window_input=evaluation.window_input,
        )

    def delivered(self, batch: RoutedBatch) -> None:
        """Every output of ``batch`` was acknowledged: count it."""
        if not batch.outputs:
            return
        evaluation = batch.evaluation
        metrics = self._metrics
        routed_all = len(batch.verdicts) == len(evaluation.verdicts)
        metrics.observe_batch(
            self.route_name,
            batch.verdicts,
            decoded=evaluation.decoded if routed_all else 0,
            missing=evaluation.missing if routed_all else (),
            validation_s=batch.validation_s,
        )
        metrics.observe_delivery(
            self.route_name,
            next_offsets={batch.partition: batch.next_offset},
            timestamps_ms=[o[4] for o in batch.outputs if o[4] is not None],
            quarantined_bytes=batch.quarantined_bytes,
        )
        if self._windows is not None:
            if evaluation.window_input is not None and routed_all:
                self._windows.add(evaluation.window_input)
            metrics.observe_windows(self.route_name, self._windows.drain())
        status = self.breaker.status()
        if status.enabled:
            metrics.route_quarantine_ratio.labels(route=self.route_name).set(status.ratio)
        log.debug(
            "route %s: delivered %d records (%d quarantined), %s[%d] up to @%d",
            self.route_name, batch.routed, batch.quarantined, batch.topic, batch.partition,
            batch.next_offset - 1,
        )  # fmt: skip

    def tick(self) -> None:
        """Close a tumbling window whose time is up (the route may be idle); export it."""
        if self._windows is not None:
            self._windows.tick()
            self._metrics.observe_windows(self.route_name, self._windows.drain())

    def evaluate(self, values: Sequence[bytes]) -> list[Verdict]:
        """Verdicts for raw ``values``; a record whose evaluation raises gets an error verdict."""
        return self._evaluate(values, None).verdicts

    def _evaluate(self, values: Sequence[bytes], records: Sequence[Consumed] | None) -> Evaluation:
        try:
            return self.suite.evaluate_batch(values)
        except Exception:  # noqa: BLE001 - a bug in a check is a verdict, never a crash
            verdicts = []
            for index, value in enumerate(values):
                try:
                    verdicts.append(self.suite.evaluate(value))
                except Exception as exc:  # noqa: BLE001 - a bug in a check is an error verdict
                    where = _where(records[index]) if records is not None else f"#{index}"
                    log.error(
                        "route %s: evaluating %s raised %s; quarantined as %s",
                        self.route_name, where, type(exc).__name__, Reason.EVALUATION_ERROR,
                    )  # fmt: skip
                    verdicts.append(internal_error_verdict(self.suite.name, exc))
            return _Evaluated(verdicts=verdicts)


def _where(record: Consumed) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
