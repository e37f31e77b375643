"""Verdict -> output record, and batch routing with delivery discipline (no broker)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from dqgate.errors import DeliveryError
from dqgate.gate.app import faust_timestamp, source_record
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.processor import AckGuard, PassThrough, RouteProcessor
from dqgate.metrics import GateMetrics
from dqgate.routing import (
    FAILURES,
    LINEAGE_HEADERS,
    QUARANTINE_HEADERS,
    QUARANTINED_AT,
    REASONS,
    SOURCE_TOPIC,
    STAGE,
    OutputRecord,
    RouteTarget,
    SourceRecord,
    lineage_of,
    route,
)
from dqgate.verdict import Failure, Outcome, Policy, Reason, Stage, Verdict

TARGET = RouteTarget(clean="in.clean", quarantine="in.quarantine", suite_name="s", suite_hash="ab")
SECRET_VALUE = b'{"ssn": "000-12-3456"}'


def record(
    offset: int = 7, *, headers: tuple[Any, ...] = (), value: bytes | None = b"{}"
) -> SourceRecord:
    """A source record on in[2]@offset with a fixed key and timestamp."""
    return SourceRecord(
        topic="in", partition=2, offset=offset, timestamp_ms=1_700_000_000_123,
        key=b"k", value=value, headers=headers,
    )  # fmt: skip


def failing(reason: Reason = Reason.MISSING_FIELD, *, policy: Policy = Policy.ENFORCE) -> Verdict:
    """A verdict with one failure of ``reason`` on column ssn."""
    failure = Failure(
        suite="s", expectation_id="ssn_present", type="expect_column_values_to_not_be_null",
        column="ssn", reason=reason, message="ssn is null", policy=policy,
    )  # fmt: skip
    outcome = Outcome.QUARANTINE if policy is Policy.ENFORCE else Outcome.PASS
    return Verdict(outcome=outcome, failures=(failure,))


def names(out: OutputRecord) -> list[str]:
    """The header names of an output record, in order."""
    return [name for name, _ in out.headers]


def test_passing_record_goes_to_clean_with_lineage_headers() -> None:
    """A pass verdict routes to clean with exactly the four lineage headers added."""
    out = route(record(headers=(("trace", b"1"),)), Verdict(outcome=Outcome.PASS), TARGET)
    assert out.topic == "in.clean" and not out.quarantined
    assert names(out) == ["trace", *LINEAGE_HEADERS]
    assert dict(out.headers)[SOURCE_TOPIC] == b"in"
    assert lineage_of(out.headers) == ("in", 2, 7)


def test_failing_record_goes_to_quarantine_with_all_headers() -> None:
    """A quarantine verdict routes to quarantine with every documented header, in order."""
    out = route(record(), failing(), TARGET, now_ms=1_700_000_000_000)
    assert out.topic == "in.quarantine" and out.quarantined
    assert names(out) == list(QUARANTINE_HEADERS)
    headers = dict(out.headers)
    assert headers[REASONS] == b"missing_field"
    assert headers[STAGE] == b"validate"
    assert headers[QUARANTINED_AT] == b"2023-11-14T22:13:20.000Z"


def test_key_value_and_timestamp_are_unchanged() -> None:
    """The output keeps the source key, value bytes and timestamp."""
    out = route(record(value=SECRET_VALUE), failing(), TARGET)
    assert (out.key, out.value, out.timestamp_ms) == (b"k", SECRET_VALUE, 1_700_000_000_123)


def test_tombstone_value_stays_none() -> None:
    """A record without a value is routed with value None, not b''."""
    assert route(record(value=None), failing(Reason.UNDECODABLE), TARGET).value is None


def test_existing_header_of_the_same_name_is_never_overwritten() -> None:
    """A source header named dqgate.source.topic keeps its value and is not added twice."""
    out = route(record(headers=((SOURCE_TOPIC, b"upstream"),)), failing(), TARGET)
    assert [v for n, v in out.headers if n == SOURCE_TOPIC] == [b"upstream"]
    assert names(out)[0] == SOURCE_TOPIC


def test_failures_header_lists_enforced_failures_without_values() -> None:
    """dqgate.failures is JSON of id, type, column, reason; no message, no record value."""
    out = route(record(value=SECRET_VALUE), failing(), TARGET)
    failures = orjson.loads(dict(out.headers)[FAILURES] or b"")
    assert failures == [
        {
            "expectation_id": "ssn_present",
            "type": "expect_column_values_to_not_be_null",
            "column": "ssn",
            "reason": "missing_field",
        }
    ]
    assert all(b"000-12-3456" not in (v or b"") for _, v in out.headers)


def test_observed_only_failure_passes_to_clean() -> None:
    """An observe-policy failure does not quarantine the record."""
    assert route(record(), failing(policy=Policy.OBSERVE), TARGET).topic == "in.clean"


def test_decode_stage_is_reported() -> None:
    """A decode-stage verdict says stage decode."""
    verdict = Verdict(outcome=Outcome.QUARANTINE, failures=failing().failures, stage=Stage.DECODE)
    assert dict(route(record(), verdict, TARGET).headers)[STAGE] == b"decode"


def test_timestamp_survives_faust_seconds_conversion() -> None:
    """ms -> faust seconds -> faust's int(s * 1000.0) gives the same ms for any timestamp."""
    rng = random.Random(3)
    samples = [0, 1, 999, 1_700_000_000_123, 4_102_444_800_000]
    samples += [rng.randrange(0, 2**42) for _ in range(20_000)]
    for ms in samples:
        seconds = faust_timestamp(ms)
        assert seconds is not None and int(seconds * 1000.0) == ms


class FakeMessage:
    """The attributes of a faust ConsumerMessage the gate reads."""

    def __init__(self, offset: int, *, timestamp: float | None = 1_700_000_000.123) -> None:
        self.topic, self.partition, self.offset = "in", 0, offset
        self.timestamp, self.key, self.value = timestamp, b"k", b"v"
        self.headers: list[tuple[str, bytes]] = [("h", b"1")]


def test_source_record_restores_integer_milliseconds() -> None:
    """A faust message timestamp in seconds becomes the original integer milliseconds."""
    assert source_record(FakeMessage(1)).timestamp_ms == 1_700_000_000_123
    assert source_record(FakeMessage(1, timestamp=-0.001)).timestamp_ms is None


class FakeSuite:
    """An evaluator quarantining values starting with b'bad' and raising on b'boom'."""

    name, hash = "s", "ab"

    def evaluate(self, value: bytes) -> Verdict:
        if value.startswith(b"boom"):
            raise RuntimeError("bug")
        return failing() if value.startswith(b"bad") else Verdict(outcome=Outcome.PASS)

    def evaluate_many(self, values: list[bytes]) -> list[Verdict]:
        return [self.evaluate(v) for v in values]


class FakeProducer:
    """Collects sent records; fails deliveries of values in ``fail``."""

    def __init__(self, *, fail: bytes | None = None, raise_on_send: bool = False) -> None:
        self.sent: list[OutputRecord] = []
        self.fail = fail
        self.raise_on_send = raise_on_send

    async def send(self, output: OutputRecord) -> Awaitable[Any]:
        if self.raise_on_send:
            raise ConnectionError("broker gone")
        self.sent.append(output)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if output.value == self.fail:
            future.set_exception(TimeoutError("not acknowledged"))
        else:
            future.set_result(None)
        return future


def processor(producer: FakeProducer, registry: CollectorRegistry, **kw: Any) -> RouteProcessor:
    """A RouteProcessor over FakeSuite and ``producer`` with metrics on ``registry``."""
    return RouteProcessor(
        route_name="r", suite=kw.get("suite", FakeSuite()), target=TARGET, send=producer.send,
        metrics=GateMetrics(registry), breaker=CircuitBreaker(None), clock_ms=lambda: 0,
    )  # fmt: skip


def batch(*values: bytes) -> list[SourceRecord]:
    """Source records with these values at offsets 0.."""
    return [record(i, value=v) for i, v in enumerate(values)]


def test_batch_is_routed_in_order_and_counted() -> None:
    """Each record goes to its topic in order; records_total counts the outcomes."""
    registry = CollectorRegistry()
    producer = FakeProducer()
    result = asyncio.run(processor(producer, registry).process(batch(b"ok", b"bad", b"ok")))
    assert [o.topic for o in producer.sent] == ["in.clean", "in.quarantine", "in.clean"]
    assert (result.routed, result.quarantined) == (3, 1)
    count = registry.get_sample_value
    assert count("dqgate_records_total", {"route": "r", "outcome": "pass"}) == 2
    assert count("dqgate_records_total", {"route": "r", "outcome": "quarantine"}) == 1
    labels = {
        "route": "r",
        "suite": "s",
        "policy": "enforce",
        "expectation": "ssn_present",
        "column": "ssn",
        "reason": "missing_field",
    }
    assert count("dqgate_expectation_failures_total", labels) == 1


def test_failed_delivery_raises_and_counts_nothing() -> None:
    """One unacknowledged output raises DeliveryError naming it; no metric is counted."""
    registry = CollectorRegistry()
    gate = processor(FakeProducer(fail=b"bad"), registry)
    with pytest.raises(DeliveryError, match=r"1 of 2 .* in\[2\]@1 -> in\.quarantine"):
        asyncio.run(gate.process(batch(b"ok", b"bad")))
    assert registry.get_sample_value("dqgate_records_total", {"route": "r", "outcome": "pass"}) == 0


def test_send_that_raises_is_a_delivery_error() -> None:
    """A producer that cannot even schedule a record raises DeliveryError."""
    gate = processor(FakeProducer(raise_on_send=True), CollectorRegistry())
    with pytest.raises(DeliveryError, match="could not send"):
        asyncio.run(gate.process(batch(b"ok")))


def test_evaluation_bug_quarantines_the_record_as_error() -> None:
    """A record whose evaluation raises is quarantined with reason evaluation_error."""
    producer = FakeProducer()
    asyncio.run(processor(producer, CollectorRegistry()).process(batch(b"ok", b"boom")))
    assert [o.topic for o in producer.sent] == ["in.clean", "in.quarantine"]
    assert dict(producer.sent[1].headers)[REASONS] == b"evaluation_error"


def test_pass_through_routes_everything_to_clean() -> None:
    """With validation off every record goes to clean unevaluated."""
    producer = FakeProducer()
    gate = processor(producer, CollectorRegistry(), suite=PassThrough("s", "ab"))
    asyncio.run(gate.process(batch(b"bad", b"boom")))
    assert [o.topic for o in producer.sent] == ["in.clean", "in.clean"]


class Msg:
    """A hashable, weak-referenceable stand-in for a faust message."""

    def __init__(self, topic: str) -> None:
        self.topic, self.partition, self.offset = topic, 0, 1


class FakeConsumer:
    """Records which messages reached its ack."""

    def __init__(self) -> None:
        self.acked: list[Msg] = []

    def ack(self, message: Msg) -> bool:
        self.acked.append(message)
        return True


def test_ack_guard_refuses_undelivered_source_messages() -> None:
    """An ack for a source message the gate did not deliver never reaches the consumer."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    message = Msg("in")
    assert consumer.ack(message) is False
    assert consumer.acked == [] and guard.refused == 1


def test_ack_guard_lets_delivered_messages_through_once() -> None:
    """After mark_delivered the ack passes; the mark is used up."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    message = Msg("in")
    guard.mark_delivered([message])
    assert consumer.ack(message) is True
    assert consumer.ack(message) is False
    assert consumer.acked == [message]


def test_ack_guard_ignores_other_topics() -> None:
    """Messages of topics that are not sources are acked as usual."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    assert consumer.ack(Msg("other")) is True
