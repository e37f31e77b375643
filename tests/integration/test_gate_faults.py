"""Quiet under faults, and exits that name their cause (real broker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dqgate.demo.generator import generate
from dqgate.gate.feed import produce
from dqgate.kafka import delete_topics, run_sync

from .test_gate import WorkerFactory, feed_of, gate_yaml, options, read_all
from .test_gate import workers as workers  # the fixture

pytestmark = pytest.mark.integration

OUTAGE_S = 20.0


def test_a_broker_outage_of_20_seconds_logs_fewer_than_100_lines(
    kafka_bootstrap: str,
    kafka_broker: object,
    new_topic: Callable[..., str],
    tmp_path: Path,
    workers: WorkerFactory,
) -> None:
    """The Kafka client's repeated errors are rate-limited (one line per cause per
    interval, then a count); the worker rides the outage out and loses nothing."""
    source = new_topic(partitions=3)
    records = list(generate(6_000, seed=41))
    feed = feed_of(records)
    run_sync(produce(options(kafka_bootstrap), source, feed[:3_000]))
    config = gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source)
    worker = workers(config, log_level="INFO")
    worker.wait_ready()
    read_all(kafka_bootstrap, source)
    before = len(worker.log_path.read_text().splitlines())
    kafka_broker.stop()  # type: ignore[attr-defined]
    time.sleep(OUTAGE_S)
    kafka_broker.start()  # type: ignore[attr-defined]
    run_sync(produce(options(kafka_bootstrap), source, feed[3_000:]))
    reader = read_all(kafka_bootstrap, source)
    assert len(reader.seen) == len(records)
    assert worker.alive(), worker.log_tail()
    lines = worker.log_path.read_text().splitlines()[before:]
    print(f"\n{len(lines)} log lines during a {OUTAGE_S:.0f} s outage and the recovery")
    assert len(lines) < 100, "\n".join(lines[:50])
    assert "dqgate_log_lines_suppressed_total{" in worker.metrics()
    assert worker.stop() == 0


def test_a_deleted_quarantine_topic_ends_the_worker_naming_it(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """Deleting an output topic under a running worker: a prompt exit (code 3) whose
    message names the topic and says it no longer exists, without a log storm."""
    source = new_topic(partitions=1)
    config = gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source)
    worker = workers(config)
    worker.wait_ready()
    run_sync(delete_topics(kafka_bootstrap, [f"{source}.quarantine"]))
    run_sync(produce(options(kafka_bootstrap), source, feed_of(list(generate(500, seed=42)))))
    assert worker.popen.wait(timeout=60) == 3
    log = worker.log_path.read_text()
    assert f"quarantine topic '{source}.quarantine' no longer exists" in log
    assert len(log.splitlines()) < 100
