"""Verdict -> output record: topic, headers, bytes and timestamps (no broker)."""

from __future__ import annotations

import random
from typing import Any

import orjson

from dqgate.gate.faust_engine import faust_timestamp, source_record
from dqgate.routing import (
    FAILURES,
    LINEAGE_HEADERS,
    QUARANTINE_HEADERS,
    QUARANTINED_AT,
    REASONS,
    SOURCE_TOPIC,
    STAGE,
    OutputRecord,
    RouteHeaders,
    RouteTarget,
    SourceRecord,
    lineage_of,
    quarantined_at,
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
        topic="in", partition=2, offset=offset, timestamp=1_700_000_000_123,
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


def test_a_forged_gate_header_is_kept_apart_and_the_real_lineage_added() -> None:
    """A source header named dqgate.source.topic moves to dqgate.original.source.topic,
    value unchanged; the gate's own dqgate.source.topic names the real source."""
    out = route(record(headers=((SOURCE_TOPIC, b"upstream"),)), failing(), TARGET)
    assert out.headers[0] == ("dqgate.original.source.topic", b"upstream")
    assert [v for n, v in out.headers if n == SOURCE_TOPIC] == [b"in"]


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


def test_faust_message_restores_integer_milliseconds() -> None:
    """A faust message becomes the SourceRecord the batch engine would have read, its
    timestamp in seconds back to the original integer milliseconds."""
    assert source_record(FakeMessage(1)) == SourceRecord(
        topic="in", partition=0, offset=1, timestamp=1_700_000_000_123, key=b"k", value=b"v",
        headers=(("h", b"1"),),
    )  # fmt: skip
    assert source_record(FakeMessage(1, timestamp=-0.001)).timestamp is None


def test_a_batch_is_routed_exactly_as_its_records_one_by_one() -> None:
    """route_batch (caches per partition and verdict) gives route()'s outputs, in order."""
    shared = failing()
    cases = [
        (record(1), Verdict(outcome=Outcome.PASS)),
        (record(2), shared),
        (record(3), shared),  # the cached quarantine headers of the same verdict
        (record(4, headers=(("origin", b"x"),)), failing(Reason.OUT_OF_RANGE)),
        (record(5, headers=((SOURCE_TOPIC, b"forged"),)), Verdict(outcome=Outcome.PASS)),
        (record(6, value=None), failing(Reason.UNDECODABLE)),
    ]
    at = quarantined_at(1_700_000_000_000)
    sources = [source for source, _ in cases]
    batch = RouteHeaders(TARGET).route_batch(sources, [v for _, v in cases], at)
    for (source, verdict), (topic, key, value, headers, stamp) in zip(cases, batch, strict=True):
        expected = route(source, verdict, TARGET, now_ms=1_700_000_000_000)
        assert (topic, key, value, tuple(headers), stamp) == (
            expected.topic, expected.key, expected.value, expected.headers, expected.timestamp_ms,
        )  # fmt: skip
