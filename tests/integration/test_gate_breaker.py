"""The circuit breaker on a broken upstream: pause, show it, resume on request."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import run_sync
from dqgate.testing.audit import OutputReader
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import WorkerProcess

from .test_gate import WorkerFactory, gate_yaml, options, read_all
from .test_gate import workers as workers  # the fixture

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

PAUSED = 'dqgate_circuit_open{route="incidents"} 1.0'


def routed_count(bootstrap: str, source: str) -> int:
    """Output records currently in the clean and quarantine topics."""

    async def count() -> int:
        reader = OutputReader(options(bootstrap), [f"{source}.clean", f"{source}.quarantine"])
        async with reader:
            while await reader.poll(1.0):
                pass
        return sum(reader.seen.values())

    return run_sync(count())


def wait_for_metric(worker: WorkerProcess, line: str, *, timeout_s: float = 60.0) -> None:
    """Block until ``line`` appears in the worker's /metrics."""
    deadline = time.monotonic() + timeout_s
    while line not in worker.metrics():
        assert worker.alive(), worker.log_tail()
        assert time.monotonic() < deadline, f"{line!r} not in metrics"
        time.sleep(0.2)


TOKEN = "integration-test-control-token"
CONTROL = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def test_broken_upstream_pauses_the_route_until_resumed(
    kafka_bootstrap: str,
    new_topic: Callable[..., str],
    tmp_path: Path,
    workers: WorkerFactory,
    gate_engine: str,
) -> None:
    """Mostly-garbage input trips the breaker: route paused (the batch engine within the
    batch, at the record that tripped it), lag kept, resumable over the control endpoint."""
    source = new_topic(partitions=1)
    good = [FeedRecord(key=r.key, value=r.value) for r in generate(300, seed=1, defect_rate=0.0)]
    garbage = [FeedRecord(key=b"k", value=b"\xff not json %d" % i) for i in range(6000)]
    run_sync(produce(options(kafka_bootstrap), source, good + garbage))
    breaker = {"window_records": 100, "max_quarantine_ratio": 0.5}
    token = tmp_path / "control-token"
    token.write_text(TOKEN, encoding="utf-8")
    token.chmod(0o600)
    config = gate_yaml(
        tmp_path / "gate.yaml", kafka_bootstrap, source, batch_size=500, circuit_breaker=breaker,
        http={"control_enabled": True, "control_token_file": str(token)},
    )  # fmt: skip
    worker = workers(config)
    worker.wait_ready()
    wait_for_metric(worker, PAUSED)
    assert 'dqgate_circuit_breaker_trips_total{route="incidents"} 1.0' in worker.metrics()
    first = routed_count(kafka_bootstrap, source)
    # The lag (read while paused) shows what waits behind the paused route: the gate's own
    # position says it routed exactly what was read back, and nothing after.
    waiting = len(good) + len(garbage) - first
    wait_for_metric(
        worker, f'dqgate_consumer_lag_records{{partition="0",route="incidents"}} {waiting}.0'
    )
    held = routed_count(kafka_bootstrap, source)
    assert held == first < len(good) + len(garbage)
    if gate_engine == "batch":
        # window 100, ratio 0.5: the 51st garbage record after 300 good ones trips it,
        # inside a batch of 500; nothing after it was routed
        assert held == len(good) + 51
    assert "paused by the circuit breaker" in worker.log_tail(200)
    resume = "/routes/incidents/resume"
    assert worker.post(resume, headers={"Content-Type": "application/json"}) == 401
    assert worker.post(resume, headers={**CONTROL, "Origin": "https://evil.example"}) == 403
    assert routed_count(kafka_bootstrap, source) == held  # refused requests changed nothing
    assert worker.post(resume, headers=CONTROL) == 200
    assert worker.post("/routes/nope/resume", headers=CONTROL) == 404
    wait_for_metric(worker, 'dqgate_circuit_breaker_trips_total{route="incidents"} 2.0')
    assert routed_count(kafka_bootstrap, source) > held
    assert worker.stop() == 0


def test_resuming_a_route_that_is_not_paused_is_refused_with_409(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """A resume of a running route changes nothing and says so (409)."""
    source = new_topic(partitions=1)
    token = tmp_path / "control-token"
    token.write_text(TOKEN, encoding="utf-8")
    token.chmod(0o600)
    config = gate_yaml(
        tmp_path / "gate.yaml", kafka_bootstrap, source,
        circuit_breaker={"window_records": 100, "max_quarantine_ratio": 0.5},
        http={"control_enabled": True, "control_token_file": str(token)},
    )  # fmt: skip
    worker = workers(config)
    worker.wait_ready()
    assert worker.post("/routes/incidents/resume", headers=CONTROL) == 409
    assert "PAUSED" not in worker.metrics() and PAUSED not in worker.metrics()
    assert worker.stop() == 0


def test_records_held_by_a_paused_route_are_routed_after_a_restart(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """A paused route skips nothing: restarted without the breaker, every record is routed."""
    source = new_topic(partitions=2)
    garbage = [FeedRecord(key=b"%d" % i, value=b"<html>%d" % i) for i in range(5000)]
    offsets = run_sync(produce(options(kafka_bootstrap), source, garbage))
    breaker = {"window_records": 50, "max_quarantine_ratio": 0.9}
    config = gate_yaml(
        tmp_path / "gate.yaml", kafka_bootstrap, source, batch_size=50, circuit_breaker=breaker
    )
    paused = workers(config, name="paused")
    paused.wait_ready()
    wait_for_metric(paused, PAUSED)
    assert paused.stop() == 0
    held = routed_count(kafka_bootstrap, source)
    assert held < len(garbage)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.pop("circuit_breaker")
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    workers(config, name="unpaused").wait_ready()
    reader = read_all(kafka_bootstrap, source)
    assert set(reader.seen) == set(offsets)
