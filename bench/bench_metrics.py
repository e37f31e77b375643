"""The cost of metrics: end-to-end records/s of one gate worker with and without metrics.

Run: ``.venv/bin/python bench/bench_metrics.py [--count N] [--rounds R] [--bootstrap H:P]``.
Without ``--bootstrap`` it starts the project's broker on a temporary data dir (and stops
it). Both modes run the same pipeline (``run_gate`` with the incident-report suite) on the
same pre-produced generated records, each on a fresh topic and consumer group, alternating
for ``--rounds`` rounds; the best run of each mode is kept.

- ``metrics``: the gate's :class:`~dqgate.metrics.GateMetrics` (counters, sliding-window
  ratios, latency histogram, lag), scraped every second while it runs (a Prometheus
  scrapes every 15 s; this is the heavier case).
- ``no metrics``: the same worker with a GateMetrics whose per-batch work is a no-op.

Timing is from the first output record until every source offset is accounted for in the
outputs (``bench_gate.time_routing``). Prints a Markdown table for bench/README.md; the
broker, the worker and the reader share the machine's cores, so "records per worker CPU
second" is the steadier figure on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import create_topic
from dqgate.metrics import GateMetrics
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import WorkerProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import local_broker, stop_group, time_routing  # a sibling module, not a package

SUITE = Path(__file__).resolve().parents[1] / "expectations" / "incident_reports.json"
MODES = ("metrics", "no metrics")
SCRAPE_INTERVAL_S = 1.0


class NoMetrics(GateMetrics):
    """GateMetrics that counts nothing per batch: the gate without the metrics' work."""

    def observe(self, *args: Any, **kwargs: Any) -> None:
        return None

    def observe_windows(self, *args: Any, **kwargs: Any) -> None:
        return None


def worker_main(mode: str, config_path: str) -> int:
    """Body of the child process: one gate worker with or without metrics."""
    from dqgate.config import load_config
    from dqgate.gate import run_gate

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = load_config(config_path)
    window = config.metrics_window_records
    metrics = GateMetrics(window_records=window) if mode == "metrics" else NoMetrics()
    return run_gate(
        config,
        metrics=metrics,
        announce=lambda line: print(f"dqgate: {line}", file=sys.stderr, flush=True),
    )


def start(mode: str, config: Path, log_path: Path) -> WorkerProcess:
    """Start a worker child process running ``worker_main(mode, config)``."""
    command = [sys.executable, __file__, "--worker", mode, "--config", str(config)]
    with log_path.open("ab") as log_file:
        popen = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return WorkerProcess(popen, log_path)


def scrape_until(url: str, stop: threading.Event, sizes: list[int]) -> None:
    """GET /metrics every SCRAPE_INTERVAL_S until ``stop`` is set; records body sizes."""
    while not stop.wait(SCRAPE_INTERVAL_S):
        try:
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                sizes.append(len(response.read()))
        except OSError:
            pass


def run_mode(bootstrap: str, feed: list[FeedRecord], *, mode: str, workdir: Path) -> dict[str, Any]:
    """One worker over a fresh topic holding ``feed``; returns its figures."""
    options = {"bootstrap_servers": bootstrap}
    source = f"bench-metrics-{mode.replace(' ', '-')}-{uuid.uuid4().hex[:8]}"
    for topic in (source, f"{source}.clean", f"{source}.quarantine"):
        asyncio.run(create_topic(bootstrap, topic, partitions=3))
    asyncio.run(produce(options, source, feed))
    config = workdir / f"{source}.yaml"
    route = {
        "source": source,
        "suite": str(SUITE),
        "clean": f"{source}.clean",
        "quarantine": f"{source}.quarantine",
    }
    settings = {
        "kafka": {"bootstrap_servers": bootstrap},
        "group_id": source,
        "routes": [route],
        "batch_size": 1000,
        "metrics_address": "127.0.0.1:0",
    }
    config.write_text(yaml.safe_dump(settings))
    worker = start(mode, config, workdir / f"{source}.log")
    stop = threading.Event()
    sizes: list[int] = []
    try:
        url = worker.wait_ready()
        scraper = threading.Thread(target=scrape_until, args=(url, stop, sizes), daemon=True)
        scraper.start()
        elapsed, routed, cpu_s = asyncio.run(time_routing(options, source, worker))
    finally:
        stop.set()
        worker.stop()
        stop_group(worker.popen, timeout_s=5.0)
    return {
        "records_per_s": routed / elapsed,
        "elapsed_s": elapsed,
        "routed": routed,
        "worker_cpu_s": cpu_s,
        "scrapes": len(sizes),
        "metrics_bytes": max(sizes, default=0),
    }


def observe_cost_us(count: int = 50_000) -> float:
    """CPU microseconds per record of GateMetrics.observe, in process, batches of 1,000."""
    from dqgate.routing import SourceRecord
    from dqgate.suites import compile_suite
    from dqgate.verdict import Verdict

    suite = compile_suite(SUITE)
    metrics = GateMetrics()
    metrics.declare_route("r", suite.shape())
    values = [r.value for r in generate(count, seed=1)]
    batches = []
    for start in range(0, count, 1000):
        chunk = values[start : start + 1000]
        items = [suite.decode(v) for v in chunk]
        decoded = [d for d in items if not isinstance(d, Verdict)]
        verdicts = suite.evaluate_many(
            [v if isinstance(d, Verdict) else d for d, v in zip(items, chunk, strict=True)]
        )
        records = [
            SourceRecord(
                topic="t", partition=i % 3, offset=start + i, timestamp=1_700_000_000_000,
                key=None, value=v, headers=(),
            )
            for i, v in enumerate(chunk)
        ]  # fmt: skip
        batches.append((verdicts, records, decoded))
    started = time.process_time()
    for verdicts, records, decoded in batches:
        metrics.observe("r", verdicts, records, decoded=decoded, validation_s=0.01)
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    """Parse arguments, run both modes alternately, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs per mode; best is kept")
    parser.add_argument("--bootstrap", default=None, help="use this broker (else start one)")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        raise SystemExit(worker_main(args.worker, args.config))
    feed = [FeedRecord(key=r.key, value=r.value) for r in generate(args.count, seed=1)]
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    with (
        tempfile.TemporaryDirectory(prefix="dqgate-bench-metrics-") as tmp,
        local_broker(args.bootstrap) as bootstrap,
    ):
        for _ in range(args.rounds):  # alternate the modes: same background noise
            for mode in MODES:
                result = run_mode(bootstrap, feed, mode=mode, workdir=Path(tmp))
                runs[mode].append(result)
                rate, cpu_s = result["records_per_s"], result["worker_cpu_s"]
                print(f"{mode}: {rate:,.0f} records/s, {cpu_s:.1f} CPU s", file=sys.stderr)
    report(args, runs)


def report(args: argparse.Namespace, runs: dict[str, list[dict[str, Any]]]) -> None:
    """Print the Markdown table: best run per mode, and the cost of metrics."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\n{args.count:,} records, batch 1000, 3 partitions, best of {args.rounds}; "
          f"{platform.processor() or platform.machine()}, {cores} cores, "
          f"Python {platform.python_version()}\n")  # fmt: skip
    print("| mode | records/s (best) | all runs, records/s | records per worker CPU s (best) |")
    print("|---|---:|---|---:|")
    best: dict[str, tuple[float, float]] = {}
    for mode, results in runs.items():
        rates = [r["records_per_s"] for r in results]
        per_cpu = [r["routed"] / r["worker_cpu_s"] for r in results if r["worker_cpu_s"]]
        best[mode] = (max(rates), max(per_cpu, default=float("nan")))
        listed = ", ".join(f"{x:,.0f}" for x in rates)
        print(f"| {mode} | {best[mode][0]:,.0f} | {listed} | {best[mode][1]:,.0f} |")
    with_m, without = best["metrics"], best["no metrics"]
    print(f"\ncost of metrics: throughput {100 * (1 - with_m[0] / without[0]):.1f}%, "
          f"CPU per record {100 * (without[1] / with_m[1] - 1):.1f}%")  # fmt: skip
    sizes = [r["metrics_bytes"] for r in runs["metrics"]]
    print(f"/metrics body: {max(sizes):,} bytes, scraped every {SCRAPE_INTERVAL_S:.0f} s")
    observe_us = observe_cost_us()
    share = observe_us / (1e6 / without[1])
    print(f"GateMetrics.observe in process: {observe_us:.2f} µs CPU per record, "
          f"{100 * share:.1f}% of the worker's CPU per record without metrics")  # fmt: skip


if __name__ == "__main__":
    main()
