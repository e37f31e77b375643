"""The synthetic incident-report generator: determinism, one defect per record, exact counts."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dqgate.cli.main import main
from dqgate.demo import (
    CANONICAL_ETHNICITIES,
    DEFECT_REASONS,
    MISSPELLED_ETHNICITIES,
    Defect,
    DefectTally,
    GeneratedRecord,
    generate,
    summarise,
)
from dqgate.verdict import Reason

COUNT = 20_000
SEED = 20240305

_MISSING = object()


@pytest.fixture(scope="module")
def records() -> list[GeneratedRecord]:
    """20,000 records with the default rates."""
    return list(generate(COUNT, SEED))


def _decode(value: bytes) -> Any:
    try:
        return json.loads(value.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _MISSING


def _defects_found(value: bytes) -> set[str]:
    """An oracle written apart from the generator: which defect kinds a raw value shows."""
    obj = _decode(value)
    if obj is _MISSING:
        return {"undecodable"}
    if not isinstance(obj, dict):
        return {"not_an_object"}
    found = set()
    for column in ("record_id", "reported_at", "person_id"):
        if column not in obj:
            found.add(f"{column}_missing")
        elif obj[column] is None:
            found.add(f"{column}_null")
    reported_at = obj.get("reported_at")
    if reported_at is not None:
        try:
            datetime.strptime(reported_at, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            found.add("reported_at_format")
    birth_date = obj["birth_date"]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth_date):
        found.add("birth_date_two_digit_year")
    elif birth_date.startswith("1900-"):
        found.add("birth_year_1900")
    if not 1 <= obj["age"] <= 120:
        found.add("age_zero")
    if obj.get("ethnicity") is not None and obj["ethnicity"] not in CANONICAL_ETHNICITIES:
        found.add("ethnicity_misspelled")
    return found


_ORACLE_NAME = {
    Defect.REPORTED_AT_DAY_FIRST: "reported_at_format",
    Defect.REPORTED_AT_NO_TIMEZONE: "reported_at_format",
    Defect.INVALID_UTF8: "undecodable",
    Defect.NON_JSON_TEXT: "undecodable",
    Defect.TRUNCATED_JSON: "undecodable",
    Defect.JSON_ARRAY: "not_an_object",
    Defect.JSON_SCALAR: "not_an_object",
}


def test_same_seed_gives_same_records() -> None:
    """Two runs with the same seed and rates yield identical records."""
    assert list(generate(500, 7)) == list(generate(500, 7))


def test_other_seed_gives_other_records() -> None:
    """A different seed yields different values."""
    assert [r.value for r in generate(50, 7)] != [r.value for r in generate(50, 8)]


def test_shorter_run_is_prefix_of_longer_run() -> None:
    """The first N records do not depend on how many are generated."""
    assert list(generate(100, 3)) == list(generate(300, 3))[:100]


def test_indexes_are_positions(records: list[GeneratedRecord]) -> None:
    """Each record's index is its 0-based position in the stream."""
    assert [r.index for r in records] == list(range(COUNT))


def test_clean_records_show_no_defect(records: list[GeneratedRecord]) -> None:
    """A record generated clean passes every check of the independent oracle."""
    dirty = [r.index for r in records if r.defect is None and _defects_found(r.value)]
    assert dirty == []


def test_defective_record_shows_exactly_its_one_defect(records: list[GeneratedRecord]) -> None:
    """A defective record shows exactly one defect, the injected one."""
    for r in records:
        if r.defect is not None:
            expected = _ORACLE_NAME.get(r.defect, str(r.defect))
            assert _defects_found(r.value) == {expected}, (r.index, r.defect)


def test_reason_is_the_defects_reason(records: list[GeneratedRecord]) -> None:
    """The reason of a record is the table reason of its defect, None when clean."""
    assert all(r.reason == (DEFECT_REASONS[r.defect] if r.defect else None) for r in records)


def test_every_defect_kind_occurs(records: list[GeneratedRecord]) -> None:
    """20,000 records with the default rates contain every defect kind."""
    assert {r.defect for r in records if r.defect} == set(Defect)


def test_no_newline_in_values_or_keys(records: list[GeneratedRecord]) -> None:
    """No value or key contains a line break, so every record is one JSON line."""
    bad = [r.index for r in records if b"\n" in r.value + r.key or b"\r" in r.value + r.key]
    assert bad == []


def test_invalid_utf8_defect_is_not_utf8(records: list[GeneratedRecord]) -> None:
    """Every invalid_utf8 value fails UTF-8 decoding."""
    values = [r.value for r in records if r.defect is Defect.INVALID_UTF8]
    for value in values:
        with pytest.raises(UnicodeDecodeError):
            value.decode("utf-8")


def test_json_array_and_scalar_decode_to_non_objects(records: list[GeneratedRecord]) -> None:
    """json_array values decode to lists and json_scalar values to scalars."""
    for r in records:
        if r.defect is Defect.JSON_ARRAY:
            assert isinstance(json.loads(r.value), list)
        elif r.defect is Defect.JSON_SCALAR:
            assert not isinstance(json.loads(r.value), (dict, list))


def test_misspelled_ethnicities_are_not_canonical() -> None:
    """No misspelling is accidentally a canonical code."""
    assert not set(MISSPELLED_ETHNICITIES) & set(CANONICAL_ETHNICITIES)


def test_defect_rates_are_roughly_honoured(records: list[GeneratedRecord]) -> None:
    """About 10% of records are defective and about 2% are not JSON objects."""
    defective = sum(r.defect is not None for r in records) / COUNT
    garbage = sum(r.reason in (Reason.UNDECODABLE, Reason.NOT_AN_OBJECT) for r in records) / COUNT
    assert defective == pytest.approx(0.10, abs=0.01)
    assert garbage == pytest.approx(0.02, abs=0.005)


def test_missing_ethnicity_rate_is_roughly_honoured(records: list[GeneratedRecord]) -> None:
    """About 76% of the object records that could lack ethnicity do lack it."""
    eligible = [
        r for r in records if isinstance(_decode(r.value), dict)
        and r.defect is not Defect.ETHNICITY_MISSPELLED
    ]  # fmt: skip
    missing = sum(r.missing_ethnicity for r in eligible) / len(eligible)
    assert missing == pytest.approx(0.76, abs=0.02)


def test_missing_ethnicity_flag_matches_value(records: list[GeneratedRecord]) -> None:
    """missing_ethnicity is True exactly when an object record's ethnicity is absent or null."""
    for r in records:
        obj = _decode(r.value)
        if isinstance(obj, dict):
            assert r.missing_ethnicity == (obj.get("ethnicity") is None), r.index
        else:
            assert not r.missing_ethnicity


def test_key_is_person_id_or_record_id(records: list[GeneratedRecord]) -> None:
    """The key is the person_id when the record has one, else the record id."""
    for r in records:
        obj = _decode(r.value)
        person = obj.get("person_id") if isinstance(obj, dict) else None
        assert r.key == (person or f"R{r.index:07d}").encode()


def test_report_counts_equal_generated(records: list[GeneratedRecord]) -> None:
    """summarise() counts exactly the defects, reasons and missing ethnicities generated."""
    report = summarise(records)
    assert report.count == COUNT
    assert report.by_defect == Counter(str(r.defect) for r in records if r.defect)
    assert report.by_reason == Counter(str(r.reason) for r in records if r.reason)
    assert report.missing_ethnicity == sum(r.missing_ethnicity for r in records)


def test_tally_lines_are_one_based_positions() -> None:
    """With keep_lines, each defect kind lists the 1-based lines of its records."""
    recs = list(generate(2_000, 5))
    tally = DefectTally(keep_lines=True)
    for r in recs:
        tally.add(r)
    lines = tally.report().lines
    assert lines is not None
    assert lines[Defect.AGE_ZERO] == tuple(r.index + 1 for r in recs if r.defect is Defect.AGE_ZERO)


def test_zero_defect_rate_gives_clean_records() -> None:
    """defect_rate=0 yields no defect at all."""
    assert all(r.defect is None for r in generate(1_000, 1, defect_rate=0.0))


@pytest.mark.parametrize(
    "kwargs",
    [{"defect_rate": 1.5}, {"missing_ethnicity_rate": -0.1}, {"garbage_rate": 0.5}],
)
def test_bad_rates_raise_before_first_record(kwargs: dict[str, float]) -> None:
    """An out-of-range rate raises ValueError at the call, not on iteration."""
    with pytest.raises(ValueError, match="rate"):
        generate(10, 1, **kwargs)


def test_cli_writes_records_and_exact_report(tmp_path: Path) -> None:
    """`dqgate demo generate` writes one value per line and the report of those values."""
    out, report = tmp_path / "records.jsonl", tmp_path / "report.json"
    argv = ["demo", "generate", "--count", "3000", "--seed", "9", "--out", str(out)]
    assert main([*argv, "--report", str(report)]) == 0
    expected = list(generate(3000, 9))
    assert out.read_bytes().split(b"\n") == [r.value for r in expected] + [b""]
    assert json.loads(report.read_text()) == summarise(expected).to_dict()


def test_cli_rejects_rate_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    """A rate outside [0, 1] is a usage error (exit 2) naming the option."""
    with pytest.raises(SystemExit) as exc:
        main(["demo", "generate", "--count", "1", "--seed", "1", "--defect-rate", "2"])
    assert exc.value.code == 2
    assert "--defect-rate" in capsys.readouterr().err
