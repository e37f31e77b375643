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
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from dqgate.demo.generator import generate
from dqgate.gate.audit import OutputReader, end_offsets
from dqgate.gate.feed import FeedRecord, produce
from dqgate.gate.process import WorkerProcess, start_worker
from dqgate.kafka import BrokerConfig, create_topic, start_broker, stop_broker

SUITE = Path(__file__).resolve().parents[1] / "expectations" / "incident_reports.json"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def time_routing(
    options: dict[str, Any], source: str, worker: WorkerProcess
) -> tuple[float, int, float]:
    """Seconds from the first output until all are routed, records routed, worker CPU s."""
    expected = await end_offsets(options, [source])
    reader = OutputReader(options, [f"{source}.clean", f"{source}.quarantine"])
    async with reader:
        while not await reader.poll(0.01):
            pass
        first_at, first_n = time.perf_counter(), sum(reader.seen.values())
        cpu_at_first = cpu_seconds(worker.pid)
        if not await reader.wait_for(expected, timeout_s=900, idle_s=0.05):
            raise SystemExit(f"not all routed; worker log:\n{worker.log_tail()}")
        elapsed = time.perf_counter() - first_at
    routed = sum(expected.values()) - first_n
    return elapsed, routed, cpu_seconds(worker.pid) - cpu_at_first


def run_mode(
    bootstrap: str, feed: list[FeedRecord], *, validate: bool, batch_size: int, workdir: Path
) -> dict[str, float]:
    """One worker over a fresh topic holding ``feed``; returns its figures."""
    options = {"bootstrap_servers": bootstrap}
    source = f"bench-{'validate' if validate else 'passthrough'}-{uuid.uuid4().hex[:8]}"
    for topic in (source, f"{source}.clean", f"{source}.quarantine"):
        asyncio.run(create_topic(bootstrap, topic, partitions=3))
    asyncio.run(produce(options, source, feed))
    config = workdir / f"{source}.yaml"
    route = {
        "source": source,
        "suite": str(SUITE),
        "clean": f"{source}.clean",
        "quarantine": f"{source}.quarantine",
        "validate": validate,
    }
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": bootstrap},
                "group_id": source,
                "routes": [route],
                "batch_size": batch_size,
            }
        )
    )
    worker = start_worker(["--config", str(config)], log_path=workdir / f"{source}.log")
    try:
        elapsed, routed, cpu_s = asyncio.run(time_routing(options, source, worker))
    finally:
        worker.stop()
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
    feed = [FeedRecord(key=r.key, value=r.value) for r in generate(args.count, seed=1)]
    with tempfile.TemporaryDirectory(prefix="dqgate-bench-") as tmp:
        workdir = Path(tmp)
        broker_dir = None
        bootstrap = args.bootstrap
        if bootstrap is None:
            broker_dir = workdir / "kafka"
            bootstrap = start_broker(BrokerConfig(data_dir=broker_dir)).bootstrap
        results: dict[str, dict[str, float]] = {}
        try:
            for _ in range(args.rounds):  # alternate the modes: same background noise
                for mode in ("validate", "pass-through"):
                    r = run_mode(
                        bootstrap,
                        feed,
                        validate=mode == "validate",
                        batch_size=args.batch_size,
                        workdir=workdir,
                    )
                    best = results.get(mode)
                    if best is None or r["records_per_s"] > best["records_per_s"]:
                        results[mode] = r
        finally:
            if broker_dir is not None:
                stop_broker(broker_dir)
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
