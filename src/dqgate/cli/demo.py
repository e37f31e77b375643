"""``dqgate demo ...``: the mission-story demo (synthetic incident reports with defects).

``demo`` is a command group: each subcommand is added by one ``add_<name>(demo_sub)``
function listed in :data:`SUBCOMMANDS`, so a new one (``run``) is one function more.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeAlias

from dqgate.errors import ConfigError

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001 - its only name


def register(sub: SubParsers) -> None:
    """Add the ``demo`` command group and its subcommands."""
    parser = sub.add_parser(
        "demo",
        help="the mission-story demo: synthetic incident reports with injected defects",
        description="The mission-story demo: synthetic incident reports with injected defects.",
    )
    demo_sub = parser.add_subparsers(dest="demo_command", metavar="SUBCOMMAND", required=True)
    for add in SUBCOMMANDS:
        add(demo_sub)


def add_generate(demo_sub: SubParsers) -> None:
    """Add ``demo generate``: write synthetic records as JSON lines."""
    p = demo_sub.add_parser(
        "generate",
        help="write synthetic incident records as JSON lines, with an exact defect report",
        description=(
            "Write COUNT synthetic incident records, one raw record value per line "
            "(the same records for the same seed). Defective records carry exactly one "
            "injected defect; --report writes the exact counts by defect and by reason."
        ),
    )
    p.add_argument("--count", type=_non_negative_int, required=True, help="number of records")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed, same data)")
    p.add_argument(
        "--defect-rate",
        type=_rate,
        default=0.1,
        help="share of records with one injected defect (default: 0.1)",
    )
    p.add_argument(
        "--garbage-rate",
        type=_rate,
        default=None,
        help="share of all records that are not JSON objects, at most --defect-rate "
        "(default: a fifth of --defect-rate)",
    )
    p.add_argument(
        "--missing-ethnicity-rate",
        type=_rate,
        default=0.76,
        help="share of records without ethnicity (observed only, default: 0.76)",
    )
    p.add_argument(
        "--out", default="-", metavar="FILE", help="JSON-lines output file, - for stdout (default)"
    )
    p.add_argument(
        "--report", type=Path, default=None, metavar="REPORT.json", help="write the counts here"
    )
    p.add_argument(
        "--report-lines",
        action="store_true",
        help="also list the 1-based line numbers of each defect kind in the report",
    )
    p.set_defaults(handler=run_generate)


def add_run(demo_sub: SubParsers) -> None:
    """Add ``demo run``: the streaming gate end to end on a local broker."""
    p = demo_sub.add_parser(
        "run",
        help="run the streaming gate end to end on a local broker and print a summary",
        description=(
            "Start a local Kafka broker, create the topics, start the gate on "
            "expectations/incident_reports.json, produce COUNT generated records (garbage and "
            "truncated JSON included), wait until every record is routed, print the summary, "
            "then stop everything (unless --keep-running)."
        ),
    )
    p.add_argument("--count", type=_non_negative_int, default=50_000, help="records (50000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (7)")
    p.add_argument(
        "--keep-running",
        action="store_true",
        help="leave the broker and the gate running until Ctrl-C",
    )
    p.add_argument(
        "--data-dir", type=Path, default=None, help="broker data dir (default: .kafka/demo)"
    )
    p.add_argument(
        "--timeout-s",
        type=float,
        default=900.0,
        help="give up when not every record is routed by then (900)",
    )
    p.add_argument(
        "--secure",
        nargs="?",
        const="SASL_SSL",
        choices=("SASL_SSL", "SASL_PLAINTEXT", "SSL"),
        default=None,
        metavar="PROTOCOL",
        help=(
            "run the gate, the producer and the operator as least-privileged principals "
            "over SASL_SSL (the default), SASL_PLAINTEXT (SCRAM-SHA-512) or SSL (client "
            "certificates), with the broker's StandardAuthorizer (needs openssl)"
        ),
    )
    p.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from dqgate.demo.run import run_demo

    return run_demo(
        args.count,
        args.seed,
        args.keep_running,
        data_dir=args.data_dir,
        timeout_s=args.timeout_s,
        secure=args.secure,
    )


SUBCOMMANDS: tuple[Callable[[SubParsers], None], ...] = (add_generate, add_run)


def run_generate(args: argparse.Namespace) -> int:
    """Handler of ``demo generate``; returns the exit code."""
    from dqgate.demo import DefectTally, generate

    try:
        records = generate(
            args.count,
            args.seed,
            defect_rate=args.defect_rate,
            missing_ethnicity_rate=args.missing_ethnicity_rate,
            garbage_rate=args.garbage_rate,
        )
    except ValueError as exc:
        raise ConfigError(f"demo generate: {exc}; change the rate options") from exc
    tally = DefectTally(keep_lines=args.report_lines)
    try:
        with _open_output(args.out) as out:
            for record in records:
                tally.add(record)
                out.write(record.value + b"\n")
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); do not let Python complain at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        raise ConfigError(f"demo generate: cannot write {args.out}: {exc.strerror}") from exc
    if args.report is not None:
        text = json.dumps(tally.report().to_dict(), indent=2) + "\n"
        try:
            args.report.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"demo generate: cannot write report {args.report}: {exc.strerror}"
            ) from exc
    return 0


@contextlib.contextmanager
def _open_output(target: str) -> Iterator[BinaryIO]:
    if target == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(target, "wb") as out:
        yield out


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value
