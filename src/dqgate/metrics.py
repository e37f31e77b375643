"""Every dqgate metric, defined once, on an injectable registry.

Labels come from configuration only (route name, suite, expectation id, column, reason,
policy, outcome, source partition), never from record values, so the number of series is
bounded by the routes and their suites. docs/metrics.md describes each metric and alert.

A batch is counted once, after its delivery: one pass over its verdicts and records, one
per referenced column. Ratios over the sliding window, the end-to-end latency histogram,
the consumer lag and the commit age are derived at scrape time by a collector.

==================================================== ===================================
``dqgate_records_total{route,outcome}``              records routed (pass|quarantine|error)
``dqgate_expectation_failures_total{route,suite,``   failures, enforced and observed
``expectation,column,reason,policy}``
``dqgate_quarantine_bytes_total{route}``             value bytes sent to quarantine
``dqgate_field_missing_ratio{route,column}``         sliding window: absent or null
``dqgate_expectation_unexpected_ratio{route,``       sliding window: records failing it
``expectation}``
``dqgate_quality_window_records{route}``             records in the sliding window
``dqgate_window_expectation_success{route,``         last closed tumbling window: 1 or 0
``expectation}``
``dqgate_window_observed_value{route,expectation}``  last closed tumbling window's value
``dqgate_expectation_mostly{route,expectation,``     the ``mostly`` of an expectation (< 1)
``type,column}``
``dqgate_validation_seconds{route}``                 histogram: decode + evaluate a batch
``dqgate_end_to_end_latency_seconds{route}``         histogram: routed minus record time
``dqgate_batch_records{route}``                      histogram: records per batch
``dqgate_consumer_lag_records{route,partition}``     highwater minus the gate's position
``dqgate_consumer_lag{route,partition}``             the same (deprecated: removed in 0.3)
``dqgate_last_commit_age_seconds``                   since the worker's last commit
``dqgate_last_commit_timestamp_seconds``             when (Unix time) it last committed
``dqgate_circuit_open{route}``                       1 while the circuit breaker is open
``dqgate_route_paused{route}``                       the same (deprecated: removed in 0.3)
``dqgate_circuit_breaker_trips_total{route}``        times the breaker paused the route
``dqgate_route_quarantine_ratio{route}``             quarantine ratio of the breaker window
``dqgate_log_lines_suppressed_total{logger}``       client log lines held by the rate limit
``dqgate_suite_info{route,suite,hash}``              1: the suite a route runs
``dqgate_build_info{version}``                       1: the dqgate version
==================================================== ===================================
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Final, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from dqgate import __version__
from dqgate.quality import BucketCounts, QualityWindow, column_label, count_missing
from dqgate.routing import Consumed
from dqgate.shape import SuiteShape
from dqgate.verdict import Column, Outcome, Stage, Verdict

__all__ = [
    "DEFAULT_WINDOW_RECORDS",
    "GateMetrics",
    "PartitionOffsets",
    "Progress",
    "column_label",
]

log = logging.getLogger(__name__)

DEFAULT_WINDOW_RECORDS: Final = 10_000
LATENCY_BUCKETS_S: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
)  # fmt: skip
VALIDATION_BUCKETS_S: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
BATCH_BUCKETS: Final = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)

_TIMESTAMP: Final = attrgetter("timestamp")
_PARTITION: Final = attrgetter("partition")
_OFFSET: Final = attrgetter("offset")

_NO_SUITE: Final = SuiteShape(name="", hash="")
"""A route declared without a suite: no columns, no expectations."""

PartitionOffsets = Callable[[], Iterable[tuple[str, int, int | None, int | None]]]
"""Returns ``(route, partition, highwater, committed offset)`` per assigned partition."""


class WindowOutcome(Protocol):
    """One expectation's result over a closed tumbling window (a suites.WindowResult)."""

    @property
    def expectation_id(self) -> str: ...

    @property
    def success(self) -> bool: ...

    @property
    def observed_value(self) -> float | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """What the worker has done lately (for /readyz)."""

    routed_next: Mapping[tuple[str, int], int]
    """(route, partition) -> the offset after the last routed record."""
    last_commit_age_s: float
    """Since the last successful commit (since the start when there was none)."""
    last_routed_age_s: Mapping[str, float]
    """route -> since its last routed batch (absent: never)."""
    started_age_s: float
    """Since the worker started."""


class GateMetrics:
    """The gate's metrics on one registry (a fresh ``CollectorRegistry()`` in tests).

    ``window_records`` sizes the sliding window behind the ratio gauges; ``clock_s`` is
    the wall clock the end-to-end latency is measured with, ``monotonic_s`` the clock of
    the ages (last commit, last routed record).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        window_records: int = DEFAULT_WINDOW_RECORDS,
        clock_s: Callable[[], float] = time.time,
        monotonic_s: Callable[[], float] = time.monotonic,
        created_series: bool = True,
    ) -> None:
        if window_records < 1:
            raise ValueError(f"window_records must be at least 1, got {window_records}")
        if not created_series:
            # prometheus_client's switch is process-wide: the worker has one registry
            disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = r = registry if registry is not None else CollectorRegistry()
        self.window_records = window_records
        self._clock_s = clock_s
        self._monotonic_s = monotonic_s
        route = ["route"]
        self.records_total = Counter(
            "dqgate_records_total",
            "Records routed, by route and outcome (pass, quarantine, error).",
            ["route", "outcome"],
            registry=r,
        )
        self.expectation_failures_total = Counter(
            "dqgate_expectation_failures_total",
            "Expectation failures, enforced and observed (a record can fail several).",
            ["route", "suite", "expectation", "column", "reason", "policy"],
            registry=r,
        )
        self.quarantine_bytes_total = Counter(
            "dqgate_quarantine_bytes_total",
            "Bytes of record values sent to the quarantine topic.",
            route,
            registry=r,
        )
        self.window_expectation_success = Gauge(
            "dqgate_window_expectation_success",
            "1 if the expectation held over the last closed tumbling window, else 0.",
            ["route", "expectation"],
            registry=r,
        )
        self.window_observed_value = Gauge(
            "dqgate_window_observed_value",
            "The expectation's observed value over the last closed tumbling window (for "
            "mostly expectations the share of expected values); NaN if there is none.",
            ["route", "expectation"],
            registry=r,
        )
        self.expectation_mostly = Gauge(
            "dqgate_expectation_mostly",
            "The mostly (< 1) of an expectation: the share of records that must meet it.",
            ["route", "expectation", "type", "column"],
            registry=r,
        )
        self.validation_seconds = Histogram(
            "dqgate_validation_seconds",
            "Seconds to decode and evaluate one batch.",
            route,
            buckets=VALIDATION_BUCKETS_S,
            registry=r,
        )
        self.batch_records = Histogram(
            "dqgate_batch_records", "Records per batch.", route, buckets=BATCH_BUCKETS, registry=r
        )
        self.circuit_open = Gauge(
            "dqgate_circuit_open",
            "1 while the route's circuit breaker is open (route paused), else 0.",
            route,
            registry=r,
        )
        self.route_paused = Gauge(
            "dqgate_route_paused",
            "Deprecated (removed in dqgate 0.3): the same value as dqgate_circuit_open.",
            route,
            registry=r,
        )
        self.circuit_breaker_trips_total = Counter(
            "dqgate_circuit_breaker_trips_total",
            "Times the circuit breaker paused the route.",
            route,
            registry=r,
        )
        self.route_quarantine_ratio = Gauge(
            "dqgate_route_quarantine_ratio",
            "Quarantine ratio over the circuit breaker's window of recent records.",
            route,
            registry=r,
        )
        self.suite_info = Gauge(
            "dqgate_suite_info",
            "1 for the suite each route runs, with the sha256 of its file.",
            ["route", "suite", "hash"],
            registry=r,
        )
        self.log_lines_suppressed_total = Counter(
            "dqgate_log_lines_suppressed_total",
            "Repeated Kafka client log lines held back by the rate limit (one line per cause "
            "per interval gets through, then a count).",
            ["logger"],
            registry=r,
        )
        build = Gauge("dqgate_build_info", "1; the dqgate version.", ["version"], registry=r)
        build.labels(version=__version__).set(1)
        self._lock = threading.Lock()
        self._windows: dict[str, QualityWindow] = {}
        self._latency: dict[str, BucketCounts] = {}
        self._routed_next: dict[tuple[str, int], int] = {}
        self._partitions: PartitionOffsets | None = None
        self._last_commit_s = self._monotonic_s()
        self._last_commit_unix_s: float | None = None
        self._started_s = self._last_commit_s
        self._last_routed_s: dict[str, float] = {}
        r.register(_ScrapeCollector(self))

    def declare_route(self, route: str, shape: SuiteShape | None = None) -> None:
        """Export the route's series at zero before its first record.

        ``shape`` (what the route's suite says about itself: ``suite.shape()``) adds the
        suite's info, its columns, expectations and ``mostly`` values.
        """
        described = shape if shape is not None else _NO_SUITE
        for outcome in Outcome:
            self.records_total.labels(route=route, outcome=str(outcome))
        for metric in (self.quarantine_bytes_total, self.circuit_breaker_trips_total):
            metric.labels(route=route)
        self.validation_seconds.labels(route=route)
        self.batch_records.labels(route=route)
        self.set_circuit_open(route, False)
        if shape is not None:
            self.suite_info.labels(route=route, suite=shape.name, hash=shape.hash).set(1)
        for f in described.failures:
            self._failures(route, f.suite, f.expectation_id, f.column, f.reason, f.policy)
        for m in described.mostly:
            self.expectation_mostly.labels(
                route=route,
                expectation=m.expectation_id,
                type=m.type,
                column=column_label(m.column),
            ).set(m.mostly)
        with self._lock:
            self._windows[route] = QualityWindow(described, self.window_records)
            self._latency[route] = BucketCounts(LATENCY_BUCKETS_S)

    def watch_partitions(self, source: PartitionOffsets) -> None:
        """Read highwaters and committed offsets from ``source`` at scrape time (the lag)."""
        self._partitions = source

    def set_circuit_open(self, route: str, is_open: bool) -> None:
        """The route's circuit breaker opened (route paused) or closed (resumed)."""
        value = 1.0 if is_open else 0.0
        self.circuit_open.labels(route=route).set(value)
        self.route_paused.labels(route=route).set(value)

    def record_commit(self) -> None:
        """The worker committed source offsets just now."""
        self._last_commit_s = self._monotonic_s()
        self._last_commit_unix_s = self._clock_s()

    def progress(self) -> Progress:
        """Routed positions and how long ago the worker committed and routed (for /readyz)."""
        now = self._monotonic_s()
        with self._lock:
            return Progress(
                routed_next=dict(self._routed_next),
                last_commit_age_s=now - self._last_commit_s,
                last_routed_age_s={r: now - t for r, t in self._last_routed_s.items()},
                started_age_s=now - self._started_s,
            )

    def observe(
        self,
        route: str,
        verdicts: Sequence[Verdict],
        records: Sequence[Consumed] | None = None,
        *,
        decoded: Sequence[Mapping[str, Any]] | None = None,
        validation_s: float | None = None,
    ) -> None:
        """Count one delivered batch: verdicts, their source records, the decoded records.

        The convenience form of :meth:`observe_batch` (which the engines call with counts).
        """
        shape_columns = self._columns(route)
        found = decoded or ()
        self.observe_batch(
            route,
            verdicts,
            decoded=len(found),
            missing=[count_missing(found, c) for c in shape_columns],
            validation_s=validation_s,
        )
        if records:
            quarantined_bytes = sum(
                len(r.value)
                for r, v in zip(records, verdicts, strict=True)
                if v.outcome is not Outcome.PASS and r.value is not None
            )
            next_offsets = dict(
                zip(map(_PARTITION, records), (r.offset + 1 for r in records), strict=True)
            )
            self.observe_delivery(
                route,
                next_offsets=next_offsets,
                timestamps_ms=[t for t in map(_TIMESTAMP, records) if t is not None],
                quarantined_bytes=quarantined_bytes,
            )

    def observe_batch(
        self,
        route: str,
        verdicts: Sequence[Verdict],
        *,
        decoded: int,
        missing: Sequence[int] = (),
        validation_s: float | None = None,
    ) -> None:
        """Count one delivered batch's verdicts and quality: ``decoded`` records decoded to
        objects, ``missing`` per column of the route's suite (its ``columns`` order)."""
        # Suites share one Verdict per distinct outcome and their Failures are prebuilt:
        # count verdicts by identity (C speed), then fold each distinct one in once.
        distinct = dict(zip(map(id, verdicts), verdicts, strict=True))
        outcomes: dict[Outcome, int] = {}
        tally: dict[int, list[Any]] = {}
        decode_ids: set[str] = set()
        for ident, n in Tally(map(id, verdicts)).items():
            verdict = distinct[ident]
            outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + n
            found = verdict.failures
            if not found:
                continue
            if verdict.stage is Stage.DECODE:
                decode_ids.update(f.expectation_id for f in found)
            for f in found:
                entry = tally.get(id(f))
                if entry is None:
                    tally[id(f)] = [f, n]
                else:
                    entry[1] += n
        failures: dict[tuple[Any, ...], int] = {}
        failed: dict[str, int] = {}
        for f, n in tally.values():
            key = (f.suite, f.expectation_id, f.column, f.reason, f.policy)
            failures[key] = failures.get(key, 0) + n
            failed[f.expectation_id] = failed.get(f.expectation_id, 0) + n
        for outcome, n in outcomes.items():
            self.records_total.labels(route=route, outcome=str(outcome)).inc(n)
        for key, n in failures.items():
            self._failures(route, *key).inc(n)
        self.batch_records.labels(route=route).observe(len(verdicts))
        if validation_s is not None:
            self.validation_seconds.labels(route=route).observe(validation_s)
        with self._lock:
            self._last_routed_s[route] = self._monotonic_s()
            window = self._windows.get(route)
            if window is None:
                window = QualityWindow(_NO_SUITE, self.window_records)
                self._windows[route] = window
            window.add_counts(len(verdicts), decoded, missing, failed, decode_ids)

    def observe_delivery(
        self,
        route: str,
        *,
        next_offsets: Mapping[int, int],
        timestamps_ms: Iterable[int],
        quarantined_bytes: int = 0,
    ) -> None:
        """A batch's outputs were acknowledged: the routed positions (partition -> offset
        after its last record), the records' timestamps (end-to-end latency) and the
        value bytes sent to quarantine."""
        now_ms = self._clock_s() * 1000.0
        latencies_s = [(now_ms - stamp) / 1000.0 for stamp in timestamps_ms if stamp >= 0]
        if quarantined_bytes:
            self.quarantine_bytes_total.labels(route=route).inc(quarantined_bytes)
        with self._lock:
            for partition, offset in next_offsets.items():
                key = (route, partition)
                self._routed_next[key] = max(self._routed_next.get(key, 0), offset)
            if latencies_s:
                counts = self._latency.get(route)
                if counts is None:
                    counts = self._latency[route] = BucketCounts(LATENCY_BUCKETS_S)
                counts.add(latencies_s)

    def _columns(self, route: str) -> tuple[str, ...]:
        with self._lock:
            window = self._windows.get(route)
            return window.columns if window is not None else ()

    def observe_windows(self, route: str, results: Iterable[WindowOutcome]) -> None:
        """Export closed tumbling windows' results (the latest one per expectation wins)."""
        for result in results:
            labels = {"route": route, "expectation": result.expectation_id}
            self.window_expectation_success.labels(**labels).set(1.0 if result.success else 0.0)
            observed = result.observed_value
            value = math.nan if observed is None else float(observed)
            self.window_observed_value.labels(**labels).set(value)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)

    def _failures(
        self, route: str, suite: str, expectation: str, column: Column, reason: Any, policy: Any
    ) -> Any:
        return self.expectation_failures_total.labels(
            route=route,
            suite=suite,
            expectation=expectation,
            column=column_label(column),
            reason=str(reason),
            policy=str(policy),
        )

    def collect(self) -> Iterator[Metric]:
        """The scrape-time families (called by the registry through its collector)."""
        missing = GaugeMetricFamily(
            "dqgate_field_missing_ratio",
            "Share of the sliding window's decoded records without the column (absent or "
            "null), for every column the route's suite references.",
            labels=["route", "column"],
        )
        unexpected = GaugeMetricFamily(
            "dqgate_expectation_unexpected_ratio",
            "Share of the sliding window's records that failed the expectation (decoded "
            "records; all records for decode-stage failures).",
            labels=["route", "expectation"],
        )
        size = GaugeMetricFamily(
            "dqgate_quality_window_records",
            "Records in the sliding window behind the ratio gauges.",
            labels=["route"],
        )
        latency = HistogramMetricFamily(
            "dqgate_end_to_end_latency_seconds",
            "Seconds from the record's Kafka timestamp until its output was acknowledged.",
            labels=["route"],
        )
        with self._lock:
            for route, window in self._windows.items():
                size.add_metric([route], float(window.records))
                for column, ratio in window.missing_ratios():
                    missing.add_metric([route, column], ratio)
                for expectation, ratio in window.unexpected_ratios():
                    unexpected.add_metric([route, expectation], ratio)
            for route, counts in self._latency.items():
                latency.add_metric([route], counts.cumulative(), counts.total)
            routed_next = dict(self._routed_next)
        yield from (missing, unexpected, size, latency)
        yield from self._lag(routed_next)
        age = GaugeMetricFamily(
            "dqgate_last_commit_age_seconds",
            "Seconds since this worker last committed source offsets (since its start if "
            "it never did).",
        )
        age.add_metric([], max(0.0, self._monotonic_s() - self._last_commit_s))
        yield age
        when = GaugeMetricFamily(
            "dqgate_last_commit_timestamp_seconds",
            "When this worker last committed source offsets (Unix time; absent before its "
            "first commit).",
        )
        if self._last_commit_unix_s is not None:
            when.add_metric([], self._last_commit_unix_s)
        yield when

    def _lag(self, routed_next: Mapping[tuple[str, int], int]) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "dqgate_consumer_lag_records",
            "Records of the source partition after the gate's position: the highwater "
            "minus the later of the committed and the last routed offset (refreshed while "
            "the route is paused too).",
            labels=["route", "partition"],
        )
        old = GaugeMetricFamily(
            "dqgate_consumer_lag",
            "Deprecated (removed in dqgate 0.3): the same value as dqgate_consumer_lag_records.",
            labels=["route", "partition"],
        )
        for route, partition, lagging in self._lags(routed_next):
            lag.add_metric([route, str(partition)], lagging)
            old.add_metric([route, str(partition)], lagging)
        yield lag
        yield old

    def _lags(self, routed_next: Mapping[tuple[str, int], int]) -> list[tuple[str, int, float]]:
        if self._partitions is None:
            return []
        try:
            partitions = list(self._partitions())
        except Exception as exc:  # noqa: BLE001 - a scrape never fails over the lag
            log.debug("consumer lag unavailable: %s", type(exc).__name__)
            return []
        lags = []
        for route, partition, highwater, committed in partitions:
            if highwater is None:
                continue
            position = max(committed or 0, routed_next.get((route, partition), 0))
            lags.append((route, partition, float(max(0, highwater - position))))
        return lags


_SCRAPED: Final = (
    ("dqgate_field_missing_ratio", GaugeMetricFamily),
    ("dqgate_expectation_unexpected_ratio", GaugeMetricFamily),
    ("dqgate_quality_window_records", GaugeMetricFamily),
    ("dqgate_end_to_end_latency_seconds", HistogramMetricFamily),
    ("dqgate_consumer_lag_records", GaugeMetricFamily),
    ("dqgate_consumer_lag", GaugeMetricFamily),
    ("dqgate_last_commit_age_seconds", GaugeMetricFamily),
    ("dqgate_last_commit_timestamp_seconds", GaugeMetricFamily),
)


class _ScrapeCollector:
    """Registers GateMetrics' scrape-time families with the registry."""

    def __init__(self, metrics: GateMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.collect()

    def describe(self) -> Iterator[Metric]:
        for name, family in _SCRAPED:
            yield family(name, "")
