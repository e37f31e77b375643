"""End-to-end records/s of one gate worker on the local broker: validation on vs off.

Run: ``.venv/bin/python bench/bench_gate.py [--count N] [--bootstrap HOST:PORT]``.
Without ``--bootstrap`` it starts the project's broker on a temporary data dir (and stops
it). For each mode it pre-produces the same ``count`` generated incident reports into a
fresh topic, starts one ``dqgate run`` worker and times from its first output record to
the moment every source offset is accounted for in the outputs (by lineage headers).
Mode ``validate`` uses ``expectations/incident_reports.json``; ``pass-through`` is the
same pipeline with the route's ``validate: false``. The modes alternate for ``--rounds``
rounds and the best run of each is kept. Prints a Markdown table for bench/README.md.
The broker, the worker and the reader share the machine's cores, so "records per worker
CPU second" is the steadier figure on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # a sibling module, not a package
    create_route_topics,
    generated_feed,
    local_broker,
    stop_worker,
    time_routing,
    write_gate_config,
)

from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import start_worker


def run_mode(
    bootstrap: str, feed: list[FeedRecord], *, validate: bool, batch_size: int, workdir: Path
) -> dict[str, float]:
    """One worker over a fresh topic holding ``feed``; returns its figures."""
    options = {"bootstrap_servers": bootstrap}
    prefix = f"bench-{'validate' if validate else 'passthrough'}"
    topics = asyncio.run(create_route_topics(bootstrap, prefix))
    asyncio.run(produce(options, topics.source, feed))
    config = write_gate_config(
        workdir / f"{topics.source}.yaml",
        bootstrap,
        topics,
        validate=validate,
        settings={"batch_size": batch_size},
    )
    worker = start_worker(["--config", str(config)], log_path=workdir / f"{topics.source}.log")
    try:
        elapsed, routed, cpu_s = asyncio.run(time_routing(options, topics.source, worker))
    finally:
        stop_worker(worker)
    return {
        "records_per_s": routed / elapsed,
        "elapsed_s": elapsed,
        "routed": routed,
        "worker_cpu_s": cpu_s,
    }


def main() -> None:
    """Parse arguments, run both modes, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="runs per mode; best is kept")
    parser.add_argument("--bootstrap", default=None, help="use this broker (else start one)")
    args = parser.parse_args()
    feed = generated_feed(args.count)
    results: dict[str, dict[str, float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="dqgate-bench-") as tmp,
        local_broker(args.bootstrap) as bootstrap,
    ):
        for _ in range(args.rounds):  # alternate the modes: same background noise
            for mode in ("validate", "pass-through"):
                r = run_mode(
                    bootstrap,
                    feed,
                    validate=mode == "validate",
                    batch_size=args.batch_size,
                    workdir=Path(tmp),
                )
                best = results.get(mode)
                if best is None or r["records_per_s"] > best["records_per_s"]:
                    results[mode] = r
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\n{args.count:,} records, batch {args.batch_size}, 3 partitions, best of "
          f"{args.rounds}; "
          f"{platform.processor() or platform.machine()}, {cores} cores, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    print("| mode | records/s | seconds | worker CPU s | records per worker CPU s |")
    print("|---|---:|---:|---:|---:|")
    for mode, r in results.items():
        per_cpu = r["routed"] / r["worker_cpu_s"] if r["worker_cpu_s"] else float("nan")
        print(f"| {mode} | {r['records_per_s']:,.0f} | {r['elapsed_s']:.1f} | "
              f"{r['worker_cpu_s']:.1f} | {per_cpu:,.0f} |")  # fmt: skip
    ratio = results["validate"]["records_per_s"] / results["pass-through"]["records_per_s"]
    print(f"\nvalidate / pass-through: {ratio:.2f}")


if __name__ == "__main__":
    main()
