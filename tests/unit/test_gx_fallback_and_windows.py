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
    """A window limited by time closes on tick() once its time is up."""
    now = [0.0]
    suite = compile_suite(
        {"name": "t", "expectations": [ETH]},
        window=WindowConfig(window_records=None, window_seconds=5),
    )
    suite.windows._clock = lambda: now[0]
    suite.windows._opened_at = 0.0
    suite.evaluate_many([{"eth": "A"}])
    assert suite.windows.drain() == []
    now[0] = 6.0
    suite.windows.tick()
    assert [r.records for r in suite.windows.drain()] == [1]


class _RaisingBatch:
    """Stands in for GX's batch definition: ``validate`` raises with a record value inside."""

    def get_batch(self, batch_parameters: dict[str, Any]) -> _RaisingBatch:
        return self

    def validate(self, suite: Any, result_format: Any) -> Any:
        raise RuntimeError("'<' not supported for value SECRET-4711")


def test_engine_reports_every_expectation_as_errored_when_gx_raises() -> None:
    """GX raising out of validate() becomes an error result per expectation, values withheld."""
    from dqgate.suites.gx_engine import GxEngine

    engine = GxEngine()
    suite = engine.register(
        [
            ("a", {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}}),
            ("b", {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "x"}}),
        ]
    )
    engine._batch = _RaisingBatch()
    results = engine.validate(suite, [{"x": 1}], ["x"])
    assert sorted(r.key for r in results) == ["a", "b"]
    assert all(not r.success and r.error for r in results)
    assert all("RuntimeError" in str(r.error) and "SECRET" not in str(r.error) for r in results)
