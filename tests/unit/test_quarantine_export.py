"""CSV exports that cannot attack the reader, flattened fields, valid JSON when redacted,
and whole lines when stdout is not a terminal."""

from __future__ import annotations

import csv
import io
import json

import pytest

from dqgate.quarantine.envelope import QuarantinedRecord, decode_record
from dqgate.quarantine.export import FORMULA_PREFIXES, CsvWriter, parse_fields, record_document
from dqgate.quarantine.render import format_record, table
from dqgate.redact import MASK, Redactor
from dqgate.routing import Header

FORMULAS = ('=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)")


def record(
    value: bytes | None, *, key: bytes | None = b"P1", headers: tuple[Header, ...] = ()
) -> QuarantinedRecord:
    return decode_record(
        topic="q", partition=0, offset=1, timestamp_ms=0, key=key, value=value, headers=headers
    )


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def export(
    records: list[QuarantinedRecord],
    *,
    fields: tuple[str, ...] = (),
    raw: bool = False,
    redactor: Redactor | None = None,
) -> str:
    stream = io.StringIO()
    writer = CsvWriter(stream, fields=fields, raw=raw)
    writer.write_all([record_document(r, redactor or Redactor()) for r in records])
    return stream.getvalue()


@pytest.mark.parametrize("formula", [*FORMULAS, "\tTAB", "\rCR"])
def test_no_csv_cell_starts_like_a_formula(formula: str) -> None:
    """Keys, values, header names and header texts that start like a formula are defused."""
    value = json.dumps({"name": formula}).encode()
    records = [
        record(formula.encode(), key=formula.encode(), headers=((formula, formula.encode()),)),
        record(value, key=formula.encode()),
    ]
    text = export(records, fields=("name",))
    for row in csv_rows(text):
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), (cell, row)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["key"] == "'" + formula and rows[0]["value"] == "'" + formula
    assert rows[1]["value.name"] == "'" + formula
    assert json.loads(rows[0]["headers"])[0]["name"] == formula  # inside JSON: inert


def test_plain_numbers_are_left_alone() -> None:
    """A key -5 or a field -1.5e3 is a number to a spreadsheet, not a formula."""
    text = export([record(b'{"t": -1.5e3}', key=b"-5")], fields=("t",))
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["key"], row["value.t"]) == ("-5", "-1.5e3")


def test_raw_csv_writes_cells_as_they_are() -> None:
    """raw=True (--raw-csv) keeps a formula-like key byte for byte."""
    text = export([record(b"{}", key=FORMULAS[0].encode())], raw=True)
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["key"] == FORMULAS[0]


def test_the_heading_row_is_defused_too() -> None:
    """A --fields path like '=cmd' cannot make a live heading cell."""
    heading = csv_rows(export([], fields=("=cmd",)))[0]
    assert "'value.=cmd" not in heading and "value.=cmd" in heading


def test_fields_become_columns_next_to_the_value() -> None:
    """--fields a,b.c,l.1: one column each right after value; missing fields are empty."""
    value = b'{"a": "x", "b": {"c": 2, "d": [1]}, "l": [10, {"k": true}], "n": null}'
    text = export([record(value), record(b"not json")], fields=("a", "b.c", "b", "l.1", "n", "z"))
    heading = csv_rows(text)[0]
    at = heading.index("value")
    assert heading[at + 1 : at + 7] == [
        "value.a", "value.b.c", "value.b", "value.l.1", "value.n", "value.z",
    ]  # fmt: skip
    first, second = csv.DictReader(io.StringIO(text))
    assert (first["value.a"], first["value.b.c"], first["value.l.1"]) == ("x", "2", '{"k":true}')
    assert json.loads(first["value.b"]) == {"c": 2, "d": [1]}
    assert first["value.n"] == first["value.z"] == ""
    assert all(second[f"value.{f}"] == "" for f in ("a", "b.c", "z"))


def test_fields_show_redacted_members_masked() -> None:
    """A flattened redacted field shows the mask, never the value."""
    value = json.dumps({"person_name": "Nikolai Fakenbury", "age": 3}).encode()
    text = export(
        [record(value)], fields=("person_name", "age"), redactor=Redactor.of(["person_name"])
    )
    (row,) = csv.DictReader(io.StringIO(text))
    assert (row["value.person_name"], row["value.age"]) == (MASK, "3")
    assert "Fakenbury" not in text


@pytest.mark.parametrize("text", ["a,,b", "a.", ".b", ""])
def test_bad_field_lists_are_refused(text: str) -> None:
    """Empty paths or path segments are a ValueError with the expected form."""
    with pytest.raises(ValueError, match="dotted paths"):
        parse_fields(text)


def test_a_redacted_value_prints_as_valid_json() -> None:
    """1e400 and long decimals stay as written (no Infinity); the result parses as JSON."""
    value = b'{"person_name": "N", "big": 1e400, "f": 0.1000000000000000055, '
    value += b'"i": 1234567890123456789012}'
    redactor = Redactor.of(["person_name"])
    lines = format_record(record(value), redactor, width=None)
    (line,) = [x for x in lines if x.lstrip().startswith("value")]
    shown = line.split("(redacted) ", 1)[1]
    parsed = json.loads(shown, parse_float=str, parse_constant=lambda c: pytest.fail(c))
    assert parsed == {"person_name": MASK, "big": "1e400", "f": "0.1000000000000000055",
                      "i": 1234567890123456789012}  # fmt: skip
    document = record_document(record(value), redactor)
    assert "Infinity" not in document["value"] and json.loads(document["value"])


def test_nan_is_not_json_so_the_value_is_masked_whole() -> None:
    """A value with NaN is not JSON: with redaction on it is masked, never re-serialised."""
    shown = Redactor.of(["person_name"]).value(b'{"person_name": "N", "x": NaN}')
    assert shown.masked and shown.data is None


def test_tables_are_not_cut_when_stdout_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ls/stats tables keep whole cells when piped (capsys' stdout is not a terminal)."""
    long_topic = "incidents.quarantine." + "x" * 150
    lines = table(("topic", "records"), [(long_topic, 5)])
    assert long_topic in lines[1] and "…" not in lines[1]
    assert table(("topic", "records"), [(long_topic, 5)], width=40)[1].endswith("…")
