"""The example suite's 13 enforcing checks, written by hand, as the peers' teams would.

The bench's peer gates (``_peer_quix.py``, ``_peer_confluent.py``) are what a Python
team writes instead of dqgate: no dqgate, no GX at run time, the checks of
``expectations/incident_reports.json`` as plain Python with GX 1.24's per-row
semantics:

- a missing key and a JSON ``null`` are the same: null;
- a null is skipped (passes) by every check except the not-null ones;
- regex checks are ``re.search`` on ``str(value)`` (GX's ``astype(str)``);
- strftime checks are ``datetime.strptime``; a non-string makes GX's expectation error,
  which quarantines the record like a failure;
- the range check compares with Python's operators (``True`` counts as 1, a string or a
  list cannot be compared: an error, so quarantined);
- set checks are membership (an unhashable list or object is never a member).

Records that are not a JSON object (invalid UTF-8, not JSON, an array, a scalar, a
tombstone) are quarantined, as dqgate's decode stage does; JSON is parsed with orjson,
which like dqgate refuses ``NaN`` and ``Infinity``. ``ethnicity_completeness`` is
``severity: warning`` (observed, never quarantines), so it is not here.

The module needs only orjson and the standard library: it runs in the bench's own
virtualenv (``.venv/bench``) and, for the bench's offline agreement check, in the
project's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

import orjson

__all__ = ["CHECKS", "quarantines"]

_RECORD_ID: Final = re.compile(r"^R\d{7,}$").search
_PERSON_ID: Final = re.compile(r"^P\d{6}$").search
_SENTINEL_1900: Final = re.compile(r"^1900-").search
_DISTRICT: Final = re.compile(r"^D\d{2}$").search
_ID_NUMBER: Final = re.compile(r"^\d{3}-\d{2}-\d{4}$").search
_ETHNICITIES: Final = frozenset(
    {"WHITE", "BLACK", "ASIAN", "HISPANIC", "INDIGENOUS", "MIXED", "OTHER"}
)
_INCIDENT_TYPES: Final = frozenset(
    {"THEFT", "ASSAULT", "BURGLARY", "FRAUD", "VANDALISM", "TRAFFIC", "DRUGS"}
)
_strptime = datetime.strptime

CHECKS: Final = (
    "record_id_not_null",
    "reported_at_not_null",
    "person_id_not_null",
    "record_id_format",
    "reported_at_iso8601",
    "person_id_format",
    "birth_date_iso_date",
    "birth_date_not_sentinel_1900",
    "age_in_range",
    "ethnicity_canonical_code",
    "incident_type_known",
    "district_code",
    "id_number_format",
)
"""The suite's enforcing expectations, by their ids, in the order they are checked."""


def _text(value: Any) -> str:
    """GX's ``astype(str)`` of one cell."""
    return value if type(value) is str else str(value)


def _date(value: Any, fmt: str) -> bool:
    """``datetime.strptime`` accepts ``value`` (a non-string is GX's error: not accepted)."""
    try:
        _strptime(value, fmt)
    except (TypeError, ValueError):
        return False
    return True


def _member(value: Any, allowed: frozenset[str]) -> bool:
    try:
        return value in allowed
    except TypeError:  # a list or an object: never a member
        return False


def quarantines(value: bytes | None) -> bool:
    """True when the record belongs in quarantine (the first failing check decides)."""
    if value is None:
        return True
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError:
        return True
    if type(record) is not dict:
        return True
    get = record.get
    record_id = get("record_id")
    reported_at = get("reported_at")
    person_id = get("person_id")
    if record_id is None or reported_at is None or person_id is None:
        return True
    if not _RECORD_ID(_text(record_id)):
        return True
    if not _date(reported_at, "%Y-%m-%dT%H:%M:%S%z"):
        return True
    if not _PERSON_ID(_text(person_id)):
        return True
    birth_date = get("birth_date")
    if birth_date is not None and (
        not _date(birth_date, "%Y-%m-%d") or _SENTINEL_1900(_text(birth_date))
    ):
        return True
    age = get("age")
    if age is not None:
        try:
            if not 1 <= age <= 120:
                return True
        except TypeError:  # text or a list against numeric bounds: GX errors
            return True
    ethnicity = get("ethnicity")
    if ethnicity is not None and not _member(ethnicity, _ETHNICITIES):
        return True
    incident_type = get("incident_type")
    if incident_type is not None and not _member(incident_type, _INCIDENT_TYPES):
        return True
    district = get("district")
    if district is not None and not _DISTRICT(_text(district)):
        return True
    id_number = get("id_number")
    return id_number is not None and not _ID_NUMBER(_text(id_number))
