"""``dqgate quarantine ls|show|stats|export|replay|tail``: operate the quarantine topics.

Parsers only; the handlers live in :mod:`dqgate.quarantine.commands` and are imported
when a subcommand runs, so ``dqgate --help`` stays fast. Exit codes
(:mod:`dqgate.quarantine.exits`): 0 done; 1 nothing selected (replay, export); 2 a
usage or configuration error (unknown topic, bad time, unreadable checkpoint, a filter
that no suite of ``--config`` has) or a Kafka failure; 3 replay refused records
(``--max-replays``...); 4 a replayed record was not acknowledged; 130 interrupted (a
replay keeps its last checkpoint).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from dqgate.quarantine.checkpoint import DEFAULT_STATE_DIR
from dqgate.quarantine.exits import EXIT_CODES_HELP
from dqgate.quarantine.selection import Instant, parse_instant, parse_rate
from dqgate.quarantine.stats import GroupBy
from dqgate.verdict import Reason

__all__ = ["register"]

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001 - its only name
Handler = Callable[[argparse.Namespace], int]
_DISTINCT_HELP = (
    "count distinct origins (the source records behind the copies that replays leave), "
    "not records; reads the records"
)


def register(sub: SubParsers) -> None:
    """Add the ``quarantine`` command group."""
    parser = sub.add_parser(
        "quarantine",
        help="inspect, summarise, export and replay quarantined records",
        description="Operate the quarantine topics: list them, show, count and export "
        "their records over a time window (read with Kafka's offsets-for-times, not by "
        "scanning), replay them to their source, follow new ones.",
        epilog=EXIT_CODES_HELP,
    )
    commands = parser.add_subparsers(dest="quarantine_command", metavar="SUBCOMMAND", required=True)
    conn, filters, window, redaction = _connection(), _filters(), _window(), _redaction()

    p = commands.add_parser(
        "ls",
        parents=[conn],
        help="quarantine topics with record counts, oldest/newest timestamps and size",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("topics", nargs="*", metavar="TOPIC", help="more topics (besides --config's)")
    p.add_argument("--distinct", action="store_true", help=_DISTINCT_HELP)
    p.set_defaults(handler=_handler("ls"))

    p = commands.add_parser(
        "show",
        parents=[conn, window, filters, redaction],
        help="print quarantined records",
        epilog=EXIT_CODES_HELP,
    )
    p.set_defaults(handler=_handler("show"))

    p = commands.add_parser(
        "stats",
        parents=[conn, window, filters],
        help="counts and shares per group",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument(
        "--by", choices=[g.value for g in GroupBy], default=GroupBy.REASON.value,
        help="what to group by (default: reason)",
    )  # fmt: skip
    p.add_argument("--distinct", action="store_true", help=_DISTINCT_HELP)
    p.set_defaults(handler=_handler("stats"))

    p = commands.add_parser(
        "export",
        parents=[conn, window, filters, redaction],
        help="write records as JSON lines or CSV (UTF-8 text or base64, all headers)",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="default: jsonl")
    p.add_argument(
        "--fields", type=_fields, metavar="A,B.C",
        help="csv: also these fields of the (redacted) JSON value, one column each "
        "(value.A, value.B.C) next to the raw value",
    )  # fmt: skip
    p.add_argument(
        "--raw-csv", action="store_true",
        help="csv: write cells as they are; by default a cell starting with = + - @ tab or "
        "CR gets a leading ' so that a spreadsheet shows it as text, not a formula",
    )  # fmt: skip
    p.add_argument("out", metavar="OUT", help="output file (written as 0600), - for stdout")
    p.set_defaults(handler=_handler("export"))

    p = commands.add_parser(
        "replay",
        parents=[conn, window, filters],
        help="re-produce records to their source topic (or --to), with a loop guard",
        description="Re-produce the selected records with their key, value, timestamp and "
        "non-dqgate headers plus dqgate.replay.count, .of and .at (idempotent producer, "
        "acks=all). Of the copies of one record (replayed and quarantined again) only the "
        "latest is replayed, and none if a copy already reached a clean topic (the routes' "
        "of --config, or --clean); --all-copies replays every selected copy. Progress is "
        "checkpointed under --state-dir: rerunning the same command resumes after the last "
        "acknowledged chunk and replays only records quarantined since.",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--to", metavar="TOPIC", help="target topic (default: each record's source)")
    p.add_argument(
        "--all-copies", action="store_true",
        help="replay every selected copy, not only the latest copy of each origin",
    )  # fmt: skip
    p.add_argument(
        "--clean", action="append", metavar="TOPIC",
        help="a clean topic to look for copies that already passed (repeatable; the routes' "
        "clean topics of --config are looked at anyway)",
    )  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="count what would be replayed")
    p.add_argument("--rate", type=_rate, metavar="N/s", help="at most N records per second")
    p.add_argument(
        "--max-replays", type=_count, default=3, metavar="K",
        help="refuse records already replayed K times (default: 3)",
    )  # fmt: skip
    p.add_argument(
        "--state-dir", type=Path, default=DEFAULT_STATE_DIR,
        help=f"checkpoint directory (default: {DEFAULT_STATE_DIR})",
    )  # fmt: skip
    p.add_argument(
        "--ignore-checkpoint", action="store_true",
        help="start over instead of resuming (the checkpoint is then replaced)",
    )  # fmt: skip
    p.add_argument("--chunk-size", type=_positive, default=500, help=argparse.SUPPRESS)
    p.add_argument("--checkpoint-interval-s", type=float, default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(handler=_handler("replay"))

    p = commands.add_parser(
        "tail",
        parents=[conn, filters, redaction],
        help="follow newly quarantined records",
        epilog=EXIT_CODES_HELP,
    )
    p.set_defaults(handler=_handler("tail"))


def _handler(name: str) -> Handler:
    def handle(args: argparse.Namespace) -> int:
        from dqgate.quarantine import commands

        function: Handler = {
            "ls": commands.ls,
            "show": commands.show,
            "stats": commands.stats,
            "export": commands.export_records,
            "replay": commands.replay,
            "tail": commands.tail,
        }[name]
        return function(args)

    return handle


def _connection() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("connection and output")
    group.add_argument(
        "--config", metavar="GATE.YAML",
        help="the gate's configuration: Kafka connection, routes, redacted fields",
    )  # fmt: skip
    group.add_argument("--bootstrap-servers", metavar="HOST:PORT[,HOST:PORT]")
    group.add_argument("--json", action="store_true", help="JSON output (records: JSON lines)")
    return p


def _window() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("time window (ISO 8601, or back from now: 30m, 2h, 7d)")
    group.add_argument("--since", type=_instant, metavar="T", help="records stamped at or after T")
    group.add_argument("--until", type=_instant, metavar="T", help="records stamped at or before T")
    return p


def _filters() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("filters (repeat a flag for OR; different flags AND)")
    group.add_argument("--partition", type=_count, action="append", metavar="P")
    reasons = [r.value for r in Reason]
    group.add_argument(
        "--reason", choices=reasons, action="append", metavar="REASON",
        help=f"reason class: {', '.join(reasons)}",
    )  # fmt: skip
    group.add_argument("--expectation", action="append", metavar="ID", help="expectation id")
    group.add_argument("--column", action="append", metavar="C")
    group.add_argument("--limit", type=_count, metavar="N", help="at most N records")
    p.add_argument("topic", metavar="TOPIC", help="the quarantine topic")
    return p


def _redaction() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("redaction")
    group.add_argument(
        "--redact", action="append", metavar="FIELD[,FIELD]",
        help="mask these JSON fields too (besides the configuration's redact list)",
    )  # fmt: skip
    group.add_argument(
        "--reveal", action="store_true",
        help="show values unmasked: a WARNING on stderr and JSON lines (who, when, topic, "
        "selection, how many records) in the audit log (audit_log in gate.yaml, or "
        "$DQGATE_AUDIT_LOG); refused when that log cannot be written",
    )  # fmt: skip
    return p


def _instant(text: str) -> Instant:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fields(text: str) -> tuple[str, ...]:
    from dqgate.quarantine.export import parse_fields

    try:
        return parse_fields(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {number}")
    return number


def _positive(text: str) -> int:
    number = _count(text)
    if number == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1")
    return number
