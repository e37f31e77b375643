"""A route's batches: verdicts, outputs, the breaker's cut and counting on delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from dqgate.config import CircuitBreakerConfig, TombstonePolicy
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.processor import PassThrough, RoutedBatch, RouteProcessor
from dqgate.metrics import GateMetrics
from dqgate.routing import REASONS, SOURCE_OFFSET, RouteTarget, SourceRecord
from dqgate.shape import SuiteShape
from dqgate.verdict import Failure, Outcome, Policy, Reason, Verdict

TARGET = RouteTarget(clean="in.clean", quarantine="in.quarantine", suite_name="s", suite_hash="ab")
FAILURE = Failure(
    suite="s", expectation_id="ssn_present", type="expect_column_values_to_not_be_null",
    column="ssn", reason=Reason.MISSING_FIELD, message="ssn is null", policy=Policy.ENFORCE,
)  # fmt: skip
BAD = Verdict(outcome=Outcome.QUARANTINE, failures=(FAILURE,))
GOOD = Verdict(outcome=Outcome.PASS)


def Record(offset: int, value: bytes | None) -> SourceRecord:
    """A consumed record on in[2]@offset (timestamp in ms)."""
    return SourceRecord(
        topic="in", partition=2, offset=offset, timestamp=1_700_000_000_000, key=b"k",
        value=value,
    )  # fmt: skip


class Evaluated:
    """What a suite's evaluate_batch returns."""

    def __init__(self, verdicts: list[Verdict]) -> None:
        self.verdicts, self.decoded, self.missing, self.window_input = verdicts, 0, (), None


class FakeSuite:
    """Quarantines values starting with b'bad'; evaluate_batch raises on b'boom' (a bug)."""

    name, hash = "s", "ab"

    def evaluate(self, value: bytes) -> Verdict:
        if value.startswith(b"boom"):
            raise RuntimeError("bug")
        return BAD if value.startswith(b"bad") else GOOD

    def evaluate_batch(self, values: Sequence[bytes]) -> Evaluated:
        return Evaluated([self.evaluate(v) for v in values])

    def shape(self) -> SuiteShape:
        return SuiteShape(name=self.name, hash=self.hash)


def processor(registry: CollectorRegistry, **kw: Any) -> RouteProcessor:
    """A processor over FakeSuite (or ``suite``), its metrics on ``registry``."""
    return RouteProcessor(
        route_name="r", suite=kw.get("suite", FakeSuite()), target=TARGET,
        metrics=GateMetrics(registry), breaker=kw.get("breaker", CircuitBreaker(None)),
        tombstones=kw.get("tombstones", TombstonePolicy.QUARANTINE), clock_ms=lambda: 0,
    )  # fmt: skip


def prepare(gate: RouteProcessor, *values: bytes | None) -> RoutedBatch:
    """Prepare records with these values at offsets 10.."""
    return asyncio.run(gate.prepare([Record(10 + i, v) for i, v in enumerate(values)]))


def count(registry: CollectorRegistry, outcome: str) -> float | None:
    """dqgate_records_total of route r for ``outcome``."""
    return registry.get_sample_value("dqgate_records_total", {"route": "r", "outcome": outcome})


def test_outputs_keep_order_and_are_counted_only_when_delivered() -> None:
    """Each record goes to its topic in order; nothing is counted before delivered()."""
    registry = CollectorRegistry()
    gate = processor(registry)
    batch = prepare(gate, b"ok", b"bad", b"ok")
    assert [o[0] for o in batch.outputs] == ["in.clean", "in.quarantine", "in.clean"]
    assert [dict(o[3])[SOURCE_OFFSET] for o in batch.outputs] == [b"10", b"11", b"12"]
    assert (batch.next_offset, batch.quarantined, batch.held_offset) == (13, 1, None)
    assert count(registry, "pass") == 0
    gate.delivered(batch)
    assert (count(registry, "pass"), count(registry, "quarantine")) == (2, 1)


def test_an_evaluation_bug_quarantines_that_record_as_error() -> None:
    """A record whose evaluation raises is quarantined with reason evaluation_error."""
    batch = prepare(processor(CollectorRegistry()), b"ok", b"boom")
    assert [o[0] for o in batch.outputs] == ["in.clean", "in.quarantine"]
    assert dict(batch.outputs[1][3])[REASONS] == b"evaluation_error"


def test_pass_through_routes_everything_to_clean() -> None:
    """With validation off every record goes to clean unevaluated."""
    gate = processor(CollectorRegistry(), suite=PassThrough("s", "ab"))
    batch = prepare(gate, b"bad", b"boom", None)
    assert [o[0] for o in batch.outputs] == ["in.clean"] * 3


def test_the_breaker_stops_the_batch_at_the_record_that_trips_it() -> None:
    """Window 4, ratio 0.5: the 3rd bad record trips it; the rest of the batch is held."""
    breaker = CircuitBreaker(CircuitBreakerConfig(window_records=4, max_quarantine_ratio=0.5))
    gate = processor(CollectorRegistry(), breaker=breaker)
    batch = prepare(gate, b"ok", b"bad", b"bad", b"bad", b"bad", b"ok", b"bad")
    assert batch.tripped and gate.paused
    assert batch.routed == 4 and batch.next_offset == 14 and batch.held_offset == 14
    held = prepare(gate, b"ok", b"ok")  # fetched before the pause took effect
    assert held.routed == 0 and held.held_offset == 10 and not held.tripped


def test_without_cut_the_faust_engine_routes_the_whole_batch() -> None:
    """prepare(cut=False) routes every record and still trips the breaker."""
    breaker = CircuitBreaker(CircuitBreakerConfig(window_records=2, max_quarantine_ratio=0.4))
    gate = processor(CollectorRegistry(), breaker=breaker)
    records = [Record(i, v) for i, v in enumerate([b"bad", b"bad", b"ok", b"bad"])]
    batch = asyncio.run(gate.prepare(records, cut=False))
    assert batch.routed == 4 and batch.tripped and batch.held_offset is None


def test_tombstones_are_quarantined_with_their_own_reason_by_default() -> None:
    """A null value is a tombstone verdict (stage decode); the suite never sees it."""
    batch = prepare(processor(CollectorRegistry()), b"ok", None, b"bad")
    topics = [o[0] for o in batch.outputs]
    assert topics == ["in.clean", "in.quarantine", "in.quarantine"]
    headers = dict(batch.outputs[1][3])
    assert headers[REASONS] == b"tombstone" and headers["dqgate.stage"] == b"decode"
    assert batch.outputs[1][2] is None and batch.outputs[1][1] == b"k"


def test_a_route_with_tombstones_clean_passes_them_on_with_key_and_lineage() -> None:
    """tombstones: clean sends the delete on unevaluated, keeping its key."""
    gate = processor(CollectorRegistry(), tombstones=TombstonePolicy.CLEAN)
    batch = prepare(gate, None, b"bad", None)
    assert [o[0] for o in batch.outputs] == ["in.clean", "in.quarantine", "in.clean"]
    _topic, key, value, headers, _stamp = batch.outputs[2]
    assert (key, value) == (b"k", None)
    assert dict(headers)[SOURCE_OFFSET] == b"12"
