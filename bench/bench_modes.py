"""The cost of the GX fallback and of window expectations, in process.

Run: ``.venv/bin/python bench/bench_modes.py [--count N] [--batch B]``. The same generated
incident reports go through ``CompiledSuite.evaluate_many`` in batches (as the gate does)
with three suites: the example suite (compiled only); the example suite plus one
expectation only GX can evaluate (a pandas pass-through row condition: the fallback runs
GX once per batch); and the example suite plus four window expectations (row count,
uniqueness, a mean, a non-null proportion; GX runs once per closed window). Pinned to
one CPU where possible. Prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from dqgate.demo.generator import generate
from dqgate.suites import WindowConfig, compile_suite

ROOT = Path(__file__).resolve().parents[1]
BASE = json.loads((ROOT / "expectations" / "incident_reports.json").read_text())
FALLBACK = {
    "type": "expect_column_values_to_not_be_null",
    "kwargs": {
        "column": "district",
        "row_condition": "incident_type.str.upper() == 'TRAFFIC'",
        "condition_parser": "pandas",
    },
    "meta": {"id": "traffic_has_district"},
}
WINDOWS = [
    {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 1},
        "meta": {"id": "w_rows"},
    },
    {
        "type": "expect_column_values_to_be_unique",
        "kwargs": {"column": "record_id"},
        "meta": {"id": "w_unique"},
    },
    {
        "type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "age", "min_value": 1, "max_value": 120},
        "meta": {"id": "w_mean"},
    },
    {
        "type": "expect_column_proportion_of_non_null_values_to_be_between",
        "kwargs": {"column": "ethnicity", "min_value": 0.1},
        "meta": {"id": "w_eth"},
    },
]


def _suite(extra: list[dict[str, Any]]) -> dict[str, Any]:
    return {**BASE, "name": "bench", "expectations": [*BASE["expectations"], *extra]}


def run(suite: dict[str, Any], values: list[bytes], batch: int, window: int) -> tuple[float, int]:
    compiled = compile_suite(suite, window=WindowConfig(window_records=window, window_seconds=None))
    compiled.evaluate_many(values[:batch])  # warm-up: GX context, first validation
    compiled.windows.drain()
    start = time.process_time()
    for offset in range(0, len(values), batch):
        compiled.evaluate_many(values[offset : offset + batch])
    seconds = time.process_time() - start
    return len(values) / seconds, len(compiled.windows.drain())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--window", type=int, default=10_000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    values = [r.value for r in generate(args.count, seed=1)]
    batches = -(-args.count // args.batch)
    base, _ = run(_suite([]), values, args.batch, args.window)
    fallback, _ = run(_suite([FALLBACK]), values, args.batch, args.window)
    windows, closed = run(_suite(WINDOWS), values, args.batch, args.window)
    per_batch_ms = (args.count / fallback - args.count / base) / batches * 1000
    per_window_ms = (args.count / windows - args.count / base) / (closed / len(WINDOWS)) * 1000
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {args.count:,} records, batches of {args.batch}, "
        f"windows of {args.window:,} records"
    )
    print("| suite | records/s (CPU) | extra cost |")
    print("|---|---:|---:|")
    print(f"| example suite, compiled only | {base:,.0f} | - |")
    print(
        f"| + 1 fallback expectation (GX per batch) | {fallback:,.0f} | "
        f"{per_batch_ms:.1f} ms per batch of {args.batch} |"
    )
    print(
        f"| + 4 window expectations (GX per window) | {windows:,.0f} | "
        f"{per_window_ms:.1f} ms per window of {args.window:,} |"
    )


if __name__ == "__main__":
    main()
