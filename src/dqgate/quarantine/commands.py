"""Handlers of ``dqgate quarantine ...`` (the parsers are in :mod:`dqgate.cli.quarantine`).

Output: human text on stdout by default. ``--json``: ``show`` and ``tail`` write one JSON
document per record per line (JSON lines, see :mod:`dqgate.quarantine.export`); ``ls``,
``stats``, ``replay`` and ``export``'s summary write one JSON document. The closing
summary of ``show`` and ``tail`` goes to stderr, so their stdout holds only records.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any, Final

import orjson

from dqgate.errors import ConfigError
from dqgate.quarantine import export, render
from dqgate.quarantine.audit import RevealAudit, audited
from dqgate.quarantine.context import (
    Context,
    context_of,
    redactor_of,
    reveal_audit_of,
    run_async,
    selection_of,
    stdout_guard,
    write_atomically,
)
from dqgate.quarantine.exits import (
    EXIT_DELIVERY_FAILED,
    EXIT_NOTHING_SELECTED,
    EXIT_OK,
    EXIT_REFUSED,
)
from dqgate.quarantine.reader import QuarantineReader
from dqgate.quarantine.replay import OLDER_COPY, REACHED_CLEAN, ReplayReport
from dqgate.quarantine.selection import Selection, format_ms
from dqgate.quarantine.stats import GroupBy, Tally

__all__ = ["export_records", "ls", "replay", "show", "stats", "tail"]


def _emit_records(
    args: argparse.Namespace,
    command: str,
    stream: Callable[[QuarantineReader], AsyncIterator[Any]],
) -> int:
    context = context_of(args)
    selection = selection_of(args, context)
    redactor = redactor_of(args, context)
    out = sys.stdout

    async def go(audit: RevealAudit | None) -> QuarantineReader:
        async with QuarantineReader(context.options, selection) as reader:
            async for record in stream(reader):
                if audit is not None:
                    audit.records += 1
                if args.json:
                    document = export.record_document(record, redactor)
                    out.write(export.json_line(document).decode("utf-8"))
                else:
                    out.write("\n".join(render.format_record(record, redactor)) + "\n\n")
                if command == "tail":
                    out.flush()
            return reader

    with audited(reveal_audit_of(args, context, command, selection)) as audit, stdout_guard():
        reader = run_async(go(audit))
    s = reader.stats
    summary = f"dqgate: {s.matched} record(s) from {selection.topic}"
    if command == "show":
        summary += f" (fetched {s.fetched}; {s.planned} offsets in the planned ranges)"
    print(summary, file=sys.stderr)
    return 0


def show(args: argparse.Namespace) -> int:
    """``quarantine show``."""
    return _emit_records(args, "show", lambda reader: reader.records())


def tail(args: argparse.Namespace) -> int:
    """``quarantine tail``."""
    return _emit_records(args, "tail", lambda reader: reader.follow())


def stats(args: argparse.Namespace) -> int:
    """``quarantine stats``."""
    context = context_of(args)
    selection = selection_of(args, context)
    tally = Tally(by=GroupBy(args.by), distinct=args.distinct)

    async def go() -> QuarantineReader:
        async with QuarantineReader(context.options, selection) as reader:
            async for record in reader.records():
                tally.add(record)
            return reader

    reader = run_async(go())
    document = {
        "topic": selection.topic,
        "since": None if selection.since is None else format_ms(selection.since.epoch_ms),
        "until": None if selection.until is None else format_ms(selection.until.epoch_ms),
        **tally.to_dict(),
        "fetched": reader.stats.fetched,
    }
    with stdout_guard():
        if args.json:
            print(orjson.dumps(document).decode("utf-8"))
        else:
            rows = [(key, count, f"{share:.1%}") for key, count, share in tally.rows()]
            unit = "origins" if tally.distinct else "records"
            print("\n".join(render.table((str(tally.by), unit, "share"), rows)))
            if tally.distinct:
                print(
                    f"{tally.origins} distinct origin(s) of {tally.records} record(s) "
                    f"in {selection.topic}"
                )
            else:
                print(f"{tally.records} record(s) in {selection.topic}")
    return 0


def export_records(args: argparse.Namespace) -> int:
    """``quarantine export``."""
    if args.format != "csv" and (args.fields or args.raw_csv):
        raise ConfigError("--fields and --raw-csv are for --format csv")
    context = context_of(args)
    selection = selection_of(args, context)
    redactor = redactor_of(args, context)
    out: Path | None = None if args.out == "-" else Path(args.out)

    async def go(stream: IO[str], audit: RevealAudit | None) -> QuarantineReader:
        writer = (
            export.CsvWriter(stream, fields=args.fields or (), raw=args.raw_csv)
            if args.format == "csv"
            else None
        )
        async with QuarantineReader(context.options, selection) as reader:
            async for record in reader.records():
                if audit is not None:
                    audit.records += 1
                document = export.record_document(record, redactor)
                if writer is not None:
                    writer.write(document)
                else:
                    stream.write(export.json_line(document).decode("utf-8"))
            return reader

    with audited(reveal_audit_of(args, context, "export", selection)) as audit:
        if out is None:
            with stdout_guard():
                reader = run_async(go(sys.stdout, audit))
        else:
            reader = write_atomically(out, lambda stream: run_async(go(stream, audit)))
    summary = {
        "topic": selection.topic,
        "format": args.format,
        "out": args.out,
        "records": reader.stats.matched,
        "fetched": reader.stats.fetched,
        "redacted": redactor.active,
    }
    target = sys.stderr if out is None else sys.stdout
    if args.json:
        print(orjson.dumps(summary).decode("utf-8"), file=target)
    else:
        print(f"dqgate: exported {summary['records']} record(s) to {args.out}", file=target)
    if reader.stats.matched == 0:
        print(
            f"dqgate: nothing selected: no record of {selection.topic} matched "
            f"(fetched {reader.stats.fetched})",
            file=sys.stderr,
        )
        return EXIT_NOTHING_SELECTED
    return EXIT_OK


def ls(args: argparse.Namespace) -> int:
    """``quarantine ls``."""
    from dqgate.quarantine.topics import summarise_topics

    context = context_of(args)
    topics = dict(context.quarantine_topics)
    for topic in args.topics:
        topics.setdefault(topic, ())
    if not topics:
        raise ConfigError(
            "no quarantine topics: give --config GATE.YAML (its routes name them) or topic names"
        )
    summaries = run_async(summarise_topics(context.options, topics))
    if args.distinct:
        summaries = [
            dataclasses.replace(s, origins=run_async(_count_origins(context.options, s.topic)))
            if s.exists
            else s
            for s in summaries
        ]
    with stdout_guard():
        if args.json:
            print(orjson.dumps({"topics": [s.to_dict() for s in summaries]}).decode("utf-8"))
            return 0
        rows = [
            (
                s.topic,
                ",".join(s.routes) or "-",
                s.partitions if s.exists else "missing",
                s.records,
                *((("-" if s.origins is None else s.origins),) if args.distinct else ()),
                format_ms(s.oldest_ms),
                format_ms(s.newest_ms),
                "?" if s.size_bytes is None else _size(s.size_bytes),
            )
            for s in summaries
        ]
        headings = (
            "topic", "routes", "partitions", "records",
            *(("origins",) if args.distinct else ()), "oldest", "newest", "size",
        )  # fmt: skip
        print("\n".join(render.table(headings, rows)))
    return 0


async def _count_origins(options: dict[str, Any], topic: str) -> int:
    """Distinct origins of every record of ``topic`` (reads them all)."""
    from dqgate.quarantine.origins import Origins

    origins = Origins()
    async with QuarantineReader(options, Selection(topic=topic)) as reader:
        async for record in reader.records():
            origins.add(record)
    return origins.count()


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _clean_topics(args: argparse.Namespace, context: Context, topic: str) -> tuple[str, ...]:
    """``--clean`` plus the clean topics of the routes quarantining to ``topic`` (or, with
    ``--to``, consuming that target)."""
    found = list(args.clean or ())
    for route in getattr(context.config, "routes", ()):
        if route.quarantine == topic or (args.to is not None and route.source == args.to):
            found.append(route.clean)
    return tuple(dict.fromkeys(found))


_SKIP_HELP: Final = {
    OLDER_COPY: "a later copy of the same origin is in quarantine",
    REACHED_CLEAN: "a copy of the same origin already reached clean",
}


def _seal(context: Any) -> Any:
    """The replay seal of ``--config``'s ``replay.key_file`` (None, with a warning, without)."""
    from dqgate.provenance import ReplaySeal

    key = getattr(context.config, "replay_key", None)
    if key is None:
        print(
            "dqgate: warning: no replay.key_file (give --config with the gate's replay key): "
            "the replay headers are not sealed, so the gate does not trust them and "
            "--max-replays cannot see this replay next time",
            file=sys.stderr,
        )
        return None
    return ReplaySeal(key.reveal().encode("utf-8"))


def replay(args: argparse.Namespace) -> int:
    """``quarantine replay``."""
    from dqgate.errors import DeliveryError
    from dqgate.quarantine.progress import Progress
    from dqgate.quarantine.replay import ReplayOptions
    from dqgate.quarantine.replay import replay as run_replay

    context = context_of(args)
    selection = selection_of(args, context)
    settings = ReplayOptions(
        target=args.to,
        max_replays=args.max_replays,
        rate_per_s=args.rate,
        dry_run=args.dry_run,
        chunk_size=args.chunk_size,
        checkpoint_interval_s=args.checkpoint_interval_s,
        state_dir=args.state_dir,
        ignore_checkpoint=args.ignore_checkpoint,
        all_copies=args.all_copies,
        clean_topics=_clean_topics(args, context, selection.topic),
        seal=_seal(context),
    )
    try:
        report = run_async(
            run_replay(
                context.options,
                selection,
                settings,
                progress=lambda total: Progress(total, label="replay "),
            )
        )
    except DeliveryError as exc:
        print(f"dqgate: error: {exc}", file=sys.stderr)
        return EXIT_DELIVERY_FAILED
    document = report.to_dict()
    with stdout_guard():
        if args.json:
            print(orjson.dumps(document).decode("utf-8"))
        else:
            _print_replay(report, document)
    if report.selected == 0:
        since = " since the checkpoint" if report.resumed_after else ""
        print(
            f"dqgate: nothing selected: no record of {report.topic} matched{since} "
            f"(fetched {report.fetched})",
            file=sys.stderr,
        )
        return EXIT_NOTHING_SELECTED
    return EXIT_REFUSED if report.refused else EXIT_OK


def _print_replay(report: ReplayReport, document: dict[str, Any]) -> None:
    verb = "would replay" if report.dry_run else "replayed"
    print(
        f"{verb} {report.replayed} record(s) of {document['replayed_origins']} origin(s); "
        f"selected {report.selected} record(s) of {document['origins']} origin(s) from "
        f"{report.topic} to {report.target}; skipped {document['skipped']}; "
        f"refused {document['refused']}"
    )
    for cause, count in sorted(report.skipped.items()):
        print(f"  skipped {count}: {cause} ({_SKIP_HELP.get(cause, cause)})")
    for cause, count in sorted(report.refused.items()):
        print(f"  refused {count}: {cause}")
    for target, count in sorted(report.by_target.items()):
        print(f"  to {target}: {count}")
    if report.all_copies:
        print("every selected copy was considered (--all-copies)")
    elif report.clean_topics:
        print(
            f"clean topics checked for copies that already passed: {', '.join(report.clean_topics)}"
        )
    else:
        print(
            "no clean topic known (give --config or --clean): copies that already "
            "passed into clean were not looked for"
        )
    if report.resumed_after:
        after = ", ".join(f"[{p}]@{o}" for p, o in sorted(report.resumed_after.items()))
        print(f"resumed after the checkpoint at {after}")
    print(f"checkpoint: {report.checkpoint}")
