"""No record can wedge a partition: records an output refuses go to quarantine as stubs.

Topics with a small ``max.message.bytes`` (100 kB, so the test moves little data) stand in
for pre-created topics at the broker's default. Runs on both engines.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import alter_topic_configs, create_topic, run_sync
from dqgate.routing import REASONS, STAGE, lineage_of
from dqgate.testing.feed import FeedRecord, produce

from .test_gate import SUITE_PATH, WorkerFactory, gate_yaml, options, read_all
from .test_gate import workers as workers  # the fixture

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

LIMIT = 100_000


def topics(bootstrap: str, new_topic: Callable[..., str], limit: int = LIMIT) -> str:
    """A source and its clean and quarantine topics, all at ``max.message.bytes`` = limit."""
    source = new_topic(partitions=1)
    configs = {"max.message.bytes": str(limit)}
    run_sync(alter_topic_configs(bootstrap, source, configs))
    for kind in ("clean", "quarantine"):
        run_sync(create_topic(bootstrap, f"{source}.{kind}", configs=configs))
    return source


def padded(value: bytes, size: int) -> bytes:
    """``value`` (a JSON object) grown to ``size`` bytes by a notes field."""
    record = json.loads(value)
    record["notes"] = ""
    base = len(json.dumps(record).encode())
    record["notes"] = "x" * (size - base)
    out = json.dumps(record).encode()
    assert len(out) == size
    return out


def is_object(value: bytes | None) -> bool:
    """True for the bytes of a JSON object (defects of the value's fields, not its syntax)."""
    try:
        return isinstance(json.loads(value or b""), dict)
    except ValueError:
        return False


def two_routes(path: Path, bootstrap: str, source: str, other: str, **extra: Any) -> Path:
    """gate.yaml with a route for ``source`` and a second one for ``other``."""
    config = gate_yaml(path, bootstrap, source, **extra)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["routes"].append(
        {"name": "other", "source": other, "suite": str(SUITE_PATH),
         "clean": f"{other}.clean", "quarantine": f"{other}.quarantine"}
    )  # fmt: skip
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_topics_that_cannot_take_every_record_stop_start_up(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """Outputs at the source's own limit: start-up refuses (exit 2), naming the topics, the
    sizes and the setting to change, unless quarantine_stubs accepts stubs."""
    source = topics(kafka_bootstrap, new_topic)
    worker = workers(gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source))
    assert worker.popen.wait(timeout=120) == 2
    log = worker.log_tail(50)
    assert f"{source}.quarantine" in log and "max.message.bytes" in log
    assert "100,000" in log and "quarantine_stubs" in log


def test_records_the_outputs_refuse_become_stubs_and_the_partition_advances(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """A passing and a failing record of the source's maximum size, and a too_large one:
    each lands in quarantine as a stub with the right headers; the partition advances,
    the other route keeps flowing, nothing is duplicated. Then the quarantine topic's
    limit is lowered at run time: batches it refuses are split, records that fit alone
    are written whole, the others become stubs."""
    source = topics(kafka_bootstrap, new_topic)
    other = new_topic(partitions=1)
    good, bad = (
        [r for r in generate(400, seed=31, defect_rate=d) if (r.reason is None) == (d == 0)]
        for d in (0.0, 1.0)
    )
    bad = [r for r in bad if is_object(r.value)]
    big_pass = padded(good[0].value or b"", LIMIT - 120)  # fits the source, not plus headers
    big_fail = padded(bad[0].value or b"", LIMIT - 120)
    feed = [FeedRecord(key=r.key, value=r.value) for r in good[1:50]]
    feed += [
        FeedRecord(key=b"big-pass", value=big_pass),
        FeedRecord(key=b"big-fail", value=big_fail),
    ]
    feed += [FeedRecord(key=r.key, value=r.value) for r in good[50:100]]
    offsets = []
    for part in (feed[:49], feed[49:50], feed[50:51], feed[51:]):  # each big one alone:
        offsets += run_sync(produce(options(kafka_bootstrap), source, part))  # 100 kB batches
    run_sync(
        produce(
            options(kafka_bootstrap), other, [FeedRecord(key=r.key, value=r.value) for r in good]
        )
    )
    config = two_routes(
        tmp_path / "gate.yaml", kafka_bootstrap, source, other, quarantine_stubs=True,
        max_record_bytes=LIMIT - 10_000,
    )  # fmt: skip
    worker = workers(config)
    worker.wait_ready()
    reader = read_all(kafka_bootstrap, source)
    assert sorted(reader.seen) == sorted(offsets) and reader.duplicates == 0
    stubs = {r.key: r for r in reader.records if r.header("dqgate.stub.sha256")}
    assert set(stubs) == {b"big-pass", b"big-fail"}
    for key, original in ((b"big-pass", big_pass), (b"big-fail", big_fail)):
        stub = stubs[key]
        assert stub.topic == f"{source}.quarantine" and stub.value == b""
        assert stub.header(STAGE) == b"deliver"
        assert b"output_too_large" in (stub.header(REASONS) or b"")
        assert stub.header("dqgate.stub.size") == b"%d" % len(original)
        assert stub.header("dqgate.stub.sha256") == hashlib.sha256(original).hexdigest().encode()
        assert (
            lineage_of(stub.headers) == offsets[feed.index(next(f for f in feed if f.key == key))]
        )
    assert b"too_large" in (stubs[b"big-fail"].header(REASONS) or b"")  # > max_record_bytes
    assert len(read_all(kafka_bootstrap, other).seen) == len(good)
    assert worker.alive() and "quarantined as a stub" in worker.log_tail(100)

    # the quarantine topic's limit lowered at run time
    run_sync(
        alter_topic_configs(kafka_bootstrap, f"{source}.quarantine", {"max.message.bytes": "20000"})
    )
    time.sleep(1)  # the broker applies topic configs asynchronously
    small_bad = [FeedRecord(key=b"small-%d" % i, value=r.value) for i, r in enumerate(bad[1:120])]
    mid_bad = [FeedRecord(key=b"mid-fail", value=padded(bad[1].value or b"", 30_000))]
    more = run_sync(produce(options(kafka_bootstrap), source, small_bad))
    more += run_sync(produce(options(kafka_bootstrap), source, mid_bad))
    reader = read_all(kafka_bootstrap, source)
    assert set(more) <= set(reader.seen) and reader.duplicates == 0
    later = {r.key: r for r in reader.records if lineage_of(r.headers) in set(more)}
    assert later[b"mid-fail"].header("dqgate.stub.size") == b"30000"
    whole = [r for k, r in later.items() if k.startswith(b"small-")]
    assert len(whole) == len(small_bad) and all(r.value for r in whole)
    assert worker.alive()
    assert worker.stop() == 0
