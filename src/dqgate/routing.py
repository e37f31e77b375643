"""Verdict -> output record: topic, key, value, headers and timestamp.

The output keeps the source record byte for byte: key, value (``None`` for a tombstone),
every original header in its original order, and the original timestamp. dqgate adds
UTF-8 headers after the original ones. The ``dqgate.*`` headers of an output are the
gate's own: one that arrived with the source record (a producer can set
``dqgate.source.offset`` too) is kept, value unchanged, under ``dqgate.original.*``; only
replay headers sealed by ``dqgate quarantine replay`` pass as they are (see
:mod:`dqgate.provenance`).

Every output (clean and quarantine) carries the four lineage headers, which identify the
source record exactly, so duplicates after a crash can be counted and removed:

=========================== =============================================================
``dqgate.source.topic``     source topic name
``dqgate.source.partition`` source partition, decimal
``dqgate.source.offset``    source offset, decimal
``dqgate.source.timestamp`` source timestamp, epoch milliseconds, decimal (absent if none)
=========================== =============================================================

Quarantined records also carry:

=========================== =============================================================
``dqgate.suite``            suite name
``dqgate.suite.hash``       hex sha256 of the suite file
``dqgate.stage``            ``decode`` | ``validate``
``dqgate.reasons``          comma-separated reason classes of the enforced failures
``dqgate.failures``         JSON list of ``{expectation_id, type, column, reason}`` of the
                            enforced failures (never a record value)
``dqgate.gate.version``     version of the dqgate that quarantined the record
``dqgate.quarantined_at``   when, ISO 8601 UTC with milliseconds (``...T12:00:00.000Z``)
=========================== =============================================================

Only when the gate is configured with ``quarantine_values: true`` (off by default):

=========================== =============================================================
``dqgate.values``           JSON object: the failing columns' values, with the configured
                            redaction applied (see :mod:`dqgate.gate.values`)
=========================== =============================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Final, Protocol

import orjson

from dqgate import __version__
from dqgate.provenance import ReplaySeal, own_headers
from dqgate.verdict import Outcome, Verdict

__all__ = [
    "FAILURES",
    "GATE_VERSION",
    "LINEAGE_HEADERS",
    "QUARANTINED_AT",
    "QUARANTINE_HEADERS",
    "REASONS",
    "SOURCE_OFFSET",
    "SOURCE_PARTITION",
    "SOURCE_TIMESTAMP",
    "SOURCE_TOPIC",
    "STAGE",
    "SUITE",
    "SUITE_HASH",
    "VALUES",
    "Consumed",
    "Header",
    "Output",
    "OutputRecord",
    "RouteHeaders",
    "RouteTarget",
    "SourceRecord",
    "lineage_of",
    "quarantined_at",
    "route",
]

SOURCE_TOPIC: Final = "dqgate.source.topic"
SOURCE_PARTITION: Final = "dqgate.source.partition"
SOURCE_OFFSET: Final = "dqgate.source.offset"
SOURCE_TIMESTAMP: Final = "dqgate.source.timestamp"
SUITE: Final = "dqgate.suite"
SUITE_HASH: Final = "dqgate.suite.hash"
STAGE: Final = "dqgate.stage"
REASONS: Final = "dqgate.reasons"
FAILURES: Final = "dqgate.failures"
GATE_VERSION: Final = "dqgate.gate.version"
QUARANTINED_AT: Final = "dqgate.quarantined_at"
VALUES: Final = "dqgate.values"

LINEAGE_HEADERS: Final = (SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET, SOURCE_TIMESTAMP)
"""Headers on every output record (clean and quarantine)."""
QUARANTINE_HEADERS: Final = (
    *LINEAGE_HEADERS,
    SUITE,
    SUITE_HASH,
    STAGE,
    REASONS,
    FAILURES,
    GATE_VERSION,
    QUARANTINED_AT,
)
"""Headers on every quarantined record, in the order they are added."""

Header = tuple[str, bytes | None]


class Consumed(Protocol):
    """A consumed record as the engines and the routing read it: the fields of aiokafka's
    ``ConsumerRecord`` (``timestamp`` in epoch ms), which :class:`SourceRecord` has too."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def timestamp(self) -> int | None: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[Header]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRecord:
    """A consumed record, with aiokafka's ``ConsumerRecord`` field names.

    ``timestamp``: epoch milliseconds (None: the record has none). The batch engine routes
    aiokafka's records as they are; the faust engine, the stubs of refused records, the
    tools and the tests build this one type.
    """

    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()

    @property
    def where(self) -> str:
        """``topic[partition]@offset``, for logs (never the values)."""
        return f"{self.topic}[{self.partition}]@{self.offset}"

    def header(self, name: str) -> bytes | None:
        """The first header named ``name`` (None if absent)."""
        return next((v for n, v in self.headers if n == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteTarget:
    """Where a route sends records, and the suite that decides."""

    clean: str
    quarantine: str
    suite_name: str
    suite_hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputRecord:
    """What to produce: the source bytes, unchanged, plus dqgate's headers."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp_ms: int | None
    quarantined: bool


def route(
    record: Consumed,
    verdict: Verdict,
    target: RouteTarget,
    *,
    now_ms: int | None = None,
    values: bytes | None = None,
    seal: ReplaySeal | None = None,
) -> OutputRecord:
    """The output record for ``record`` given its ``verdict`` (``now_ms``: quarantine time).

    ``values``: the opt-in ``dqgate.values`` header of a quarantined record (None: none).
    One record through :meth:`RouteHeaders.route_batch`, the engines' batch form.
    """
    at = quarantined_at(now_ms if now_ms is not None else time.time_ns() // 1_000_000)
    extra = None if values is None else (lambda value, verdict: values)
    ((topic, key, value, headers, stamp),) = RouteHeaders(target, seal=seal).route_batch(
        [record], [verdict], at, extra
    )
    return OutputRecord(
        topic=topic,
        key=key,
        value=value,
        headers=tuple(headers),
        timestamp_ms=stamp,
        quarantined=verdict.outcome is not Outcome.PASS,
    )


def quarantined_at(epoch_ms: int) -> bytes:
    """The ``dqgate.quarantined_at`` header value for ``epoch_ms`` (ISO 8601 UTC, ms)."""
    return _iso_utc(epoch_ms)


Output = tuple[str, bytes | None, bytes | None, list[Header], int | None]
"""What to produce for one record: topic, key, value, headers, timestamp (ms)."""


class RouteHeaders:
    """Routes the batches of one route, every constant part of the headers encoded once.

    Lineage names and the source topic and partition values are cached; the quarantine
    headers of a verdict (all but the time) are built once per distinct Verdict object
    (suites share one Verdict per outcome), so routing a record costs a few tuples.
    """

    __slots__ = ("_partitions", "_seal", "_verdicts", "target")

    _MAX_CACHED_VERDICTS: Final = 4096

    def __init__(self, target: RouteTarget, *, seal: ReplaySeal | None = None) -> None:
        """``seal``: checks the replay tool's seal on replay headers (None: none trusted)."""
        self.target = target
        self._seal = seal
        self._partitions: dict[tuple[str, int], tuple[Header, Header]] = {}
        self._verdicts: dict[int, tuple[Verdict, tuple[Header, ...]]] = {}

    def route_batch(
        self,
        records: Sequence[Consumed],
        verdicts: Sequence[Verdict],
        at: bytes,
        values: Callable[[bytes | None, Verdict], bytes | None] | None = None,
    ) -> list[Output]:
        """The output of each record (one source partition; consumer records with
        ``topic, partition, offset, timestamp`` (ms), ``key, value, headers``).

        Each keeps its key, value, timestamp and original headers, followed by the gate's.
        ``at``: the ``dqgate.quarantined_at`` value (:func:`quarantined_at`), one per batch;
        ``values``: the opt-in ``dqgate.values`` header of a quarantined record, if on.
        """
        if not records:
            return []
        first = records[0]
        slot = (first.topic, first.partition)
        prefix = self._partitions.get(slot)
        if prefix is None:
            prefix = self._partitions[slot] = (
                (SOURCE_TOPIC, first.topic.encode("utf-8")),
                (SOURCE_PARTITION, b"%d" % first.partition),
            )
        topic_header, partition_header = prefix
        clean, quarantine = self.target.clean, self.target.quarantine
        seal = self._seal
        passed = Outcome.PASS
        tails: dict[int, tuple[Header, ...]] = {}
        outputs: list[Output] = []
        append = outputs.append
        for record, verdict in zip(records, verdicts, strict=True):
            stamp = record.timestamp
            if stamp is not None and stamp >= 0:
                added = [
                    topic_header,
                    partition_header,
                    (SOURCE_OFFSET, b"%d" % record.offset),
                    (SOURCE_TIMESTAMP, b"%d" % stamp),
                ]
            else:
                added = [topic_header, partition_header, (SOURCE_OFFSET, b"%d" % record.offset)]
            if verdict.outcome is passed:
                out = clean
            else:
                out = quarantine
                tail = tails.get(id(verdict))
                if tail is None:
                    tail = tails[id(verdict)] = (*self._quarantine(verdict), (QUARANTINED_AT, at))
                added.extend(tail)
                if values is not None:
                    shown = values(record.value, verdict)
                    if shown is not None:
                        added.append((VALUES, shown))
            original = record.headers
            if original:
                added = own_headers(original, added, seal=seal, key=record.key, value=record.value)
            append((out, record.key, record.value, added, stamp))
        return outputs

    def _quarantine(self, verdict: Verdict) -> tuple[Header, ...]:
        cached = self._verdicts.get(id(verdict))
        if cached is not None and cached[0] is verdict:
            return cached[1]
        built = tuple(_quarantine_headers(verdict, self.target))
        if len(self._verdicts) >= self._MAX_CACHED_VERDICTS:
            self._verdicts.clear()
        self._verdicts[id(verdict)] = (verdict, built)
        return built


def _quarantine_headers(verdict: Verdict, target: RouteTarget) -> list[Header]:
    """The quarantine headers of ``verdict`` but the time (``dqgate.quarantined_at``)."""
    failures = [
        {
            "expectation_id": f.expectation_id,
            "type": f.type,
            "column": list(f.column) if isinstance(f.column, tuple) else f.column,
            "reason": str(f.reason),
        }
        for f in verdict.enforced
    ]
    return [
        (SUITE, target.suite_name.encode("utf-8")),
        (SUITE_HASH, target.suite_hash.encode("utf-8")),
        (STAGE, str(verdict.stage).encode("utf-8")),
        (REASONS, ",".join(str(r) for r in verdict.reasons).encode("utf-8")),
        (FAILURES, orjson.dumps(failures)),
        (GATE_VERSION, _version_bytes()),
    ]


@lru_cache(maxsize=4)
def _iso_utc(epoch_ms: int) -> bytes:
    when = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z").encode("ascii")


@cache
def _version_bytes() -> bytes:
    return __version__.encode("utf-8")


def lineage_of(headers: Sequence[Header]) -> tuple[str, int, int] | None:
    """``(topic, partition, offset)`` from an output record's lineage headers, or None."""
    found: dict[str, bytes] = {}
    for name, value in headers:
        if name in (SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET) and value is not None:
            found.setdefault(name, value)
    try:
        return (
            found[SOURCE_TOPIC].decode("utf-8"),
            int(found[SOURCE_PARTITION]),
            int(found[SOURCE_OFFSET]),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
