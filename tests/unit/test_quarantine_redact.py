"""Redaction, safe terminal text and the JSON/CSV export of quarantined records."""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
from types import SimpleNamespace

import pytest

from dqgate.quarantine.audit import log_reveal
from dqgate.quarantine.envelope import QuarantinedRecord, decode_record
from dqgate.quarantine.export import CsvWriter, json_line, record_document
from dqgate.quarantine.render import cut, format_record, safe_text, table
from dqgate.redact import MASK, Redactor, configured_fields
from dqgate.routing import Header

SECRET_NAME = "Nikolai Fakenbury"
SECRET_ID = "000-53-8310"
REDACT = Redactor.of(["person_name", "id_number"])


def person(**extra: object) -> bytes:
    return json.dumps(
        {"person_name": SECRET_NAME, "id_number": SECRET_ID, "age": 3, **extra}
    ).encode()


def record(
    value: bytes | None, *, key: bytes | None = b"P1", headers: tuple[Header, ...] = ()
) -> QuarantinedRecord:
    return decode_record(
        topic="q", partition=0, offset=1, timestamp_ms=0, key=key, value=value, headers=headers
    )


def test_configured_fields_come_from_the_config_redact_attribute() -> None:
    """The one place reading the configuration: GateConfig.redact, empty when absent."""
    assert configured_fields(SimpleNamespace(redact=("a", "b"))) == ("a", "b")
    assert configured_fields(SimpleNamespace()) == ()


def test_listed_fields_are_masked_at_any_depth_and_any_case() -> None:
    """Members named like a redacted field are masked in nested objects and arrays."""
    value = json.dumps(
        {"case": {"people": [{"Person_Name": SECRET_NAME, "age": 4}]}, "id_number": SECRET_ID}
    ).encode()
    shown = REDACT.value(value)
    assert shown.redacted and shown.data is not None
    assert SECRET_NAME.encode() not in shown.data and SECRET_ID.encode() not in shown.data
    assert json.loads(shown.data) == {
        "case": {"people": [{"Person_Name": MASK, "age": 4}]},
        "id_number": MASK,
    }


def test_an_object_without_listed_fields_is_shown_byte_for_byte() -> None:
    """Nothing to redact: the original bytes, spacing and all."""
    value = b'{ "age" : 3 }'
    assert REDACT.value(value).data == value and not REDACT.value(value).redacted


@pytest.mark.parametrize(
    "value",
    [
        b"\xff" + SECRET_NAME.encode(),
        f"record_id=R1;{SECRET_NAME};{SECRET_ID}".encode(),
        person()[:-5],
        json.dumps([SECRET_NAME, SECRET_ID]).encode(),
        json.dumps(SECRET_NAME).encode(),
    ],
    ids=["invalid-utf8", "text", "truncated-json", "array", "scalar"],
)
def test_values_that_are_not_json_objects_are_masked_whole(value: bytes) -> None:
    """Anything but a JSON object may hold the data without field names: only its size shows."""
    shown = REDACT.value(value)
    assert shown.masked and shown.data is None and shown.size == len(value)


def test_integers_beyond_64_bits_stay_exact_when_redacting() -> None:
    """A big integer next to a redacted field is written back unchanged."""
    shown = REDACT.value(b'{"n": 123456789012345678901234567890, "person_name": "x"}')
    assert shown.data == b'{"n":123456789012345678901234567890,"person_name":"[redacted]"}'


def test_reveal_and_an_empty_list_show_everything() -> None:
    """--reveal, or no configured field, leaves values untouched."""
    assert Redactor.of(["person_name"], reveal=True).value(b"\xffx").data == b"\xffx"
    assert Redactor.of([]).value(b"plain").data == b"plain"


def test_keys_are_shown_unless_json_objects_with_listed_fields() -> None:
    """A plain key is an identifier; a JSON-object key is field-redacted like a value."""
    assert REDACT.key(b"P123").data == b"P123"
    shown = REDACT.key(b'{"id_number": "000-1"}')
    assert shown.data is not None and b"000-1" not in shown.data


def test_user_headers_named_like_a_field_are_masked() -> None:
    """A non-dqgate header called id_number is withheld; others are shown."""
    shown = dict(REDACT.headers([("id_number", SECRET_ID.encode()), ("origin", b"x")]))
    assert shown["id_number"].masked and shown["origin"].data == b"x"


def test_reveal_is_logged_with_user_and_topic_but_no_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The WARNING names the command and the topic."""
    with caplog.at_level(logging.WARNING, logger="dqgate.quarantine.audit"):
        log_reveal(command="show", topic="people.quarantine")
    assert "--reveal" in caplog.text and "people.quarantine" in caplog.text
    assert "quarantine show" in caplog.text


def test_safe_text_escapes_invalid_utf8_and_control_characters() -> None:
    """Terminal escapes, newlines, bidi overrides and bad bytes are printed escaped."""
    text = safe_text(b"a\x1b[31mb\nc\xff\xe2\x80\xaed")
    assert text == "a\\x1b[31mb\\nc\\xff\\u202ed"
    assert safe_text(None) == "(null)"


def test_cut_ends_with_an_ellipsis_at_the_width() -> None:
    """Long text is cut to exactly the width."""
    assert cut("abcdef", 4) == "abc…" and cut("abc", 4) == "abc"


def test_human_record_lists_failures_and_masks_values() -> None:
    """format_record names the failure and never prints a redacted value."""
    failures = b'[{"expectation_id":"age_range","type":"t","column":"age","reason":"out_of_range"}]'
    headers = (("dqgate.failures", failures), ("dqgate.reasons", b"out_of_range"))
    lines = format_record(record(person(), headers=headers), REDACT, width=200)
    text = "\n".join(lines)
    assert "age_range" in text and "out_of_range" in text and "(redacted)" in text
    assert SECRET_NAME not in text and SECRET_ID not in text
    assert all(len(line) <= 200 for line in lines)


def test_table_right_aligns_numbers() -> None:
    """Numeric columns are right-aligned under their heading."""
    assert table(("group", "records"), [("a", 5), ("bb", 10)], width=80) == [
        "group  records",
        "a            5",
        "bb          10",
    ]


def test_export_writes_utf8_as_text_and_other_bytes_as_base64() -> None:
    """Key, value and headers: text when UTF-8, base64 otherwise; all headers kept."""
    document = record_document(
        record(
            b"\xff\x00", key=b"k\xc3\xa9", headers=(("h", b"\xfe"), ("dqgate.stage", b"decode"))
        ),
        Redactor(),
    )
    assert (document["key"], document["key_encoding"]) == ("ké", "utf-8")
    assert base64.b64decode(document["value"]) == b"\xff\x00"
    assert document["value_encoding"] == "base64"
    assert document["headers"] == [
        {"name": "h", "value": base64.b64encode(b"\xfe").decode(), "encoding": "base64"},
        {"name": "dqgate.stage", "value": "decode", "encoding": "utf-8"},
    ]
    assert json.loads(json_line(document)) == document


def test_export_of_a_masked_value_has_no_value_only_its_size() -> None:
    """A masked value is null with encoding 'masked' and its size."""
    document = record_document(record(b"\xff" + SECRET_NAME.encode()), REDACT)
    assert document["value"] is None and document["value_encoding"] == "masked"
    assert document["value_size"] == 1 + len(SECRET_NAME)
    assert SECRET_NAME not in json_line(document).decode()


def test_csv_has_a_heading_and_one_row_per_record() -> None:
    """CSV rows carry the value, booleans as true/false and headers as JSON."""
    stream = io.StringIO()
    writer = CsvWriter(stream)
    writer.write_all([record_document(record(person()), REDACT)])
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert len(rows) == 1 and rows[0]["value_redacted"] == "true"
    assert SECRET_NAME not in stream.getvalue()
    assert json.loads(rows[0]["value"])["person_name"] == MASK


def test_the_values_header_is_redacted_again_with_the_command_line_fields() -> None:
    """dqgate.values (already redacted by the gate) is masked like a value by the CLI too."""
    from dqgate.routing import VALUES

    redactor = Redactor.of(["name"])
    ((_, shown),) = redactor.headers([(VALUES, b'{"name":"Jane","age":5}')])
    assert shown.redacted and shown.data == b'{"name":"[redacted]","age":5}'
    ((_, whole),) = redactor.headers([(VALUES, b"not json")])
    assert whole.masked and whole.data is None
    ((_, other),) = redactor.headers([("dqgate.reasons", b"name")])
    assert other.data == b"name"
