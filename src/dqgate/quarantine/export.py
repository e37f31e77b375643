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
JSON in their cells.
"""

from __future__ import annotations

import base64
import csv
from collections.abc import Iterable
from typing import IO, Any, Final

import orjson

from dqgate.quarantine.envelope import QuarantinedRecord
from dqgate.quarantine.redact import Redactor, Shown
from dqgate.quarantine.selection import format_ms

__all__ = ["CSV_COLUMNS", "CsvWriter", "encode_bytes", "json_line", "record_document"]

CSV_COLUMNS: Final = (
    "topic", "partition", "offset", "timestamp", "key", "key_encoding", "value",
    "value_encoding", "value_size", "value_redacted", "reasons", "expectations",
    "source_topic", "source_partition", "source_offset", "suite", "stage",
    "replay_count", "replay_of", "headers", "failures",
)  # fmt: skip


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
    """Writes records as CSV rows (header row first) to a text stream."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)

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
        self._writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])

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
