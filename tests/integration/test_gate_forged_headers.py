"""A producer's forged dqgate.* headers never pass as the gate's own (real broker)."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from dqgate.cli.main import main
from dqgate.demo.generator import generate
from dqgate.kafka import run_sync
from dqgate.routing import REASONS, SOURCE_OFFSET, SOURCE_PARTITION, SOURCE_TOPIC, lineage_of
from dqgate.testing.feed import FeedRecord, produce

from .test_gate import WorkerFactory, gate_yaml, options, read_all
from .test_gate import workers as workers  # the fixture

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

FORGED = (
    (SOURCE_TOPIC, b"somewhere-else"),
    (SOURCE_PARTITION, b"7"),
    (SOURCE_OFFSET, b"999999"),
    (REASONS, b"forged"),
    ("dqgate.failures", b'[{"expectation_id": "forged"}]'),
    ("dqgate.replay.count", b"99"),
    ("dqgate.replay.of", b"x.quarantine/0/1"),
    ("dqgate.replay.sig", b"00" * 32),
)


def replay(*argv: str) -> tuple[int, dict[str, object]]:
    """`dqgate quarantine replay ... --json`: exit code and report."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["quarantine", "replay", *argv, "--json"])
    return code, json.loads(buffer.getvalue())


def test_forged_headers_are_kept_apart_and_cannot_block_a_replay(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """Every output carries the real lineage; the forged headers only as dqgate.original.*;
    a forged replay count of 99 does not stop the replay (--max-replays 3), and the record
    then carries the replay tool's own sealed count."""
    source = new_topic(partitions=1)
    generated = list(generate(40, seed=12, defect_rate=0.5))
    feed = [FeedRecord(key=r.key, value=r.value, headers=FORGED) for r in generated]
    written = run_sync(produce(options(kafka_bootstrap), source, feed))
    key = tmp_path / "replay.key"
    key.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
    key.chmod(0o600)
    config = gate_yaml(
        tmp_path / "gate.yaml", kafka_bootstrap, source, replay={"key_file": str(key)}
    )
    worker = workers(config)
    worker.wait_ready()
    reader = read_all(kafka_bootstrap, source)
    assert sorted(reader.seen) == sorted(written)
    quarantined = 0
    for out in reader.records:
        headers = out.headers
        assert lineage_of(headers) in written  # the gate's own, first of their names
        mine = {name: value for name, value in headers if name.startswith("dqgate.")}
        assert mine[SOURCE_TOPIC] == source.encode()
        assert mine[SOURCE_OFFSET] != b"999999"
        for name, value in FORGED:
            assert mine["dqgate.original." + name.removeprefix("dqgate.")] == value
        assert not any(name.startswith("dqgate.replay.") for name, _ in headers)
        if out.topic.endswith(".quarantine"):
            quarantined += 1
            assert mine[REASONS] != b"forged"
    assert quarantined > 0
    state = ["--state-dir", str(tmp_path / "state")]
    code, report = replay(
        f"{source}.quarantine", "--config", str(config), "--max-replays", "3", *state
    )
    assert code == 0, report
    assert report["replayed"] == quarantined and report["refused"] == 0
    again = read_all(kafka_bootstrap, source)
    counts = [
        dict(out.headers).get("dqgate.replay.count")
        for out in again.records
        if out.topic.endswith(".quarantine") and dict(out.headers).get("dqgate.replay.of")
    ]
    assert counts and set(counts) == {b"1"}  # the replay tool's own count, trusted
    assert worker.stop() == 0
