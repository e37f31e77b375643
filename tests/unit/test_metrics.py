"""GateMetrics: counters, sliding-window ratios, latency, lag and commit age (no broker)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from dqgate.demo.generator import generate
from dqgate.metrics import GateMetrics
from dqgate.routing import SourceRecord
from dqgate.suites import CompiledSuite, WindowResult, compile_suite
from dqgate.verdict import Outcome, Verdict

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
NOW_S = 1_800_000_000.0


@pytest.fixture(scope="module")
def suite() -> CompiledSuite:
    """The mission-story suite, compiled once for the module."""
    return compile_suite(SUITE_PATH)


@pytest.fixture
def registry() -> CollectorRegistry:
    """A fresh registry per test."""
    return CollectorRegistry()


def source(values: list[bytes], *, partition: int = 0, first_offset: int = 0) -> list[SourceRecord]:
    """Source records on in[partition] with consecutive offsets, stamped 0.5 s before NOW_S."""
    return [
        SourceRecord(
            topic="in", partition=partition, offset=first_offset + i,
            timestamp=int((NOW_S - 0.5) * 1000), key=None, value=v, headers=(),
        )
        for i, v in enumerate(values)
    ]  # fmt: skip


def feed(
    metrics: GateMetrics, suite: CompiledSuite, values: list[bytes], *, batch: int = 500
) -> list[Verdict]:
    """Decode, evaluate and observe ``values`` in batches, as the gate's processor does."""
    verdicts: list[Verdict] = []
    for start in range(0, len(values), batch):
        chunk = values[start : start + batch]
        decoded = [d for d in map(suite.decode, chunk) if not isinstance(d, Verdict)]
        found = suite.evaluate_many(chunk)
        metrics.observe("incidents", found, source(chunk, first_offset=start), decoded=decoded)
        verdicts += found
    return verdicts


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One sample's value (None when the series does not exist)."""
    return registry.get_sample_value(name, labels)


def samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample of a /metrics text."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


def test_outcomes_and_failures_are_counted_with_configured_labels(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """records_total per outcome and failures_total per expectation match the verdicts."""
    metrics = GateMetrics(registry)
    metrics.declare_route("incidents", suite.shape())
    verdicts = feed(metrics, suite, [r.value for r in generate(2_000, seed=3)])
    for outcome in Outcome:
        expected = sum(v.outcome is outcome for v in verdicts)
        assert value(registry, "dqgate_records_total", route="incidents", outcome=outcome) == (
            expected
        )
    in_set = sum(
        f.expectation_id == "ethnicity_canonical_code" for v in verdicts for f in v.failures
    )
    assert in_set > 0
    labels = {
        "route": "incidents", "suite": "incident_reports",
        "expectation": "ethnicity_canonical_code", "column": "ethnicity", "reason": "not_in_set",
        "policy": "enforce",
    }  # fmt: skip
    assert value(registry, "dqgate_expectation_failures_total", **labels) == in_set


def test_declared_route_exports_its_series_before_the_first_record(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """declare_route: zero counters, suite info with the hash, mostly, a closed circuit."""
    GateMetrics(registry).declare_route("incidents", suite.shape())
    assert value(registry, "dqgate_records_total", route="incidents", outcome="error") == 0
    labels = {
        "route": "incidents", "suite": "incident_reports", "expectation": "age_in_range",
        "column": "age", "reason": "out_of_range", "policy": "enforce",
    }  # fmt: skip
    assert value(registry, "dqgate_expectation_failures_total", **labels) == 0
    info = {"route": "incidents", "suite": "incident_reports", "hash": suite.hash}
    assert value(registry, "dqgate_suite_info", **info) == 1
    mostly = {
        "route": "incidents", "expectation": "ethnicity_completeness",
        "type": "expect_column_values_to_not_be_null", "column": "ethnicity",
    }  # fmt: skip
    assert value(registry, "dqgate_expectation_mostly", **mostly) == 0.2
    assert value(registry, "dqgate_circuit_open", route="incidents") == 0


def test_field_missing_ratio_is_the_share_of_decoded_records_without_the_column(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """The ethnicity ratio equals the generator's count of records without ethnicity."""
    records = list(generate(5_000, seed=11))
    metrics = GateMetrics(registry, window_records=10_000)
    metrics.declare_route("incidents", suite.shape())
    feed(metrics, suite, [r.value for r in records])
    objects = sum(not isinstance(suite.decode(r.value), Verdict) for r in records)
    missing = sum(r.missing_ethnicity for r in records)
    ratio = value(registry, "dqgate_field_missing_ratio", route="incidents", column="ethnicity")
    assert ratio == pytest.approx(missing / objects)
    assert 0.72 < missing / objects < 0.80
    assert value(registry, "dqgate_quality_window_records", route="incidents") == len(records)


def test_every_referenced_column_has_a_missing_ratio(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """One dqgate_field_missing_ratio series per column the suite references."""
    metrics = GateMetrics(registry)
    metrics.declare_route("incidents", suite.shape())
    feed(metrics, suite, [b'{"record_id": "R0000001"}'])
    columns = {
        labels["column"]
        for name, labels, _ in samples(metrics.render().decode())
        if name == "dqgate_field_missing_ratio"
    }
    assert columns == set(suite.columns)
    assert value(registry, "dqgate_field_missing_ratio", route="incidents", column="age") == 1.0
    assert (
        value(registry, "dqgate_field_missing_ratio", route="incidents", column="record_id") == 0.0
    )


def test_window_keeps_the_last_records_in_whole_batches(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """Old batches leave the window: a first batch without ethnicity stops counting."""
    metrics = GateMetrics(registry, window_records=1_000)
    metrics.declare_route("incidents", suite.shape())
    feed(metrics, suite, [b'{"age": 30}'] * 600, batch=600)
    assert value(registry, "dqgate_field_missing_ratio", route="incidents", column="ethnicity") == 1
    feed(metrics, suite, [b'{"ethnicity": "ASIAN"}'] * 1_200, batch=600)
    assert value(registry, "dqgate_quality_window_records", route="incidents") == 1_200
    assert value(registry, "dqgate_field_missing_ratio", route="incidents", column="ethnicity") == 0


def test_unexpected_ratio_counts_decode_failures_over_all_records(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """dqgate.decode is over all records; a field expectation over decoded records only."""
    metrics = GateMetrics(registry)
    metrics.declare_route("incidents", suite.shape())
    feed(metrics, suite, [b"\xff", b'{"age": 0}', b'{"age": 30}', b"[1]"])
    ratio = "dqgate_expectation_unexpected_ratio"
    assert value(registry, ratio, route="incidents", expectation="dqgate.decode") == 0.5
    assert value(registry, ratio, route="incidents", expectation="age_in_range") == 0.5
    assert value(registry, ratio, route="incidents", expectation="district_code") == 0.0


def test_quarantine_bytes_count_the_values_of_quarantined_records(
    suite: CompiledSuite, registry: CollectorRegistry
) -> None:
    """Only quarantined values add their length to dqgate_quarantine_bytes_total."""
    metrics = GateMetrics(registry)
    metrics.declare_route("incidents", suite.shape())
    good = next(r.value for r in generate(50, seed=1, defect_rate=0.0))
    feed(metrics, suite, [good, b"not json at all", good])
    assert value(registry, "dqgate_quarantine_bytes_total", route="incidents") == 15


def test_end_to_end_latency_is_now_minus_the_record_timestamp(
    registry: CollectorRegistry,
) -> None:
    """Latency per record into histogram buckets; records without a timestamp are skipped."""
    metrics = GateMetrics(registry, clock_s=lambda: NOW_S)
    metrics.declare_route("r")
    stamps = [NOW_S - 0.2, NOW_S - 0.2, NOW_S - 20.0, None]
    records = [
        SourceRecord(
            topic="in", partition=0, offset=i, key=None, value=b"{}", headers=(),
            timestamp=None if s is None else int(s * 1000),
        )
        for i, s in enumerate(stamps)
    ]  # fmt: skip
    metrics.observe("r", [Verdict(outcome=Outcome.PASS)] * 4, records)
    bucket = "dqgate_end_to_end_latency_seconds_bucket"
    assert value(registry, bucket, route="r", le="0.1") == 0
    assert value(registry, bucket, route="r", le="0.25") == 2
    assert value(registry, bucket, route="r", le="30.0") == 3
    assert value(registry, "dqgate_end_to_end_latency_seconds_count", route="r") == 3
    total = value(registry, "dqgate_end_to_end_latency_seconds_sum", route="r")
    assert total == pytest.approx(20.4)


def test_batch_size_and_validation_time_are_histograms_per_batch(
    registry: CollectorRegistry,
) -> None:
    """One batch: one observation of its size and of its validation seconds."""
    metrics = GateMetrics(registry)
    metrics.observe("r", [Verdict(outcome=Outcome.PASS)] * 40, validation_s=0.003)
    assert value(registry, "dqgate_batch_records_count", route="r") == 1
    assert value(registry, "dqgate_batch_records_bucket", route="r", le="50.0") == 1
    assert value(registry, "dqgate_batch_records_bucket", route="r", le="10.0") == 0
    assert value(registry, "dqgate_validation_seconds_bucket", route="r", le="0.005") == 1


def test_consumer_lag_counts_from_the_later_of_committed_and_routed_offsets(
    registry: CollectorRegistry,
) -> None:
    """Lag = highwater - max(committed, last routed + 1); unknown highwater: no series."""
    metrics = GateMetrics(registry)
    metrics.watch_partitions(
        lambda: [("r", 0, 100, 40), ("r", 1, 100, 90), ("r", 2, None, 5), ("r", 3, 7, None)]
    )
    values = [b"{}"] * 20
    verdicts = [Verdict(outcome=Outcome.PASS)] * 20
    metrics.observe("r", verdicts, source(values, partition=0, first_offset=40))
    metrics.observe("r", verdicts, source(values, partition=1, first_offset=40))
    lag = "dqgate_consumer_lag_records"
    assert value(registry, lag, route="r", partition="0") == 40
    assert value(registry, lag, route="r", partition="1") == 10
    assert value(registry, lag, route="r", partition="2") is None
    assert value(registry, lag, route="r", partition="3") == 7


def test_the_deprecated_lag_and_paused_names_carry_the_same_values(
    registry: CollectorRegistry,
) -> None:
    """One release with both names: the old ones equal the new ones and say they go."""
    metrics = GateMetrics(registry)
    metrics.watch_partitions(lambda: [("r", 0, 100, 40), ("r", 1, 10, 10)])
    metrics.declare_route("r")
    metrics.set_circuit_open("r", True)
    for partition in ("0", "1"):
        new = value(registry, "dqgate_consumer_lag_records", route="r", partition=partition)
        assert new == value(registry, "dqgate_consumer_lag", route="r", partition=partition)
    assert value(registry, "dqgate_route_paused", route="r") == 1
    assert value(registry, "dqgate_circuit_open", route="r") == 1
    text = metrics.render().decode()
    assert "# HELP dqgate_consumer_lag Deprecated" in text
    assert "# HELP dqgate_route_paused Deprecated" in text


def test_last_commit_timestamp_appears_with_the_first_commit(registry: CollectorRegistry) -> None:
    """Absent before any commit; then the commit's wall-clock time (the injected clock)."""
    metrics = GateMetrics(registry, clock_s=lambda: 1_700_000_123.5)
    assert value(registry, "dqgate_last_commit_timestamp_seconds") is None
    metrics.record_commit()
    assert value(registry, "dqgate_last_commit_timestamp_seconds") == 1_700_000_123.5


def test_created_series_can_be_turned_off() -> None:
    """metrics_created_series: false leaves every *_created series out of /metrics."""
    import prometheus_client

    def rendered(**kw: bool) -> str:
        metrics = GateMetrics(CollectorRegistry(), **kw)
        metrics.declare_route("r")
        return metrics.render().decode()

    try:
        assert "dqgate_records_created{" in rendered()
        text = rendered(created_series=False)
        assert "dqgate_records_total{" in text and "_created" not in text
    finally:
        prometheus_client.enable_created_metrics()  # type: ignore[no-untyped-call]


def test_a_failing_partition_source_only_drops_the_lag(registry: CollectorRegistry) -> None:
    """A consumer that cannot answer leaves the lag out; the scrape still works."""
    metrics = GateMetrics(registry)

    def broken() -> list[tuple[str, int, int | None, int | None]]:
        raise RuntimeError("consumer restarting")

    metrics.watch_partitions(broken)
    text = metrics.render().decode()
    assert "dqgate_last_commit_age_seconds " in text
    assert "dqgate_consumer_lag{" not in text


def test_a_commit_resets_the_last_commit_age(registry: CollectorRegistry) -> None:
    """dqgate_last_commit_age_seconds counts from the start, then from the last commit."""
    now = [100.0]
    metrics = GateMetrics(registry, monotonic_s=lambda: now[0])
    now[0] += 7.5
    before = value(registry, "dqgate_last_commit_age_seconds")
    metrics.record_commit()
    now[0] += 0.25
    after = value(registry, "dqgate_last_commit_age_seconds")
    assert (before, after) == (7.5, 0.25)


def test_closed_windows_export_success_and_observed_value(registry: CollectorRegistry) -> None:
    """The latest window result per expectation; no observed value is NaN."""
    metrics = GateMetrics(registry)
    results = [
        WindowResult(expectation_id=key, type="t", success=ok, observed_value=seen, records=9)
        for key, ok, seen in (("e", True, 0.3), ("e", False, 0.1), ("n", True, None))
    ]
    metrics.observe_windows("r", results)
    assert value(registry, "dqgate_window_expectation_success", route="r", expectation="e") == 0
    assert value(registry, "dqgate_window_observed_value", route="r", expectation="e") == 0.1
    observed = value(registry, "dqgate_window_observed_value", route="r", expectation="n")
    assert observed is not None and math.isnan(observed)


def test_circuit_state_is_exported_under_both_names(registry: CollectorRegistry) -> None:
    """set_circuit_open drives dqgate_circuit_open and dqgate_route_paused together."""
    metrics = GateMetrics(registry)
    metrics.set_circuit_open("r", True)
    assert value(registry, "dqgate_circuit_open", route="r") == 1
    assert value(registry, "dqgate_route_paused", route="r") == 1
    metrics.set_circuit_open("r", False)
    assert value(registry, "dqgate_circuit_open", route="r") == 0


def test_build_info_names_the_installed_version(registry: CollectorRegistry) -> None:
    """dqgate_build_info{version} is 1 for the package's version."""
    from importlib.metadata import version

    GateMetrics(registry)
    assert value(registry, "dqgate_build_info", version=version("dqgate")) == 1


def test_window_size_must_be_positive() -> None:
    """A window of no records is refused."""
    with pytest.raises(ValueError, match="window_records"):
        GateMetrics(CollectorRegistry(), window_records=0)


def test_window_size_comes_from_the_configuration() -> None:
    """metrics_window_records is read from gate.yaml and DQGATE_METRICS_WINDOW_RECORDS."""
    from dqgate.config import build_config
    from dqgate.errors import ConfigError

    raw = {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "routes": [{"source": "a", "suite": str(SUITE_PATH), "clean": "b", "quarantine": "c"}],
    }
    assert build_config(raw, environ={}).metrics_window_records == 10_000
    assert (
        build_config({**raw, "metrics_window_records": 500}, environ={}).metrics_window_records
        == 500
    )
    env = {"DQGATE_METRICS_WINDOW_RECORDS": "2500"}
    assert build_config(raw, environ=env).metrics_window_records == 2_500
    with pytest.raises(ConfigError, match="metrics_window_records"):
        build_config({**raw, "metrics_window_records": 0}, environ={})
