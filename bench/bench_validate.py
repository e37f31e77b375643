"""Validation alone, in process: dqgate's compiled suite vs GX's engine on the same records.

Run: ``.venv/bin/python bench/bench_validate.py [--count N]``.
Pins itself to one CPU core where the OS allows it. Prints a Markdown table; the
figures are copied into bench/README.md together with the machine's description.
dqgate is measured twice: with the native decider (when ``dqgate_native`` is built)
and with the pure-Python checks alone (``native=False``, as with ``DQGATE_NATIVE=0``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from dqgate.demo.generator import generate
from dqgate.suites import compile_suite

SUITE = Path(__file__).resolve().parents[1] / "expectations" / "incident_reports.json"


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned"


def bench_dqgate(values: list[bytes], rounds: int, *, native: bool | None = None) -> float:
    """Best-of-rounds records/s of CompiledSuite.evaluate on raw bytes (decode included).

    ``native``: None follows DQGATE_NATIVE (on when built), False is the pure-Python path.
    """
    suite = compile_suite(SUITE, native=native)
    evaluate = suite.evaluate
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for value in values:
            evaluate(value)
        best = max(best, len(values) / (time.perf_counter() - start))
    return best


def bench_gx(values: list[bytes], batch: int) -> float:
    """Records/s of GX's own engine on batches (dtype=object framing, COMPLETE indices)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    raw_suite = json.loads(SUITE.read_text())
    columns = list(compile_suite(SUITE).columns)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    definition = (
        ctx.data_sources.add_pandas("bench")
        .add_dataframe_asset("records")
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = ctx.suites.add(ExpectationSuite(**raw_suite))
    result_format = {"result_format": "COMPLETE", "exclude_unexpected_values": True}
    start = time.perf_counter()
    done = 0
    for offset in range(0, len(values), batch):
        records: list[Any] = []
        for value in values[offset : offset + batch]:
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
        frame = pd.DataFrame(records, columns=columns, dtype=object)
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=result_format
        )
        for r in result.results:
            r.result.get("unexpected_index_list")
        done += len(values[offset : offset + batch])
    return done / (time.perf_counter() - start)


def decided_share(values: list[bytes]) -> float | None:
    """The share of records the native decider answers itself (None: not available)."""
    decide = compile_suite(SUITE, native=True).decider
    if decide is None:
        return None
    return sum(decide(v) is not None for v in values) / len(values)


def breakdown(values: list[bytes]) -> None:
    """Per-record CPU cost of decoding and of each compiled check (and of the native decider)."""
    suite = compile_suite(SUITE, native=False)
    native = compile_suite(SUITE, native=True)
    decide = native.decider
    if decide is not None:
        start = time.process_time()
        for value in values:
            decide(value)
        cost = (time.process_time() - start) / len(values) * 1e6
        print(f"| native decider, all checks | {cost:.2f} |")
    start = time.process_time()
    decoded = [suite.decode(v) for v in values]
    print(f"| JSON decode | {(time.process_time() - start) / len(values) * 1e6:.2f} |")
    records = [r for r in decoded if isinstance(r, dict)]
    for e in suite.expectations:
        fn = e.fn
        start = time.process_time()
        for record in records:
            fn(record)
        cost = (time.process_time() - start) / len(records) * 1e6
        print(f"| {e.expectation_id} ({e.type}) | {cost:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gx-batch", type=int, default=10_000)
    parser.add_argument("--breakdown", action="store_true", help="per-check cost only")
    args = parser.parse_args()
    pinned = _pin_one_core()
    values = [r.value for r in generate(args.count, seed=1)]
    if args.breakdown:
        print("| part | us/record |\n|---|---:|")
        breakdown(values)
        return
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    share = decided_share(values)
    dq_native = bench_dqgate(values, args.rounds, native=True) if share is not None else None
    dq_pure = bench_dqgate(values, args.rounds, native=False)
    gx_rate = bench_gx(values, args.gx_batch)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.platform()}; {pinned}; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print(f"records: {args.count} generated incident reports (seed 1), suite {SUITE.name}")
    print("| what | records/s |")
    print("|---|---:|")
    if dq_native is not None and share is not None:
        print(
            f"| dqgate CompiledSuite.evaluate, native decider on (bytes in, best of "
            f"{args.rounds}; {share:.1%} of records decided natively) | {dq_native:,.0f} |"
        )
    else:
        print("| dqgate CompiledSuite.evaluate, native decider on | not built |")
    print(
        f"| dqgate CompiledSuite.evaluate, pure Python (DQGATE_NATIVE=0; best of "
        f"{args.rounds}) | {dq_pure:,.0f} |"
    )
    print(f"| GX 1.24 engine, batches of {args.gx_batch:,} | {gx_rate:,.0f} |")
    best = dq_native if dq_native is not None else dq_pure
    print(f"| ratio (best dqgate / GX) | {best / gx_rate:.1f}x |")


if __name__ == "__main__":
    main()
