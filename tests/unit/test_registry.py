"""The expectation type registry: one registration is all the loader, compiler, ``suites check``
and the native builder need to know a type; kwargs rules are the same for every type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from dqgate.cli.main import main
from dqgate.errors import SuiteError
from dqgate.suites import Mode, classify, compile_suite, load_suite, supported_types
from dqgate.suites.registry import (
    CheckOptions,
    CheckSpec,
    Registration,
    registered,
    registration,
    unregistered,
)
from dqgate.verdict import Outcome, Reason

TYPE = "expect_column_values_to_be_null"
SUITE = {
    "name": "reg",
    "expectations": [{"type": TYPE, "kwargs": {"column": "code"}, "meta": {"id": "code_blank"}}],
}


def _no_forbidden_column(gx: Any) -> None:
    if gx.column == "forbidden":
        raise SuiteError("this column may not be checked")


def _code_is_blank(gx: Any, options: CheckOptions) -> CheckSpec:
    column = gx.column

    def check(record: Mapping[str, Any]) -> int:
        return 0 if record.get(column) in (None, "") else 1

    return CheckSpec(fn=check, column=column, fields={"what": "blank"})


CUSTOM = Registration(
    type=TYPE,
    reason=Reason.WRONG_LENGTH,
    message="{column} must be {what}",
    validate=_no_forbidden_column,
    check=_code_is_blank,
    native=lambda gx: ("be_null", (gx.column,), None),
)


def _check_cli(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["suites", "check", "--json", str(path)]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_one_registration_is_enough_for_loader_compiler_cli_and_native(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unregistered, a map type falls back to GX; registered once, every reader knows it."""
    path = tmp_path / "reg.json"
    path.write_text(json.dumps(SUITE))
    with unregistered(TYPE):
        assert TYPE not in supported_types()
        (loaded,) = load_suite(path).expectations
        assert classify(loaded).mode is Mode.FALLBACK
        assert _check_cli(path, capsys)["expectations"][0]["mode"] == "fallback"
        with registered(CUSTOM):
            assert TYPE in supported_types()
            (loaded,) = load_suite(path).expectations
            assert classify(loaded).mode is Mode.COMPILED  # the compiler's mode table
            bad = {**SUITE, "expectations": [{"type": TYPE, "kwargs": {"column": "forbidden"}}]}
            with pytest.raises(SuiteError, match="may not be checked"):
                load_suite(bad)  # the loader runs the type's kwargs rule
            suite = compile_suite(path, native=True)
            (failure,) = suite.evaluate(b'{"code": "x"}').failures
            assert (failure.reason, failure.message) == (Reason.WRONG_LENGTH, "code must be blank")
            assert suite.native_checks[0].native  # the native builder used its native spec
            assert suite.evaluate(b'{"code": null}').outcome is Outcome.PASS
            cli = _check_cli(path, capsys)
            assert cli["expectations"][0]["mode"] == "compiled"
            assert cli["suites"][0]["native_checks"] == 1
    assert registration(TYPE) is not None and registration(TYPE) is not CUSTOM


def test_every_compiled_type_has_both_backends_and_a_reason() -> None:
    """Each compiled registration has a Python check, a native spec and a reason class."""
    for name in supported_types():
        entry = registration(name)
        assert entry is not None and entry.mode is Mode.COMPILED
        assert entry.check is not None, name
        assert entry.native is not None, f"{name}: {entry.no_native}"
        assert entry.reason is not Reason.EVALUATION_ERROR, name


def test_registering_a_type_twice_is_refused() -> None:
    """The registry has one entry per type."""
    from dqgate.suites.registry import register

    with pytest.raises(ValueError, match="already registered"):
        register(CUSTOM)


# --- the same kwargs rule for every type with bounds (issue #13 point 4) ---------------------

BOUNDED = [
    ("expect_column_values_to_be_between", {"column": "a"}),
    ("expect_column_value_lengths_to_be_between", {"column": "a"}),
    ("expect_table_column_count_to_be_between", {}),
    ("expect_column_mean_to_be_between", {"column": "a"}),
    ("expect_column_median_to_be_between", {"column": "a"}),
    ("expect_column_min_to_be_between", {"column": "a"}),
    ("expect_column_max_to_be_between", {"column": "a"}),
    ("expect_column_sum_to_be_between", {"column": "a"}),
    ("expect_column_stdev_to_be_between", {"column": "a"}),
    ("expect_column_unique_value_count_to_be_between", {"column": "a"}),
    ("expect_column_proportion_of_unique_values_to_be_between", {"column": "a"}),
    ("expect_column_proportion_of_non_null_values_to_be_between", {"column": "a"}),
    ("expect_table_row_count_to_be_between", {}),
]


@pytest.mark.parametrize(("etype", "kwargs"), BOUNDED)
def test_inverted_bounds_are_refused_for_every_type(etype: str, kwargs: dict[str, Any]) -> None:
    """min_value > max_value is refused at load, whatever the type (GX evaluates some)."""
    cfg = {"type": etype, "kwargs": {**kwargs, "min_value": 5, "max_value": 1}}
    with pytest.raises(SuiteError, match=r"greater than max_value|less than or equal to max"):
        load_suite({"name": "b", "expectations": [cfg]})


@pytest.mark.parametrize(("etype", "kwargs"), BOUNDED)
def test_ordered_bounds_load(etype: str, kwargs: dict[str, Any]) -> None:
    """The rule refuses only inverted bounds: equal ones load."""
    cfg = {"type": etype, "kwargs": {**kwargs, "min_value": 1, "max_value": 1}}
    assert load_suite({"name": "b", "expectations": [cfg]}).expectations


def test_suites_check_reports_a_kwargs_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kwargs rule fails `dqgate suites check` too (exit 2), not only the gate's start-up."""
    path = tmp_path / "s.json"
    cfg = {
        "type": "expect_table_column_count_to_be_between",
        "kwargs": {"min_value": 3, "max_value": 1},
    }
    path.write_text(json.dumps({"name": "s", "expectations": [cfg]}))
    assert main(["suites", "check", str(path)]) == 2
    assert "greater than max_value" in capsys.readouterr().err
