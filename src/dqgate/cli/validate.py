"""``dqgate validate``: offline validation of a file of raw records, one per line."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from dqgate.cli.suite_params import add_suite_options, parameters_for
from dqgate.errors import SuiteError

if TYPE_CHECKING:
    from dqgate.suites import WindowResult
    from dqgate.verdict import Verdict

CHUNK_RECORDS = 1000
"""Records evaluated together: the GX fallback, if any, runs once per chunk."""
EXIT_CLEAN = 0
EXIT_QUARANTINED = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``validate`` command."""
    p = sub.add_parser(
        "validate",
        help="validate a JSON-lines file against a suite, offline",
        description=(
            "Validate raw records (one per line, any bytes) against a GX suite. Exit 0 when "
            "nothing was quarantined, 1 when something was, 2 on usage or suite errors. "
            "With --config, the suite's $PARAMETER kwargs get the suite_parameters of the "
            "route that uses it (or --route), and max_record_bytes is the gate's."
        ),
    )
    p.add_argument("--suite", required=True, type=Path, help="GX 1.x suite JSON file")
    p.add_argument("input", help="input file of raw records, one per line ('-' for stdin)")
    p.add_argument("--clean", type=Path, help="write passing lines here, verbatim")
    p.add_argument("--quarantine", type=Path, help="write quarantined lines here, verbatim")
    p.add_argument("--verdicts", type=Path, help="write one JSON verdict per input line here")
    p.add_argument("--summary-json", type=Path, help="also write the summary as JSON here")
    p.add_argument(
        "--max-record-bytes", type=int, default=None, help="records larger than this are too_large"
    )
    add_suite_options(p)
    p.add_argument(
        "--route", metavar="NAME",
        help="with --config: the route whose suite_parameters apply (default: the route(s) "
        "using --suite, or the only route)",
    )  # fmt: skip
    p.add_argument(
        "--allow-empty-suite", action="store_true",
        help="accept a suite without expectations (it passes every record)",
    )  # fmt: skip
    p.set_defaults(handler=run)


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Each record without its line terminator; a final newline does not start a record."""
    for line in stream:
        yield line[:-1] if line.endswith(b"\n") else line


def _chunks(lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _verdict_line(number: int, verdict: Verdict) -> bytes:
    body = {
        "line": number,
        "outcome": verdict.outcome.value,
        "failures": [f.to_dict() for f in verdict.failures],
    }
    return orjson.dumps(body) + b"\n"


def _print_windows(windows: list[WindowResult]) -> None:
    if not windows:
        return
    print("window expectations (over tumbling windows):", file=sys.stderr)
    for w in windows:
        value = "n/a" if w.observed_value is None else f"{w.observed_value:.4g}"
        state = "ok" if w.success else ("ERROR " + (w.error or "")) if w.error else "FAILED"
        print(
            f"  {w.expectation_id:<30} {state:<8} observed={value} records={w.records}",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """Validate every line; write outputs; print the summary to stderr."""
    from dqgate.config import load_config
    from dqgate.suites import DEFAULT_MAX_RECORD_BYTES, compile_suite, load_suite
    from dqgate.summary import VerdictTally

    config = None if args.config is None else load_config(args.config)
    params = parameters_for(args.suite, config, args.param, route=args.route)
    loaded = load_suite(args.suite, suite_parameters=params.parameters)
    if not loaded.expectations and not (args.allow_empty_suite or params.allow_empty):
        raise SuiteError(
            "the suite has no expectations, so every record would pass unchecked; add "
            "expectations, or give --allow-empty-suite if that is intended",
            path=str(args.suite),
        )
    default_max = DEFAULT_MAX_RECORD_BYTES if config is None else config.max_record_bytes
    suite = compile_suite(loaded, max_record_bytes=args.max_record_bytes or default_max)
    tally = VerdictTally()
    with contextlib.ExitStack() as stack:
        source = (
            sys.stdin.buffer if args.input == "-" else stack.enter_context(open(args.input, "rb"))
        )
        clean = stack.enter_context(open(args.clean, "wb")) if args.clean else None
        quarantine = stack.enter_context(open(args.quarantine, "wb")) if args.quarantine else None
        verdicts = stack.enter_context(open(args.verdicts, "wb")) if args.verdicts else None
        number = 0
        for chunk in _chunks(_lines(source), CHUNK_RECORDS):
            for record, verdict in zip(chunk, suite.evaluate_many(chunk), strict=True):
                number += 1
                tally.add(verdict)
                target = quarantine if verdict.routed_to_quarantine else clean
                if target is not None:
                    target.write(record + b"\n")
                if verdicts is not None:
                    verdicts.write(_verdict_line(number, verdict))
    suite.windows.flush()
    windows = suite.windows.drain()
    where = f"; parameters of route {params.route}" if params.route else ""
    print(f"suite {suite.name} ({args.suite}{where})", file=sys.stderr)
    print(tally.render(), file=sys.stderr)
    _print_windows(windows)
    if args.summary_json:
        args.summary_json.write_bytes(orjson.dumps(tally.to_dict(), option=orjson.OPT_INDENT_2))
    return EXIT_QUARANTINED if tally.quarantined else EXIT_CLEAN
