"""Suite loading: what GX would drop is refused at load, naming file, expectation and fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dqgate import SuiteError, UnsupportedExpectationError, compile_suite, load_suite


def _write(tmp_path: Path, suite: dict[str, Any]) -> Path:
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite))
    return path


def _suite(*expectations: dict[str, Any]) -> dict[str, Any]:
    return {"name": "people", "expectations": list(expectations)}


NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}


def test_valid_suite_loads_every_expectation(tmp_path: Path) -> None:
    """A valid suite keeps all its expectations and gets a sha256 hash of the file."""
    path = _write(
        tmp_path, _suite(NOT_NULL, {"type": "expect_column_to_exist", "kwargs": {"column": "id"}})
    )
    loaded = load_suite(path)
    assert len(loaded.expectations) == 2
    assert len(loaded.hash) == 64
    assert [e.expectation_id for e in loaded.expectations] == ["0", "1"]


def test_unknown_type_is_refused_with_suggestion(tmp_path: Path) -> None:
    """An unknown type (which GX would silently drop) names file, index, type and a fix."""
    bad = {"type": "expect_column_values_to_not_be_nul", "kwargs": {"column": "id"}}
    path = _write(tmp_path, _suite(NOT_NULL, bad))
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    text = str(info.value)
    assert str(path) in text
    assert "expectation #1" in text
    assert "expect_column_values_to_not_be_nul" in text
    assert "did you mean 'expect_column_values_to_not_be_null'" in text


def test_misspelled_kwarg_is_refused(tmp_path: Path) -> None:
    """A misspelled kwarg names the kwarg and the closest valid one."""
    bad = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "age", "min": 0, "max_value": 10},
    }
    with pytest.raises(SuiteError) as info:
        load_suite(_write(tmp_path, _suite(bad)))
    assert "unknown kwarg 'min'" in str(info.value)
    assert "min_value" in str(info.value)
    assert "expectation #0" in str(info.value)


def test_bad_severity_is_refused(tmp_path: Path) -> None:
    """An invalid severity (silently dropped by GX) is refused with the valid values."""
    bad = dict(NOT_NULL, severity="fatal")
    with pytest.raises(SuiteError) as info:
        load_suite(_write(tmp_path, _suite(bad)))
    assert "severity 'fatal'" in str(info.value)
    assert "critical, warning, info" in str(info.value)


def test_gx0_suite_key_is_refused(tmp_path: Path) -> None:
    """A GX 0.x suite (expectation_suite_name) is refused with the 1.x key to use."""
    suite = {"expectation_suite_name": "people", "expectations": []}
    with pytest.raises(SuiteError) as info:
        load_suite(_write(tmp_path, suite))
    assert "'expectation_suite_name' is a Great Expectations 0.x key" in str(info.value)
    assert "rename it to 'name'" in str(info.value)


def test_gx0_expectation_key_is_refused(tmp_path: Path) -> None:
    """A GX 0.x expectation (expectation_type) is refused with the 1.x key to use."""
    bad = {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}
    with pytest.raises(SuiteError) as info:
        load_suite(_write(tmp_path, _suite(bad)))
    assert "rename it to 'type'" in str(info.value)


def test_pydantic_rejection_names_the_expectation(tmp_path: Path) -> None:
    """A value GX's model rejects (mostly > 1) is reported with the expectation's index."""
    bad = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id", "mostly": 2}}
    with pytest.raises(SuiteError) as info:
        load_suite(_write(tmp_path, _suite(NOT_NULL, bad)))
    assert "expectation #1" in str(info.value)


def test_unsupported_type_is_refused_at_compile(tmp_path: Path) -> None:
    """A real GX type that cannot run on a stream (SQL LIKE) is refused with the reason."""
    like = {
        "type": "expect_column_values_to_match_like_pattern",
        "kwargs": {"column": "name", "like_pattern": "A%"},
    }
    with pytest.raises(UnsupportedExpectationError) as info:
        compile_suite(_write(tmp_path, _suite(NOT_NULL, like)))
    assert "cannot evaluate this in a stream" in str(info.value)
    assert "SQL LIKE" in str(info.value)
    assert "expectation #1 (expect_column_values_to_match_like_pattern)" in str(info.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    """Two expectations with the same meta.id are refused (ids label metrics and headers)."""
    a = dict(NOT_NULL, meta={"id": "x"})
    b = {"type": "expect_column_to_exist", "kwargs": {"column": "id"}, "meta": {"id": "x"}}
    with pytest.raises(SuiteError, match="already used"):
        load_suite(_write(tmp_path, _suite(a, b)))


def test_inverted_bounds_are_refused(tmp_path: Path) -> None:
    """min_value > max_value is a configuration error, reported at load, naming the place."""
    bad = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "age", "min_value": 10, "max_value": 1},
    }
    with pytest.raises(SuiteError, match="swap them") as info:
        load_suite(_write(tmp_path, _suite(NOT_NULL, bad)))
    assert "expectation #1 (expect_column_values_to_be_between)" in str(info.value)


def test_bad_regex_is_refused(tmp_path: Path) -> None:
    """A regex that does not compile is refused at load."""
    bad = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "a", "regex": "("}}
    with pytest.raises(SuiteError, match="does not compile"):
        load_suite(_write(tmp_path, _suite(bad)))


GX_UUID = "2afa1caa-0b2f-4a57-9a3f-52f1e2f0c6f1"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"id": GX_UUID, "meta": {"id": "age_in_range"}}, "age_in_range"),
        ({"id": GX_UUID, "meta": {"dqgate": {"id": "age_ok"}}}, "age_ok"),
        ({"meta": {"id": "plain", "dqgate": {"id": "ours"}}}, "ours"),
        ({"id": GX_UUID}, GX_UUID),
        ({"id": GX_UUID, "meta": {"id": ""}}, GX_UUID),
        ({}, "0"),
    ],
)
def test_human_id_wins_over_gx_generated_id(item: dict[str, Any], expected: str) -> None:
    """meta.dqgate.id, then meta.id, then GX's generated UUID id, then the index."""
    loaded = load_suite(_suite({**NOT_NULL, **item}))
    assert loaded.expectations[0].expectation_id == expected


def test_unknown_reason_override_is_refused(tmp_path: Path) -> None:
    """meta.dqgate.reason must be one of the reason classes."""
    bad = dict(NOT_NULL, meta={"dqgate": {"reason": "weird"}})
    with pytest.raises(SuiteError, match="not a reason class"):
        load_suite(_write(tmp_path, _suite(bad)))


def test_missing_file_is_a_suite_error(tmp_path: Path) -> None:
    """A missing file is a SuiteError naming the path, not a bare OSError."""
    with pytest.raises(SuiteError, match="cannot read"):
        load_suite(tmp_path / "nope.json")
