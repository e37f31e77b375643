"""Quarantined records as JSON documents (``show --json``, ``tail --json``, ``export``) and CSV.

Bytes (key, value, header values) are written as text when they are valid UTF-8 and as
base64 otherwise; each has an ``*_encoding`` of ``utf-8``, ``base64``, ``masked`` (withheld
by redaction: only its size is written) or null (the bytes are null). A redacted value
is the JSON object with the redacted members replaced, and ``value_redacted`` is true.

One JSON document per record::

    {"topic", "partition", "offset", "timestamp_ms", "timestamp",
     "key", "key_encoding", "value", "value_encoding", "value_size", "value_redacted",
     "headers": [{"name", "value", "encoding"}],            # all headers, in order
     "source": {"topic", "partition", "offset", "timestamp_ms"} | null,
     "suite", "suite_hash", "stage", "reasons": [...], "failures": [...],
     "quarantined_at", "replay_count", "replay_of", "problems": [...]}

CSV has one row per record with :data:`CSV_COLUMNS`; ``headers`` and ``failures`` are
JSON in their cells. ``fields`` (``--fields a,b.c``) adds one column per record field,
``value.a``, ``value.b.c``, right after ``value``: the field of the (redacted) JSON value
at that dotted path (a number in a path indexes a list), JSON text for objects and
arrays, empty when the value is not a JSON object or has no such field.

CSV cells cannot attack the reader: a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return, which a spreadsheet would run as a formula (OWASP, "CSV
injection"), is written with a leading ``'`` (a key ``=HYPERLINK(...)`` becomes the text
``'=HYPERLINK(...)``), in the heading row too; a plain number such as ``-5`` is left as
it is. ``raw=True`` (``--raw-csv``) writes every cell as it is.
"""

from __future__ import annotations

import base64
import csv
import re
from collections.abc import Iterable
from typing import IO, Any, Final

import orjson

from dqgate.quarantine.envelope import QuarantinedRecord
from dqgate.quarantine.selection import format_ms
from dqgate.redact import JsonNumber, Redactor, Shown, dump_document, load_document

__all__ = [
    "CSV_COLUMNS",
    "FORMULA_PREFIXES",
    "CsvWriter",
    "encode_bytes",
    "field_of",
    "json_line",
    "neutralise",
    "parse_fields",
    "record_document",
]

CSV_COLUMNS: Final = (
    "topic", "partition", "offset", "timestamp", "key", "key_encoding", "value",
    "value_encoding", "value_size", "value_redacted", "reasons", "expectations",
    "source_topic", "source_partition", "source_offset", "suite", "stage",
    "replay_count", "replay_of", "headers", "failures",
)  # fmt: skip
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""
_MISSING: Final = object()


_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a formula-like start gets a ``'``.

    A plain number (``-5``, ``-1.5e3``) is left alone: a spreadsheet reads it as a number.
    """
    if not text.startswith(FORMULA_PREFIXES) or _NUMBER.fullmatch(text):
        return text
    return "'" + text


def parse_fields(text: str) -> tuple[str, ...]:
    """``a,b.c`` -> ("a", "b.c"); ValueError for an empty path or path segment."""
    fields = tuple(f.strip() for f in text.split(","))
    for field in fields:
        if not field or any(not part for part in field.split(".")):
            raise ValueError(f"{text!r}: fields are dotted paths separated by commas, e.g. a,b.c")
    return fields


def field_of(document: Any, path: str) -> Any:
    """The member of ``document`` at a dotted ``path`` (a number indexes a list), else a
    sentinel that :func:`_field_cell` writes as an empty cell."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _field_cell(node: Any) -> Any:
    if node is _MISSING or node is None:
        return None
    if isinstance(node, str | bool | int | JsonNumber):
        return node if not isinstance(node, JsonNumber) else str(node)
    return dump_document(node).decode("utf-8")


def encode_bytes(shown: Shown) -> tuple[str | None, str | None]:
    """``(text, encoding)`` of shown bytes: UTF-8 text, base64, masked or null."""
    if shown.masked:
        return None, "masked"
    if shown.data is None:
        return None, None
    try:
        return shown.data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(shown.data).decode("ascii"), "base64"


def record_document(record: QuarantinedRecord, redactor: Redactor) -> dict[str, Any]:
    """The JSON document of one record, redacted as ``redactor`` says."""
    key, key_encoding = encode_bytes(redactor.key(record.key))
    shown = redactor.value(record.value)
    value, value_encoding = encode_bytes(shown)
    headers = []
    for name, header in redactor.headers(record.headers):
        text, encoding = encode_bytes(header)
        headers.append({"name": name, "value": text, "encoding": encoding})
    source = None
    if record.source_topic is not None:
        source = {
            "topic": record.source_topic,
            "partition": record.source_partition,
            "offset": record.source_offset,
            "timestamp_ms": record.source_timestamp_ms,
        }
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp_ms,
        "timestamp": None if record.timestamp_ms is None else format_ms(record.timestamp_ms),
        "key": key,
        "key_encoding": key_encoding,
        "value": value,
        "value_encoding": value_encoding,
        "value_size": None if record.value is None else len(record.value),
        "value_redacted": shown.redacted,
        "headers": headers,
        "source": source,
        "suite": record.suite,
        "suite_hash": record.suite_hash,
        "stage": record.stage,
        "reasons": list(record.reasons),
        "failures": [f.to_dict() for f in record.failures],
        "quarantined_at": record.quarantined_at,
        "replay_count": record.replay_count,
        "replay_of": record.replay_of,
        "problems": list(record.problems),
    }


def json_line(document: dict[str, Any]) -> bytes:
    """One document as a JSON line (UTF-8, newline-terminated)."""
    return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)


class CsvWriter:
    """Writes records as CSV rows (heading row first) to a text stream.

    ``fields``: record fields flattened into columns after ``value``; ``raw``: write
    formula-like cells as they are (see the module docstring).
    """

    def __init__(self, stream: IO[str], *, fields: tuple[str, ...] = (), raw: bool = False) -> None:
        # CRLF, as RFC 4180 says: the csv module quotes a cell holding any character of
        # the line terminator, so a carriage return inside a cell cannot start a new row
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._fields = fields
        self._raw = raw
        at = CSV_COLUMNS.index("value") + 1
        self._columns = (*CSV_COLUMNS[:at], *(f"value.{f}" for f in fields), *CSV_COLUMNS[at:])
        self._writer.writerow([self._cell(c) for c in self._columns])

    def _cell(self, value: Any) -> Any:
        cell = _cell(value)
        return neutralise(cell) if isinstance(cell, str) and not self._raw else cell

    def write(self, document: dict[str, Any]) -> None:
        """Write one record given as its :func:`record_document`."""
        source = document["source"] or {}
        row = {
            **document,
            "reasons": ",".join(document["reasons"]),
            "expectations": ",".join(
                dict.fromkeys(f["expectation_id"] for f in document["failures"])
            ),
            "source_topic": source.get("topic"),
            "source_partition": source.get("partition"),
            "source_offset": source.get("offset"),
            "headers": orjson.dumps(document["headers"]).decode("utf-8"),
            "failures": orjson.dumps(document["failures"]).decode("utf-8"),
        }
        if self._fields:
            text = document["value"] if document["value_encoding"] == "utf-8" else None
            parsed = load_document(text.encode("utf-8")) if text is not None else None
            for field in self._fields:
                found = field_of(parsed, field) if isinstance(parsed, dict) else _MISSING
                row[f"value.{field}"] = _field_cell(found)
        self._writer.writerow([self._cell(row[c]) for c in self._columns])

    def write_all(self, documents: Iterable[dict[str, Any]]) -> None:
        """Write several records."""
        for document in documents:
            self.write(document)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
