"""CompiledSuite.evaluate: decoding verdicts, policies and outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from dqgate import Outcome, Policy, Reason, compile_suite
from dqgate.suites import CompiledSuite
from dqgate.verdict import Stage


def _compile(*expectations: dict[str, Any], max_record_bytes: int = 1000) -> CompiledSuite:
    return compile_suite(
        {"name": "t", "expectations": list(expectations)}, max_record_bytes=max_record_bytes
    )


AGE = {
    "type": "expect_column_values_to_be_between",
    "kwargs": {"column": "age", "min_value": 1, "max_value": 120},
    "meta": {"id": "age"},
}
ETHNICITY_OBSERVED = {
    "type": "expect_column_values_to_not_be_null",
    "kwargs": {"column": "ethnicity", "mostly": 0.5},
    "meta": {"id": "eth"},
}
WARN = {
    "type": "expect_column_values_to_match_regex",
    "severity": "warning",
    "kwargs": {"column": "name", "regex": "^[A-Z]"},
    "meta": {"id": "name"},
}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", Reason.UNDECODABLE),
        (b'{"age": 3', Reason.UNDECODABLE),
        (b"", Reason.UNDECODABLE),
        (b"NaN", Reason.UNDECODABLE),
        (b"[1, 2]", Reason.NOT_AN_OBJECT),
        (b'"text"', Reason.NOT_AN_OBJECT),
        (b"null", Reason.NOT_AN_OBJECT),
        (b'{"age": "' + b"x" * 2000 + b'"}', Reason.TOO_LARGE),
    ],
)
def test_bad_bytes_are_decode_verdicts(raw: bytes, reason: Reason) -> None:
    """Invalid UTF-8, non-JSON, non-objects and oversized records are quarantine verdicts."""
    verdict = _compile(AGE).evaluate(raw)
    assert verdict.outcome is Outcome.QUARANTINE
    assert verdict.stage is Stage.DECODE
    assert verdict.reasons == (reason,)


def test_integers_beyond_64_bits_are_still_json() -> None:
    """Valid JSON that orjson refuses (huge integers) is decoded, not called undecodable."""
    verdict = _compile(AGE).evaluate(b'{"age": 123456789012345678901234567890}')
    assert verdict.stage is Stage.VALIDATE
    assert verdict.reasons == (Reason.OUT_OF_RANGE,)


def test_enforced_failure_quarantines() -> None:
    """A critical expectation with mostly=1 quarantines the record."""
    verdict = _compile(AGE).evaluate(b'{"age": 0}')
    assert verdict.outcome is Outcome.QUARANTINE
    assert [f.expectation_id for f in verdict.failures] == ["age"]
    assert verdict.failures[0].policy is Policy.ENFORCE


def test_mostly_below_one_only_observes() -> None:
    """A failure of an expectation with mostly < 1 is reported, and the record passes."""
    verdict = _compile(AGE, ETHNICITY_OBSERVED).evaluate(b'{"age": 30}')
    assert verdict.outcome is Outcome.PASS
    assert [(f.expectation_id, f.policy) for f in verdict.failures] == [("eth", Policy.OBSERVE)]
    assert verdict.reasons == ()


def test_warning_severity_only_observes() -> None:
    """A failure of a warning-severity expectation is reported, and the record passes."""
    verdict = _compile(WARN).evaluate(b'{"name": "lower"}')
    assert verdict.outcome is Outcome.PASS
    assert verdict.failures[0].policy is Policy.OBSERVE


def test_error_is_quarantined_with_evaluation_error() -> None:
    """Where GX would raise (a string in a between-check) the verdict is error, quarantined."""
    verdict = _compile(AGE).evaluate(b'{"age": "38"}')
    assert verdict.outcome is Outcome.ERROR
    assert verdict.routed_to_quarantine
    assert verdict.reasons == (Reason.EVALUATION_ERROR,)
    assert verdict.failures[0].error


def test_messages_never_contain_record_values() -> None:
    """Failure messages describe the rule, never the offending value."""
    suite = _compile(AGE, WARN)
    verdict = suite.evaluate(b'{"age": 987654, "name": "zzsecretzz"}')
    text = " ".join(f.message for f in verdict.failures)
    assert "987654" not in text
    assert "zzsecretzz" not in text
    assert len(verdict.failures) == 2


def test_reason_override_from_meta() -> None:
    """meta.dqgate.reason replaces the type's default reason class."""
    sentinel = {
        "type": "expect_column_values_to_not_match_regex",
        "kwargs": {"column": "birth_date", "regex": "^1900-"},
        "meta": {"id": "sentinel", "dqgate": {"reason": "out_of_range"}},
    }
    verdict = _compile(sentinel).evaluate(b'{"birth_date": "1900-01-01"}')
    assert verdict.reasons == (Reason.OUT_OF_RANGE,)


def test_mapping_input_is_evaluated_without_decoding() -> None:
    """A Mapping is evaluated directly; a non-mapping object is not_an_object."""
    suite = _compile(AGE)
    assert suite.evaluate({"age": 200}).reasons == (Reason.OUT_OF_RANGE,)
    assert suite.evaluate([1]).reasons == (Reason.NOT_AN_OBJECT,)  # type: ignore[arg-type]


def test_columns_lists_referenced_fields_in_order() -> None:
    """CompiledSuite.columns lists every referenced column once, in suite order."""
    assert _compile(AGE, ETHNICITY_OBSERVED, WARN).columns == ("age", "ethnicity", "name")


def test_evaluate_many_keeps_order() -> None:
    """evaluate_many returns one verdict per input, in input order."""
    verdicts = _compile(AGE).evaluate_many([b'{"age": 5}', b'{"age": 0}', b"x"])
    assert [v.outcome for v in verdicts] == [Outcome.PASS, Outcome.QUARANTINE, Outcome.QUARANTINE]
