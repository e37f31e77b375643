"""Re-produce quarantined records to their source topic (or another), with a loop guard.

Each replayed record is produced with its original key, value and timestamp (so
event-time consumers and ``--since``/``--until`` see it where it belongs), its non-dqgate
headers in their original order, then the replay headers written by
:func:`replay_headers`: ``dqgate.replay.count`` (its count plus one), ``dqgate.replay.of``
(``topic/partition/offset`` of the quarantined record) and ``dqgate.replay.at`` (the time
of the replay); every other ``dqgate.*`` header is dropped, so the gate judges it afresh.
The partition is chosen by the producer from the key, as for any record. The target is
``--to`` or the record's ``dqgate.source.topic``.

**One copy per origin** (the default). A record replayed and quarantined again leaves
one more copy in the quarantine topic each time; replaying them all would send the same
record downstream once per copy. So the selection is first read whole (from ``since`` to
the end, without filters) to join copies into origins (:mod:`dqgate.quarantine.origins`),
and the clean topics (the routes' of ``--config``, or ``--clean``) are read for copies
that already passed. Then, of each origin, only the latest copy is replayed, and none
when a copy already reached clean: other copies are *skipped* (``older_copy``,
``reached_clean``). ``all_copies`` (``--all-copies``) replays every selected copy.

Refused, never produced: records already replayed ``max_replays`` times (the loop guard),
records whose replay count is unreadable, records without a source topic and no ``--to``.

The producer is idempotent with acks=all. Progress is checkpointed (see
:mod:`dqgate.quarantine.checkpoint`) after each chunk once every record of it is
acknowledged, so a replay that is interrupted, even by SIGKILL, resumes after the last
checkpoint: only records produced after it can be produced twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dqgate.errors import ConfigError, DeliveryError
from dqgate.provenance import ORIGINAL_PREFIX, REPLAY_SIG, ReplaySeal
from dqgate.quarantine.checkpoint import DEFAULT_STATE_DIR, SOURCE_TARGET, Checkpoint
from dqgate.quarantine.envelope import REPLAY_AT, REPLAY_COUNT, REPLAY_OF, QuarantinedRecord
from dqgate.quarantine.origins import Origins, coordinates
from dqgate.quarantine.progress import Progress
from dqgate.quarantine.reader import QuarantineReader, topic_partitions
from dqgate.quarantine.selection import Selection, format_ms
from dqgate.routing import Header

__all__ = [
    "OLDER_COPY",
    "REACHED_CLEAN",
    "ReplayOptions",
    "ReplayReport",
    "decide",
    "replay",
    "replay_headers",
]

OLDER_COPY: Final = "older_copy"
"""Skipped: a later copy of the same origin is in the quarantine topic."""
REACHED_CLEAN: Final = "reached_clean"
"""Skipped: a copy of the same origin already passed into a clean topic."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOptions:
    """How to replay: target, loop guard, pace, checkpointing."""

    target: str | None = None
    """None: each record's source topic."""
    max_replays: int = 3
    rate_per_s: float | None = None
    dry_run: bool = False
    chunk_size: int = 500
    checkpoint_interval_s: float = 1.0
    state_dir: Path = DEFAULT_STATE_DIR
    ignore_checkpoint: bool = False
    all_copies: bool = False
    """Replay every selected copy (no grouping by origin, no clean check)."""
    clean_topics: tuple[str, ...] = ()
    """Clean topics to look for copies that already passed (empty: not checked)."""
    seal: ReplaySeal | None = None
    """Seals the replay headers for the gate (``replay.key_file``); None: unsealed, so the
    gate does not trust them and the next replay counts from zero."""


@dataclass(slots=True, kw_only=True)
class ReplayReport:
    """What one replay run did (``totals``: all runs of this checkpoint together).

    Copies are records of the quarantine topic; origins are the distinct source records
    they are copies of (see :mod:`dqgate.quarantine.origins`).
    """

    topic: str
    target: str
    dry_run: bool
    checkpoint: str
    all_copies: bool = False
    clean_topics: tuple[str, ...] = ()
    resumed_after: dict[int, int] = field(default_factory=dict)
    selected: int = 0
    replayed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    by_target: Counter[str] = field(default_factory=Counter)
    origins: set[str] = field(default_factory=set)
    replayed_origins: set[str] = field(default_factory=set)
    refused_origins: set[str] = field(default_factory=set)
    fetched: int = 0
    total_replayed: int = 0
    total_refused: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {
            "topic": self.topic,
            "target": self.target,
            "dry_run": self.dry_run,
            "all_copies": self.all_copies,
            "clean_topics": list(self.clean_topics),
            "checkpoint": self.checkpoint,
            "resumed_after": {str(p): o for p, o in sorted(self.resumed_after.items())},
            "selected": self.selected,
            "origins": len(self.origins),
            "replayed": self.replayed,
            "replayed_origins": len(self.replayed_origins),
            "skipped": sum(self.skipped.values()),
            "skipped_by_cause": dict(sorted(self.skipped.items())),
            "refused": sum(self.refused.values()),
            "refused_by_cause": dict(sorted(self.refused.items())),
            "refused_origins": len(self.refused_origins),
            "by_target": dict(sorted(self.by_target.items())),
            "fetched": self.fetched,
            "total_replayed": self.total_replayed,
            "total_refused": self.total_refused,
        }


def decide(record: QuarantinedRecord, options: ReplayOptions) -> tuple[str | None, str | None]:
    """``(target, None)`` to replay the record, ``(None, cause)`` to refuse it (loop guard,
    no target); grouping by origin is the caller's (:func:`skip_cause`)."""
    if record.replay_count is None:
        return None, "unreadable_replay_count"
    if record.replay_count >= options.max_replays:
        return None, "max_replays"
    target = options.target or record.source_topic
    if target is None:
        return None, "no_source_topic"
    return target, None


def skip_cause(record: QuarantinedRecord, origins: Origins, options: ReplayOptions) -> str | None:
    """Why a copy is not replayed although it may be (None: replay it)."""
    if options.all_copies:
        return None
    at = coordinates(record)
    if options.clean_topics and origins.reached_clean(at):
        return REACHED_CLEAN
    if not origins.latest(at):
        return OLDER_COPY
    return None


def replay_headers(
    record: QuarantinedRecord, *, now_ms: int | None = None, seal: ReplaySeal | None = None
) -> list[Header]:
    """The headers of the replayed record: those the producer sent (``dqgate.original.*``
    ones included), then the replay headers (count, the quarantined record it comes from,
    the time of the replay) and, with a ``seal``, ``dqgate.replay.sig`` so the gate
    trusts them.

    The one place that writes ``dqgate.replay.*``.
    """
    count = (record.replay_count or 0) + 1
    at = format_ms(int(time.time() * 1000) if now_ms is None else now_ms)
    replay: list[Header] = [
        (REPLAY_COUNT, str(count).encode()),
        (REPLAY_OF, coordinates(record).encode()),
        (REPLAY_AT, at.encode()),
    ]
    if seal is not None:
        replay.append((REPLAY_SIG, seal.sign(replay, record.key, record.value)))
    kept = [h for h in record.headers if h[0].startswith(ORIGINAL_PREFIX)]
    return [*record.user_headers, *kept, *replay]


async def _read_origins(
    options: Mapping[str, Any], selection: Selection, settings: ReplayOptions
) -> Origins:
    """Every copy from the selection's ``since`` on (no filters), and the clean topics."""
    origins = Origins()
    if settings.all_copies:
        return origins
    whole = Selection(topic=selection.topic, since=selection.since)
    async with QuarantineReader(options, whole) as reader:
        async for record in reader.records():
            origins.add(record)
    for clean in settings.clean_topics:
        try:
            await topic_partitions(options, clean)
        except ConfigError:  # not created yet: nothing reached it
            continue
        async with QuarantineReader(options, Selection(topic=clean)) as reader:
            async for record in reader.records():
                origins.add_clean(record)
    return origins


class _Pacer:
    def __init__(self, rate_per_s: float | None) -> None:
        self._interval_s = 1.0 / rate_per_s if rate_per_s else 0.0
        self._next = time.monotonic()

    async def wait(self) -> None:
        if not self._interval_s:
            return
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next = max(self._next, time.monotonic()) + self._interval_s


async def replay(
    options: Mapping[str, Any],
    selection: Selection,
    settings: ReplayOptions,
    *,
    progress: Callable[[int], Progress] | None = None,
) -> ReplayReport:
    """Replay ``selection``; returns the report. DeliveryError when a produce fails."""
    if settings.target is not None and settings.target == selection.topic:
        raise ConfigError(f"--to {settings.target} is the quarantine topic being replayed")
    label = settings.target or SOURCE_TARGET
    key = f"{label}+all-copies" if settings.all_copies else label
    if settings.ignore_checkpoint:
        path = Checkpoint.path_for(settings.state_dir, selection, key)
        ckpt = Checkpoint(
            path=path, topic=selection.topic, target=key, selection=selection.describe()
        )
    else:
        ckpt = Checkpoint.load(settings.state_dir, selection, key)
    report = ReplayReport(
        topic=selection.topic,
        target=label,
        dry_run=settings.dry_run,
        checkpoint=str(ckpt.path),
        all_copies=settings.all_copies,
        clean_topics=() if settings.all_copies else settings.clean_topics,
        resumed_after=dict(ckpt.offsets),
    )
    origins = await _read_origins(options, selection, settings)
    async with QuarantineReader(options, selection, resume_after=ckpt.offsets) as reader:
        ranges = await reader.plan()
        bar = (progress or (lambda total: Progress(total, enabled=False)))(reader.stats.planned)
        run = _Run(options, settings, ckpt, report, origins)
        try:
            await run.start()
            async for record in reader.records():
                await run.handle(record)
                bar.done = reader.stats.fetched
                bar.advance(
                    0, note=f"replayed {report.replayed}  refused {sum(report.refused.values())}"
                )
            limited = selection.limit is not None and report.selected >= selection.limit
            if not limited:  # the whole planned range was read: nothing left below its end
                for span in ranges:
                    if span.size:
                        run.done[span.partition] = max(
                            run.done.get(span.partition, -1), span.stop - 1
                        )
            await run.flush(complete=not limited)
        except asyncio.CancelledError:
            await run.flush(complete=False)  # keep what the broker acknowledged
            raise
        finally:
            report.fetched = reader.stats.fetched
            bar.close()
            await run.stop()
    report.total_replayed, report.total_refused = ckpt.replayed, ckpt.refused
    return report


class _Run:
    """The producing side of one replay: pending sends, chunk flushes, checkpoint."""

    def __init__(
        self,
        options: Mapping[str, Any],
        settings: ReplayOptions,
        ckpt: Checkpoint,
        report: ReplayReport,
        origins: Origins,
    ) -> None:
        self._origins = origins
        self._options = options
        self._settings = settings
        self._ckpt = ckpt
        self._report = report
        self._producer: Any = None
        self._pending: list[tuple[Any, QuarantinedRecord, str]] = []
        self._pacer = _Pacer(settings.rate_per_s)
        self._targets: set[str] = set()
        self._flushed_at = time.monotonic()
        self._replayed = 0
        self._refused = 0
        self.done: dict[int, int] = {}

    async def start(self) -> None:
        if self._settings.dry_run:
            return
        from aiokafka import AIOKafkaProducer

        self._producer = AIOKafkaProducer(**self._options, enable_idempotence=True, acks="all")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def handle(self, record: QuarantinedRecord) -> None:
        report = self._report
        report.selected += 1
        origin = self._origins.origin_of(self._origins.add(record))
        report.origins.add(origin)
        skipped = skip_cause(record, self._origins, self._settings)
        target, cause = decide(record, self._settings) if skipped is None else (None, None)
        if skipped is not None:
            report.skipped[skipped] += 1
            _log.debug("skipped %s: %s", record.where, skipped)
        elif target is None:
            assert cause is not None
            report.refused[cause] += 1
            report.refused_origins.add(origin)
            self._refused += 1
            _log.debug("refused %s: %s", record.where, cause)
        else:
            if target not in self._targets:
                await topic_partitions(self._options, target)  # ConfigError when missing
                self._targets.add(target)
            await self._pacer.wait()
            if self._producer is not None:
                self._pending.append((await self._send(record, target), record, target))
            report.replayed += 1
            report.replayed_origins.add(origin)
            report.by_target[target] += 1
            self._replayed += 1
        self.done[record.partition] = record.offset
        chunk_full = len(self._pending) >= self._settings.chunk_size
        if (
            chunk_full
            or time.monotonic() - self._flushed_at >= self._settings.checkpoint_interval_s
        ):
            await self.flush(complete=False)

    async def _send(self, record: QuarantinedRecord, target: str) -> Any:
        from aiokafka.errors import KafkaError

        try:
            return await self._producer.send(
                target,
                record.value,
                key=record.key,
                headers=replay_headers(record, seal=self._settings.seal),
                timestamp_ms=record.timestamp_ms,
            )
        except KafkaError as exc:
            raise DeliveryError(
                f"replay of {record.where} to {target} failed: {type(exc).__name__}: {exc}; "
                "records up to the last checkpoint are replayed, rerun to resume"
            ) from exc

    async def flush(self, *, complete: bool) -> None:
        """Wait for every pending ack, then save the checkpoint (not in a dry run)."""
        pending, self._pending = self._pending, []
        results = await asyncio.gather(*(f for f, _, _ in pending), return_exceptions=True)
        for result, (_, record, target) in zip(results, pending, strict=True):
            if isinstance(result, BaseException):
                raise DeliveryError(
                    f"replay of {record.where} to {target} was not acknowledged: "
                    f"{type(result).__name__}: {result}; rerun to resume from the last checkpoint"
                ) from result
        self._flushed_at = time.monotonic()
        ckpt = self._ckpt
        for partition, offset in self.done.items():
            ckpt.offsets[partition] = max(ckpt.offsets.get(partition, -1), offset)
        self.done.clear()
        ckpt.replayed += self._replayed
        ckpt.refused += self._refused
        self._replayed = self._refused = 0
        ckpt.complete = complete
        if not self._settings.dry_run:
            ckpt.save()
