"""Synthetic incident-report records with injected, counted defects (the mission story).

A leaked police database had dates in three formats, two-digit birth years, people born
in the sentinel year 1900, unknown ages coded ``00``, inconsistent ethnicity spellings and
76% of people without ethnicity. :func:`generate` reproduces those defects, deterministically
by seed, one enforced defect per defective record, so that "records per reason" seen by the
gate equals "injected per reason" here. Names and id numbers are fake by construction:
invented surnames and US-SSN-shaped numbers in the never-issued area ``000``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

from dqgate.verdict import Reason

__all__ = [
    "CANONICAL_ETHNICITIES",
    "DEFECT_REASONS",
    "MISSPELLED_ETHNICITIES",
    "Defect",
    "DefectReport",
    "DefectTally",
    "GeneratedRecord",
    "generate",
    "summarise",
]

CANONICAL_ETHNICITIES = ("WHITE", "BLACK", "ASIAN", "HISPANIC", "INDIGENOUS", "MIXED", "OTHER")
MISSPELLED_ETHNICITIES = (
    "white", "Caucasian", "Wht", "W", "blk", "Black ", "Afro-Caribbean", "asian", "Asain",
    "Hispanic", "Latino", "mixed race", "Other/Unknown", "IND",
)  # fmt: skip
INCIDENT_TYPES = ("THEFT", "ASSAULT", "BURGLARY", "FRAUD", "VANDALISM", "TRAFFIC", "DRUGS")
DISTRICT_COUNT = 24
GARBAGE_SHARE = 0.2
"""Share of the defective records that are not JSON objects when ``garbage_rate`` is None."""

_FIRST_NAMES = (
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pavel", "Quinn", "Rosa", "Samir", "Tara",
)  # fmt: skip
_SURNAMES = (  # invented on purpose: realistic shape, obviously nobody's name
    "Testwood", "Mockridge", "Samplesby", "Placeford", "Fictorsen", "Dummerton", "Examplar",
    "Nulligan", "Sandboxley", "Fixtureson", "Stubworth", "Seedhall", "Fakenbury", "Redactova",
)  # fmt: skip
_REPORTED_FROM = datetime(2023, 1, 1, tzinfo=UTC)
_REPORTED_SPAN_S = 2 * 365 * 24 * 3600
_MAX_AGE_DAYS = 99 * 365
_NEWLINE_FREE_BYTES = bytes(b for b in range(256) if b not in (0x0A, 0x0D))


class Defect(StrEnum):
    """Kinds of injected defect; each maps to exactly one reason class (DEFECT_REASONS)."""

    REPORTED_AT_DAY_FIRST = "reported_at_day_first"
    REPORTED_AT_NO_TIMEZONE = "reported_at_no_timezone"
    BIRTH_DATE_TWO_DIGIT_YEAR = "birth_date_two_digit_year"
    BIRTH_YEAR_1900 = "birth_year_1900"
    AGE_ZERO = "age_zero"
    RECORD_ID_MISSING = "record_id_missing"
    RECORD_ID_NULL = "record_id_null"
    REPORTED_AT_MISSING = "reported_at_missing"
    REPORTED_AT_NULL = "reported_at_null"
    PERSON_ID_MISSING = "person_id_missing"
    PERSON_ID_NULL = "person_id_null"
    ETHNICITY_MISSPELLED = "ethnicity_misspelled"
    INVALID_UTF8 = "invalid_utf8"
    NON_JSON_TEXT = "non_json_text"
    TRUNCATED_JSON = "truncated_json"
    JSON_ARRAY = "json_array"
    JSON_SCALAR = "json_scalar"


DEFECT_REASONS: Mapping[Defect, Reason] = {
    Defect.REPORTED_AT_DAY_FIRST: Reason.UNPARSEABLE_DATE,
    Defect.REPORTED_AT_NO_TIMEZONE: Reason.UNPARSEABLE_DATE,
    Defect.BIRTH_DATE_TWO_DIGIT_YEAR: Reason.UNPARSEABLE_DATE,
    Defect.BIRTH_YEAR_1900: Reason.OUT_OF_RANGE,
    Defect.AGE_ZERO: Reason.OUT_OF_RANGE,
    Defect.RECORD_ID_MISSING: Reason.MISSING_FIELD,
    Defect.RECORD_ID_NULL: Reason.MISSING_FIELD,
    Defect.REPORTED_AT_MISSING: Reason.MISSING_FIELD,
    Defect.REPORTED_AT_NULL: Reason.MISSING_FIELD,
    Defect.PERSON_ID_MISSING: Reason.MISSING_FIELD,
    Defect.PERSON_ID_NULL: Reason.MISSING_FIELD,
    Defect.ETHNICITY_MISSPELLED: Reason.NOT_IN_SET,
    Defect.INVALID_UTF8: Reason.UNDECODABLE,
    Defect.NON_JSON_TEXT: Reason.UNDECODABLE,
    Defect.TRUNCATED_JSON: Reason.UNDECODABLE,
    Defect.JSON_ARRAY: Reason.NOT_AN_OBJECT,
    Defect.JSON_SCALAR: Reason.NOT_AN_OBJECT,
}
_GARBAGE = (
    Defect.INVALID_UTF8,
    Defect.NON_JSON_TEXT,
    Defect.TRUNCATED_JSON,
    Defect.JSON_ARRAY,
    Defect.JSON_SCALAR,
)
_FIELD = tuple(d for d in Defect if d not in _GARBAGE)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedRecord:
    """One raw Kafka record and what was injected into it (``defect`` None: clean)."""

    index: int
    key: bytes
    value: bytes
    defect: Defect | None
    reason: Reason | None
    missing_ethnicity: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DefectReport:
    """Exact injected counts; ``lines`` (1-based line numbers per defect) only when kept."""

    count: int
    by_defect: Mapping[str, int]
    by_reason: Mapping[str, int]
    missing_ethnicity: int
    lines: Mapping[str, tuple[int, ...]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, keys sorted, ``lines`` omitted when not kept."""
        out: dict[str, Any] = {
            "count": self.count,
            "by_defect": dict(sorted(self.by_defect.items())),
            "by_reason": dict(sorted(self.by_reason.items())),
            "missing_ethnicity": self.missing_ethnicity,
        }
        if self.lines is not None:
            out["lines"] = {k: list(v) for k, v in sorted(self.lines.items())}
        return out


class DefectTally:
    """Counts generated records as they stream past; :meth:`report` freezes the counts."""

    __slots__ = ("_by_defect", "_by_reason", "_count", "_lines", "_missing_ethnicity")

    def __init__(self, *, keep_lines: bool = False) -> None:
        self._count = 0
        self._missing_ethnicity = 0
        self._by_defect: Counter[str] = Counter()
        self._by_reason: Counter[str] = Counter()
        self._lines: dict[str, list[int]] | None = {} if keep_lines else None

    def add(self, record: GeneratedRecord) -> None:
        """Count one record (its line number is its position in the stream, 1-based)."""
        self._count += 1
        self._missing_ethnicity += record.missing_ethnicity
        if record.defect is not None and record.reason is not None:
            self._by_defect[record.defect] += 1
            self._by_reason[record.reason] += 1
            if self._lines is not None:
                self._lines.setdefault(str(record.defect), []).append(self._count)

    def report(self) -> DefectReport:
        """The counts so far as an immutable report."""
        lines = None
        if self._lines is not None:
            lines = {k: tuple(v) for k, v in self._lines.items()}
        return DefectReport(
            count=self._count,
            by_defect={str(k): v for k, v in self._by_defect.items()},
            by_reason={str(k): v for k, v in self._by_reason.items()},
            missing_ethnicity=self._missing_ethnicity,
            lines=lines,
        )


def summarise(records: Iterable[GeneratedRecord]) -> DefectReport:
    """The report of a finished batch of generated records."""
    tally = DefectTally()
    for record in records:
        tally.add(record)
    return tally.report()


def generate(
    count: int,
    seed: int,
    defect_rate: float = 0.1,
    missing_ethnicity_rate: float = 0.76,
    garbage_rate: float | None = None,
) -> Iterator[GeneratedRecord]:
    """``count`` records, the same ones for the same arguments (checked before the first).

    ``defect_rate`` is the share of records with one injected defect, of which
    ``garbage_rate`` (a share of all records, default ``defect_rate * GARBAGE_SHARE``) are
    not JSON objects. ``missing_ethnicity_rate`` applies to every JSON-object record whose
    defect is not a misspelled ethnicity. A shorter run is a prefix of a longer one.
    Raises ValueError for a negative count or a rate out of range.
    """
    if garbage_rate is None:
        garbage_rate = defect_rate * GARBAGE_SHARE
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    for name, rate in (
        ("defect_rate", defect_rate),
        ("missing_ethnicity_rate", missing_ethnicity_rate),
    ):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {rate}")
    if not 0.0 <= garbage_rate <= defect_rate:
        raise ValueError(
            f"garbage_rate must be within [0, defect_rate={defect_rate}], got {garbage_rate}"
        )
    return _records(count, seed, defect_rate, missing_ethnicity_rate, garbage_rate)


def _records(
    count: int, seed: int, defect_rate: float, missing_rate: float, garbage_rate: float
) -> Iterator[GeneratedRecord]:
    rng = random.Random(seed)
    for index in range(count):
        yield _generate_one(rng, index, defect_rate, missing_rate, garbage_rate)


def _generate_one(
    rng: random.Random, index: int, defect_rate: float, missing_rate: float, garbage_rate: float
) -> GeneratedRecord:
    roll = rng.random()
    defect: Defect | None = None
    if roll < garbage_rate:
        defect = rng.choice(_GARBAGE)
    elif roll < defect_rate:
        defect = rng.choice(_FIELD)
    record = _clean_record(rng, index)
    missing = defect is not Defect.ETHNICITY_MISSPELLED and rng.random() < missing_rate
    if missing:
        if rng.random() < 0.5:
            del record["ethnicity"]
        else:
            record["ethnicity"] = None
    if defect is not None and defect not in _GARBAGE:
        _inject_field_defect(rng, record, defect)
    key = str(record.get("person_id") or f"R{index:07d}").encode()
    if defect in _GARBAGE:
        value = _garbage(rng, record, defect)
        return GeneratedRecord(
            index=index,
            key=f"R{index:07d}".encode(),
            value=value,
            defect=defect,
            reason=DEFECT_REASONS[defect],
        )
    reason = DEFECT_REASONS[defect] if defect is not None else None
    value = orjson.dumps(record)
    return GeneratedRecord(
        index=index, key=key, value=value, defect=defect, reason=reason, missing_ethnicity=missing
    )


def _clean_record(rng: random.Random, index: int) -> dict[str, Any]:
    reported = _REPORTED_FROM + timedelta(seconds=rng.randrange(_REPORTED_SPAN_S))
    birth = date.fromordinal(reported.date().toordinal() - rng.randint(366, _MAX_AGE_DAYS))
    return {
        "record_id": f"R{index:07d}",
        "reported_at": reported.isoformat(),
        "person_id": f"P{rng.randrange(1_000_000):06d}",
        "person_name": f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}",
        "birth_date": birth.isoformat(),
        "age": _age_years(birth, reported.date()),
        "ethnicity": rng.choice(CANONICAL_ETHNICITIES),
        "incident_type": rng.choice(INCIDENT_TYPES),
        "district": f"D{rng.randint(1, DISTRICT_COUNT):02d}",
        "id_number": f"000-{rng.randrange(100):02d}-{rng.randrange(10_000):04d}",
    }


def _age_years(birth: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (birth.month, birth.day)
    return on.year - birth.year - before_birthday


def _inject_field_defect(rng: random.Random, record: dict[str, Any], defect: Defect) -> None:
    reported = datetime.fromisoformat(record["reported_at"])
    birth = date.fromisoformat(record["birth_date"])
    match defect:
        case Defect.REPORTED_AT_DAY_FIRST:
            record["reported_at"] = reported.strftime("%d/%m/%Y %H:%M")
        case Defect.REPORTED_AT_NO_TIMEZONE:
            record["reported_at"] = reported.strftime("%Y-%m-%d %H:%M:%S")
        case Defect.BIRTH_DATE_TWO_DIGIT_YEAR:
            record["birth_date"] = birth.strftime("%y-%m-%d")
        case Defect.BIRTH_YEAR_1900:
            record["birth_date"] = f"1900-{birth.month:02d}-{min(birth.day, 28):02d}"
        case Defect.AGE_ZERO:
            record["age"] = 0
        case Defect.ETHNICITY_MISSPELLED:
            record["ethnicity"] = rng.choice(MISSPELLED_ETHNICITIES)
        case _:
            column, _, how = defect.rpartition("_")
            if how == "missing":
                del record[column]
            else:
                record[column] = None


def _garbage(rng: random.Random, record: dict[str, Any], defect: Defect | None) -> bytes:
    match defect:
        case Defect.INVALID_UTF8:  # 0xFF never occurs in UTF-8
            size = rng.randint(8, 64)
            return b"\xff" + bytes(rng.choice(_NEWLINE_FREE_BYTES) for _ in range(size))
        case Defect.NON_JSON_TEXT:
            fields = [str(v) for v in record.values() if v is not None]
            template = rng.choice(("{}", "<record>{}</record>", "record_id={}"))
            return template.format(";".join(fields)).encode()
        case Defect.TRUNCATED_JSON:  # a proper prefix of an object is never valid JSON
            full = orjson.dumps(record)
            return full[: rng.randint(1, len(full) - 1)]
        case Defect.JSON_ARRAY:
            return orjson.dumps(rng.choice(([record], list(record.values()))))
        case _:
            scalar: object = rng.choice((record["record_id"], record["age"], None, True, 3.5))
            return orjson.dumps(scalar)
