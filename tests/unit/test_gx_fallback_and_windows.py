"""Expectations dqgate does not compile: GX fallback per batch, windows for aggregates."""

from __future__ import annotations

from typing import Any

import pytest

from dqgate import Outcome, compile_suite
from dqgate.suites import WindowConfig
from dqgate.suites.compiled import CompiledSuite

AGE_WHEN_OPEN = {  # a pandas pass-through condition: not compilable, GX evaluates it
    "type": "expect_column_values_to_be_between",
    "kwargs": {
        "column": "age",
        "min_value": 1,
        "max_value": 120,
        "row_condition": "status.str.lower() == 'open'",
        "condition_parser": "pandas",
    },
    "meta": {"id": "age_open"},
}
ID_UNIQUE = {
    "type": "expect_column_values_to_be_unique",
    "kwargs": {"column": "id"},
    "meta": {"id": "id_unique"},
}
AGE_MEAN = {
    "type": "expect_column_mean_to_be_between",
    "kwargs": {"column": "age", "min_value": 10, "max_value": 50},
    "meta": {"id": "mean"},
}
ETH = {
    "type": "expect_column_values_to_not_be_null",
    "kwargs": {"column": "eth", "mostly": 0.5},
    "meta": {"id": "eth"},
}


def _suite(*expectations: dict[str, Any], records: int = 4) -> CompiledSuite:
    return compile_suite(
        {"name": "mix", "expectations": list(expectations)},
        window=WindowConfig(window_records=records, window_seconds=None),
    )


@pytest.fixture(scope="module")
def fallback_suite() -> CompiledSuite:
    return _suite(AGE_WHEN_OPEN)


def test_modes_are_assigned(fallback_suite: CompiledSuite) -> None:
    """Pass-through conditions fall back to GX; aggregates go to windows."""
    suite = _suite(AGE_WHEN_OPEN, ID_UNIQUE, AGE_MEAN, ETH)
    assert {k: v.mode.value for k, v in suite.modes.items()} == {
        "age_open": "fallback",
        "id_unique": "window",
        "mean": "window",
        "eth": "compiled",
    }


def test_fallback_maps_unexpected_rows_back(fallback_suite: CompiledSuite) -> None:
    """GX's unexpected_index_list becomes failures on exactly those records."""
    records = [
        {"age": 30, "status": "OPEN"},
        {"age": 0, "status": "Open"},
        {"age": 0, "status": "closed"},
        {"age": 200, "status": "open"},
    ]
    outcomes = [v.outcome for v in fallback_suite.evaluate_many(records)]
    assert outcomes == [Outcome.PASS, Outcome.QUARANTINE, Outcome.PASS, Outcome.QUARANTINE]


def test_fallback_isolates_the_poisoning_record(fallback_suite: CompiledSuite) -> None:
    """A value that makes GX error for the whole batch errors only its own record."""
    records = (
        [{"age": 30, "status": "open"}] * 5
        + [{"age": "x", "status": "open"}]
        + [{"age": 0, "status": "open"}] * 2
    )
    verdicts = fallback_suite.evaluate_many(records)
    assert [v.outcome for v in verdicts] == [Outcome.PASS] * 5 + [Outcome.ERROR] + [
        Outcome.QUARANTINE
    ] * 2
    assert verdicts[5].failures[0].error


def test_single_evaluate_uses_the_fallback(fallback_suite: CompiledSuite) -> None:
    """evaluate() of one record runs the GX fallback too."""
    assert fallback_suite.evaluate(b'{"age": 0, "status": "OPEN"}').outcome is Outcome.QUARANTINE
    assert fallback_suite.evaluate(b"[1]").outcome is Outcome.QUARANTINE


def test_windows_report_aggregates_and_never_quarantine() -> None:
    """Window expectations close after N records with GX's success and observed value."""
    suite = _suite(ID_UNIQUE, AGE_MEAN, records=4)
    verdicts = suite.evaluate_many(
        [{"id": 1, "age": 20}, {"id": 2, "age": 30}, {"id": 2, "age": 40}, {"id": 3, "age": 100}]
    )
    assert all(v.outcome is Outcome.PASS for v in verdicts)
    results = {r.expectation_id: r for r in suite.windows.drain()}
    assert results["mean"].observed_value == pytest.approx(47.5)
    assert results["mean"].success is True
    assert results["id_unique"].success is False
    assert results["id_unique"].observed_value == pytest.approx(0.5)
    assert suite.windows.drain() == []


def test_mostly_ratio_uses_all_rows_for_not_null() -> None:
    """A not_null expectation with mostly < 1 gets a window ratio over all rows."""
    suite = _suite(ETH, records=4)
    suite.evaluate_many([{"eth": "A"}, {}, {"eth": None}, {"eth": "B"}, {"eth": "C"}])
    (result,) = suite.windows.drain()
    assert (result.observed_value, result.success, result.records) == (0.5, True, 4)


def test_mostly_ratio_skips_nulls_for_column_maps() -> None:
    """A column-map expectation's ratio has GX's non-null denominator."""
    regex = {
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "c", "regex": "^a", "mostly": 0.9},
        "meta": {"id": "re"},
    }
    suite = _suite(regex, records=4)
    suite.evaluate_many([{"c": "ab"}, {"c": None}, {}, {"c": "zz"}])
    (result,) = suite.windows.drain()
    assert result.observed_value == 0.5 and result.success is False


def test_time_window_closes_on_tick() -> None:
    """A window limited by time closes on tick() once its time is up (an injected clock)."""
    now = [0.0]
    suite = compile_suite({"name": "t", "expectations": [ETH]})
    windows = suite.new_window_aggregator(
        WindowConfig(window_records=None, window_seconds=5), clock=lambda: now[0]
    )
    assert windows is not None
    windows.add(suite.evaluate_batch([b'{"eth": "A"}']).window_input)
    now[0] = 4.9
    windows.tick()
    assert windows.drain() == []
    now[0] = 5.0
    windows.tick()
    assert [r.records for r in windows.drain()] == [1]


class _RaisingBatch:
    """Stands in for GX's batch definition: ``validate`` raises with a record value inside."""

    def get_batch(self, batch_parameters: dict[str, Any]) -> _RaisingBatch:
        return self

    def validate(self, suite: Any, result_format: Any) -> Any:
        raise RuntimeError("'<' not supported for value SECRET-4711")


def test_engine_reports_every_expectation_as_errored_when_gx_raises() -> None:
    """GX raising out of validate() becomes an error result per expectation, values withheld."""
    from dqgate.suites.gx_engine import GxEngine

    engine = GxEngine(batch_definition=_RaisingBatch())
    suite = engine.register(
        [
            ("a", {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}),
            ("b", {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}}),
        ]
    )
    results = engine.validate(suite, [{"x": 1}], ["x"])
    assert sorted(r.key for r in results) == ["a", "b"]
    assert all(not r.success and r.error for r in results)
    assert all("RuntimeError" in str(r.error) and "SECRET" not in str(r.error) for r in results)


# --- the batch API: evaluate_batch and the aggregator the gate owns ----------------------


def test_new_window_aggregator_is_none_without_anything_to_aggregate() -> None:
    """A suite of plain enforcing checks has no windows: the gate gets None."""
    suite = _suite({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}})
    assert suite.new_window_aggregator(WindowConfig()) is None
    assert suite.evaluate_batch([b'{"x": 1}']).window_input is None


def test_aggregator_closes_windows_at_the_exact_record_inside_a_batch() -> None:
    """A 3-record window over a batch of 7 objects (and 2 non-objects) closes twice, exactly."""
    suite = _suite(ETH)
    aggregator = suite.new_window_aggregator(WindowConfig(window_records=3, window_seconds=None))
    assert aggregator is not None and aggregator.active
    values = [b'{"eth": "A"}', b"[]", b"{}", b'{"eth": null}', b"x", b'{"eth": "B"}']
    values += [b'{"eth": "C"}', b"{}", b'{"eth": "D"}']
    batch = suite.evaluate_batch(values)
    assert batch.window_input is not None and batch.window_input.objects == 7
    aggregator.add(batch.window_input)
    ratios = [(r.observed_value, r.records) for r in aggregator.drain()]
    assert ratios == [(pytest.approx(1 / 3), 3), (pytest.approx(2 / 3), 3)]
    aggregator.flush()
    assert [(r.observed_value, r.records) for r in aggregator.drain()] == [(1.0, 1)]


def test_batch_feeds_fallback_and_gx_windows_only_the_columns_they_read() -> None:
    """The monitoring example: verdicts as in pure Python; GX windows get projected records."""
    suite = compile_suite("expectations/incident_reports_monitoring.json")
    pure = compile_suite("expectations/incident_reports_monitoring.json", native=False)
    values = [
        b'{"record_id": "R1", "incident_type": "traffic", "age": 30, "other": 1}',
        b'{"record_id": "R1", "incident_type": "THEFT", "district": "D01", "age": 50}',
        b'{"incident_type": "TRAFFIC"}',
        b"not json",
    ]
    batch = suite.evaluate_batch(values)
    assert batch == pure.evaluate_batch(values)
    assert batch.verdicts == pure.evaluate_many(values, windows=False)
    assert batch.verdicts[0].failures[0].expectation_id == "traffic_has_district"  # GX's verdict
    assert batch.decoded == 3
    assert batch.window_input is not None and batch.window_input.records is not None
    assert suite.columns == ("record_id", "district", "ethnicity", "age")
    assert [set(r) for r in batch.window_input.records] == [
        {"record_id", "age"},
        {"record_id", "district", "age"},
        set(),
    ]
    aggregator = suite.new_window_aggregator(WindowConfig(window_records=3, window_seconds=None))
    assert aggregator is not None
    aggregator.add(batch.window_input)
    results = {r.expectation_id: r for r in aggregator.drain()}
    assert results["record_id_unique"].success is False
    assert results["window_not_empty"].success is True


def test_evaluate_batch_gives_the_same_answer_from_many_threads() -> None:
    """Evaluating is a pure function of the input: threads at once agree with one thread."""
    from concurrent.futures import ThreadPoolExecutor

    from dqgate.demo.generator import generate

    suite = compile_suite("expectations/incident_reports.json")
    batches = [[r.value for r in generate(800, seed=seed, defect_rate=0.3)] for seed in range(8)]
    expected = [suite.evaluate_batch(b) for b in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(suite.evaluate_batch, batches * 3))
    assert found == expected * 3
