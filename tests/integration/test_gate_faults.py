"""Quiet under faults, and exits that name their cause (real broker)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import delete_topics, run_sync
from dqgate.testing.feed import FeedRecord, produce

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


def redos_suite(path: Path) -> Path:
    """A suite whose two patterns backtrack catastrophically in Python's re: one the
    linear-time engine takes (nested quantifiers), one it cannot (a lookahead)."""
    suite = {
        "name": "redos",
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "nested", "regex": "^(a+)+$"},
                "meta": {"id": "nested_quantifiers"},
            },
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "lookahead", "regex": "^(?=a)(a+)+$"},
                "meta": {"id": "lookahead_nested"},
            },
        ],
    }
    path.write_text(json.dumps(suite), encoding="utf-8")
    return path


def test_a_redos_record_is_quarantined_within_the_budget_and_the_worker_stays_well(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """A record crafted against nested quantifiers: the linear-time engine judges the
    pattern it takes at once (pattern_mismatch); the pattern it cannot take is cut at the
    regex budget (evaluation_error). /healthz answers throughout and the worker keeps its
    partition (no rebalance)."""
    source = new_topic(partitions=1)
    evil = "a" * 40 + "!"  # each extra 'a' doubles Python's backtracking: hours at 40
    values = [
        {"nested": "aaa", "lookahead": "aaa"},
        {"nested": evil, "lookahead": "aaa"},
        {"nested": "aaa", "lookahead": evil},
        {"nested": "aa", "lookahead": "aa"},
    ]
    feed = [FeedRecord(key=b"%d" % i, value=json.dumps(v).encode()) for i, v in enumerate(values)]
    config = gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source, regex_budget_s=0.2)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["routes"][0]["suite"] = str(redos_suite(tmp_path / "redos.json"))
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    worker = workers(config)
    worker.wait_ready()
    assigned = worker.status()["partitions"]
    answers: list[tuple[float, bool]] = []
    routing = threading.Event()

    def probe() -> None:  # /healthz keeps answering while the record is judged
        while not routing.is_set():
            asked = time.monotonic()
            answered = bool(worker.status())
            answers.append((time.monotonic() - asked, answered))
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    started = time.monotonic()
    try:
        run_sync(produce(options(kafka_bootstrap), source, feed))
        reader = read_all(kafka_bootstrap, source, timeout_s=60)
    finally:
        routing.set()
        prober.join()
    took_s = time.monotonic() - started
    assert answers and all(ok for _, ok in answers)
    assert max(waited for waited, _ in answers) < 2.0
    by_key = {r.key: r for r in reader.records}
    assert by_key[b"0"].topic.endswith(".clean") and by_key[b"3"].topic.endswith(".clean")
    assert by_key[b"1"].header("dqgate.reasons") == b"pattern_mismatch"
    assert by_key[b"2"].header("dqgate.reasons") == b"evaluation_error"
    assert took_s < 30, took_s
    status = worker.status()
    assert status["ready"] and status["partitions"] == assigned
    assert "nested quantifier" in worker.log_tail(100).lower()  # warned at start-up
    assert worker.stop() == 0
