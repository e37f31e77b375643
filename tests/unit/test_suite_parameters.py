"""$PARAMETER values come from the gate configuration; an unresolved one stops start-up."""

from __future__ import annotations

import pytest

from dqgate import Outcome, SuiteError, compile_suite

SUITE = {
    "name": "p",
    "suite_parameters": {"max_age": 120},
    "expectations": [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "age",
                "min_value": {"$PARAMETER": "min_age"},
                "max_value": {"$PARAMETER": "max_age"},
            },
        }
    ],
}


def test_parameters_resolve_from_configuration_then_suite() -> None:
    """Configuration values apply; the suite's own suite_parameters fill the rest."""
    suite = compile_suite(SUITE, suite_parameters={"min_age": 18})
    assert suite.evaluate({"age": 17}).outcome is Outcome.QUARANTINE
    assert suite.evaluate({"age": 18}).outcome is Outcome.PASS
    assert suite.evaluate({"age": 121}).outcome is Outcome.QUARANTINE


def test_configuration_overrides_the_suite_default() -> None:
    """A configured value wins over the suite file's default."""
    suite = compile_suite(SUITE, suite_parameters={"min_age": 0, "max_age": 200})
    assert suite.evaluate({"age": 150}).outcome is Outcome.PASS


def test_unresolved_parameter_is_named() -> None:
    """A parameter set nowhere stops compilation with its name."""
    with pytest.raises(SuiteError) as info:
        compile_suite(SUITE)
    assert "'min_age'" in str(info.value)
    assert "suite_parameters" in str(info.value)
