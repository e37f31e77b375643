"""The mission-story suite stops exactly the injected defects of the generated data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dqgate.demo import Defect, DefectReport, GeneratedRecord, generate, summarise
from dqgate.suites import CompiledSuite, compile_suite
from dqgate.verdict import Outcome, Policy, Stage, Verdict

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
COUNT = 20_000
SEED = 1985
OBSERVED_ID = "ethnicity_completeness"

# The expectation that must catch each field defect (decode defects have no expectation).
EXPECTATION_OF = {
    Defect.REPORTED_AT_DAY_FIRST: "reported_at_iso8601",
    Defect.REPORTED_AT_NO_TIMEZONE: "reported_at_iso8601",
    Defect.BIRTH_DATE_TWO_DIGIT_YEAR: "birth_date_iso_date",
    Defect.BIRTH_YEAR_1900: "birth_date_not_sentinel_1900",
    Defect.AGE_ZERO: "age_in_range",
    Defect.RECORD_ID_MISSING: "record_id_not_null",
    Defect.RECORD_ID_NULL: "record_id_not_null",
    Defect.REPORTED_AT_MISSING: "reported_at_not_null",
    Defect.REPORTED_AT_NULL: "reported_at_not_null",
    Defect.PERSON_ID_MISSING: "person_id_not_null",
    Defect.PERSON_ID_NULL: "person_id_not_null",
    Defect.ETHNICITY_MISSPELLED: "ethnicity_canonical_code",
}


@pytest.fixture(scope="module")
def suite() -> CompiledSuite:
    """The compiled mission-story suite."""
    return compile_suite(SUITE_PATH)


@pytest.fixture(scope="module")
def records() -> list[GeneratedRecord]:
    """20,000 generated records with the default rates."""
    return list(generate(COUNT, SEED))


@pytest.fixture(scope="module")
def verdicts(suite: CompiledSuite, records: list[GeneratedRecord]) -> list[Verdict]:
    """The suite's verdict for each generated record, in order."""
    return suite.evaluate_many([r.value for r in records])


@pytest.fixture(scope="module")
def report(records: list[GeneratedRecord]) -> DefectReport:
    """The generator's own count of what it injected."""
    return summarise(records)


def test_suite_compiles_with_every_expectation(suite: CompiledSuite) -> None:
    """All 14 expectations of the file compile, under the suite's name."""
    assert suite.name == "incident_reports"
    assert len(suite.expectations) == 14


def test_suite_references_the_record_columns(suite: CompiledSuite) -> None:
    """The suite checks every column of the incident record except the person's name."""
    assert set(suite.columns) == {
        "record_id", "reported_at", "person_id", "birth_date", "age", "ethnicity",
        "incident_type", "district", "id_number",
    }  # fmt: skip


def test_enforced_reasons_equal_injected_reason(
    records: list[GeneratedRecord], verdicts: list[Verdict]
) -> None:
    """Each record's enforced reasons are exactly {its injected reason}, or none when clean."""
    mismatches = [
        (r.index, r.defect, v.reasons)
        for r, v in zip(records, verdicts, strict=True)
        if set(v.reasons) != ({r.reason} if r.reason else set())
    ]
    assert mismatches == []


def test_quarantined_exactly_when_defective(
    records: list[GeneratedRecord], verdicts: list[Verdict]
) -> None:
    """A record is routed to quarantine iff a defect was injected; none errors."""
    assert [v.routed_to_quarantine for v in verdicts] == [r.defect is not None for r in records]
    assert not any(v.outcome is Outcome.ERROR for v in verdicts)


def test_field_defect_fails_its_own_expectation(
    records: list[GeneratedRecord], verdicts: list[Verdict]
) -> None:
    """A field defect is caught by exactly the one expectation meant for it."""
    for r, v in zip(records, verdicts, strict=True):
        if r.defect in EXPECTATION_OF:
            assert [f.expectation_id for f in v.enforced] == [EXPECTATION_OF[r.defect]]


def test_decode_defects_stop_at_decode_stage(
    records: list[GeneratedRecord], verdicts: list[Verdict]
) -> None:
    """Garbage, truncated JSON, arrays and scalars get a decode-stage verdict."""
    for r, v in zip(records, verdicts, strict=True):
        is_garbage = r.defect is not None and r.defect not in EXPECTATION_OF
        assert (v.stage is Stage.DECODE) == is_garbage, r.index


def test_observed_ethnicity_failures_equal_missing_count(
    verdicts: list[Verdict], report: DefectReport
) -> None:
    """The observed completeness check fails once per record generated without ethnicity."""
    observed = [f for v in verdicts for f in v.failures if f.expectation_id == OBSERVED_ID]
    assert all(f.policy is Policy.OBSERVE for f in observed)
    assert len(observed) == report.missing_ethnicity


def test_records_per_reason_equal_report(verdicts: list[Verdict], report: DefectReport) -> None:
    """Counting quarantined records per reason reproduces the generator's report."""
    per_reason = Counter(str(reason) for v in verdicts for reason in v.reasons)
    assert dict(per_reason) == dict(report.by_reason)
