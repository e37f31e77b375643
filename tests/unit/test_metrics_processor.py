"""The route processor feeds the metrics: decoded records, timings, windows (no broker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dqgate.demo.generator import generate
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.processor import PassThrough, RouteProcessor
from dqgate.metrics import GateMetrics
from dqgate.routing import RouteTarget, SourceRecord
from dqgate.suites import CompiledSuite, WindowConfig, compile_suite

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
TARGET = RouteTarget(clean="in.clean", quarantine="in.quarantine", suite_name="s", suite_hash="h")


def records(values: list[bytes]) -> list[SourceRecord]:
    """Source records on in[0] from offset 0 (timestamps in ms)."""
    return [
        SourceRecord(
            topic="in", partition=0, offset=i, timestamp=1_700_000_000_000, key=None, value=v
        )
        for i, v in enumerate(values)
    ]


def route(
    suite: Any, registry: CollectorRegistry, *, clock: Callable[[], float] = time.monotonic
) -> RouteProcessor:
    """A processor for route r over ``suite`` with metrics on ``registry``.

    ``clock`` times the suite's windows limited by ``window_seconds``.
    """
    windows = None
    if isinstance(suite, CompiledSuite):
        windows = suite.new_window_aggregator(suite_window(suite), clock=clock)
    return RouteProcessor(
        route_name="r", suite=suite, target=TARGET,
        metrics=GateMetrics(registry), breaker=CircuitBreaker(None), windows=windows,
    )  # fmt: skip


def suite_window(suite: CompiledSuite) -> WindowConfig:
    """The window configuration the suite was compiled with (the tests' own)."""
    return WINDOWS[id(suite)]


WINDOWS: dict[int, WindowConfig] = {}


def compiled(window: WindowConfig) -> CompiledSuite:
    """The mission-story suite with ``window`` (remembered for its route's aggregator)."""
    suite = compile_suite(SUITE_PATH, window=window)
    WINDOWS[id(suite)] = window
    return suite


def process(processor: RouteProcessor, batch: list[SourceRecord]) -> None:
    """Prepare a batch and report it delivered, as an engine does."""
    processor.delivered(asyncio.run(processor.prepare(batch)))


@pytest.fixture
def suite() -> CompiledSuite:
    """The mission-story suite; its tumbling windows close every 100 records."""
    return compiled(WindowConfig(window_records=100, window_seconds=None))


def test_a_processed_batch_feeds_ratios_timings_and_windows(suite: CompiledSuite) -> None:
    """One batch: validation time, batch size, missing ratio and the closed windows."""
    registry = CollectorRegistry()
    values = [r.value for r in generate(300, seed=2, defect_rate=0.0)]
    process(route(suite, registry), records(values))
    get = registry.get_sample_value
    assert get("dqgate_validation_seconds_count", {"route": "r"}) == 1
    assert get("dqgate_batch_records_sum", {"route": "r"}) == 300
    assert 0.6 < get("dqgate_field_missing_ratio", {"route": "r", "column": "ethnicity"}) < 0.9
    labels = {"route": "r", "expectation": "ethnicity_completeness"}
    assert get("dqgate_window_expectation_success", labels) == 1
    assert 0.1 < get("dqgate_window_observed_value", labels) < 0.4
    assert get("dqgate_end_to_end_latency_seconds_count", {"route": "r"}) == 300


def test_tick_exports_a_window_closed_by_time(suite: CompiledSuite) -> None:
    """An idle route's time window closes on tick and its result is exported."""
    registry = CollectorRegistry()
    timed = compiled(WindowConfig(window_records=None, window_seconds=10.0))
    now = [1_000.0]
    processor = route(timed, registry, clock=lambda: now[0])
    process(processor, records([b'{"ethnicity": null}'] * 5))
    labels = {"route": "r", "expectation": "ethnicity_completeness"}
    processor.tick()  # 0 s into the window: still open, nothing exported
    assert registry.get_sample_value("dqgate_window_expectation_success", labels) is None
    now[0] += 10.0
    processor.tick()
    assert registry.get_sample_value("dqgate_window_expectation_success", labels) == 0
    assert registry.get_sample_value("dqgate_window_observed_value", labels) == 0


def test_verdicts_are_the_same_as_the_suites_own(suite: CompiledSuite) -> None:
    """Decoding once in the processor does not change any verdict."""
    values = [r.value for r in generate(1_000, seed=9, defect_rate=0.4)]
    processor = route(suite, CollectorRegistry())
    assert processor.evaluate(values) == suite.evaluate_many(values, windows=False)


def test_a_pass_through_route_counts_records_without_ratios() -> None:
    """validate: false exports counts and suite info, and no field ratios."""
    registry = CollectorRegistry()
    process(route(PassThrough("s", "h"), registry), records([b"x", b"{}"]))
    assert registry.get_sample_value("dqgate_records_total", {"route": "r", "outcome": "pass"}) == 2
    info = {"route": "r", "suite": "s", "hash": "h"}
    assert registry.get_sample_value("dqgate_suite_info", info) == 1
    assert b"dqgate_field_missing_ratio{" not in generate_latest(registry)
