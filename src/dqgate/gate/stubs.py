"""A record its output refuses goes to quarantine as a stub, so no record wedges a partition.

When the broker refuses a record itself (too large for the output topic once the gate's
headers are added, a timestamp outside the topic's bounds, a record it calls corrupt),
retrying or restarting cannot help: before, the worker exited (code 3), restarted, hit
the same record, forever, and every other route of the worker stopped with it. Now the
records of a refused record batch are sent again one by one (a batch of small records
can be refused as a whole when a topic's limit was lowered), and each record that is
refused alone goes to the quarantine topic as a stub:

- no value (an empty one); the key and the producer's headers when they are small
  (``dqgate.stub.dropped`` lists what was left out);
- the usual lineage and quarantine headers: stage ``deliver``, reason
  ``output_too_large`` (or ``evaluation_error`` for another refusal) beside the record's
  own failures, so the source coordinates say where to fetch the original while the
  source's retention keeps it;
- ``dqgate.stub.size`` and ``dqgate.stub.sha256`` of the original value,
  ``dqgate.stub.topic`` (the output that refused it) and ``dqgate.stub.error`` (the
  broker's error class).

Only a quarantine topic that refuses even the stub ends the worker (exit 3), naming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from dqgate.routing import Consumed, Header, Output, SourceRecord
from dqgate.verdict import Failure, Outcome, Reason, Stage, Verdict

__all__ = [
    "DELIVER_ID",
    "STUB_DROPPED",
    "STUB_ERROR",
    "STUB_SHA256",
    "STUB_SIZE",
    "STUB_TOPIC",
    "output_size",
    "refused_record",
    "stub_headers",
    "stub_record",
    "stub_verdict",
]

DELIVER_ID: Final = "dqgate.deliver"
STUB_SIZE: Final = "dqgate.stub.size"
STUB_SHA256: Final = "dqgate.stub.sha256"
STUB_TOPIC: Final = "dqgate.stub.topic"
STUB_ERROR: Final = "dqgate.stub.error"
STUB_DROPPED: Final = "dqgate.stub.dropped"
MAX_KEPT_KEY_BYTES: Final = 1024
MAX_KEPT_HEADER_BYTES: Final = 8 * 1024
_TOO_LARGE: Final = frozenset({"MessageSizeTooLargeError", "RecordListTooLargeError"})
_REFUSED: Final = _TOO_LARGE | {"CorruptRecordException", "InvalidTimestampError"}


def output_size(output: Output) -> int:
    """The bytes of an output record that count against a topic's ``max.message.bytes``
    (key, value and headers; the record's framing left out)."""
    _topic, key, value, headers, _stamp = output
    return (
        len(key or b"")
        + len(value or b"")
        + sum(len(name) + len(data or b"") for name, data in headers)
    )


def refused_record(error: BaseException) -> bool:
    """True for broker errors about the record itself, which no retry can fix."""
    return type(error).__name__ in _REFUSED


def stub_verdict(suite: str, verdict: Verdict, topic: str, error: BaseException) -> Verdict:
    """The stub's verdict: the record's own failures and why it could not be written."""
    too_large = type(error).__name__ in _TOO_LARGE
    failure = Failure(
        suite=suite,
        expectation_id=DELIVER_ID,
        type="dqgate_deliver",
        column=None,
        reason=Reason.OUTPUT_TOO_LARGE if too_large else Reason.EVALUATION_ERROR,
        message=f"{topic} refused the record ({type(error).__name__}); quarantined as a stub",
    )
    outcome = Outcome.ERROR if verdict.outcome is Outcome.ERROR else Outcome.QUARANTINE
    return Verdict(outcome=outcome, failures=(*verdict.failures, failure), stage=Stage.DELIVER)


def stub_record(record: Consumed, *, keep_timestamp: bool) -> tuple[SourceRecord, list[str]]:
    """The stub of a consumed record, and what it leaves out (``dqgate.stub.dropped``)."""
    dropped = ["value"]
    key = record.key
    if key is not None and len(key) > MAX_KEPT_KEY_BYTES:
        key = None
        dropped.append("key")
    headers: Sequence[Header] = record.headers or ()
    size = sum(len(name) + len(value or b"") for name, value in headers)
    if size > MAX_KEPT_HEADER_BYTES:
        headers = ()
        dropped.append("headers")
    stub = SourceRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp if keep_timestamp else None,
        key=key,
        value=b"",
        headers=tuple(headers),
    )
    return stub, dropped


def stub_headers(
    record: Consumed, dropped: Sequence[str], topic: str, error: BaseException
) -> list[Header]:
    """The stub's own headers: the original value's size and digest, why, and what the
    stub left out (``dropped``, from :func:`stub_record`)."""
    value: bytes = record.value or b""
    return [
        (STUB_SIZE, b"%d" % len(value)),
        (STUB_SHA256, hashlib.sha256(value).hexdigest().encode("ascii")),
        (STUB_TOPIC, topic.encode("utf-8")),
        (STUB_ERROR, type(error).__name__.encode("utf-8")),
        (STUB_DROPPED, ",".join(dropped).encode("utf-8")),
    ]
