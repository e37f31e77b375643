"""The streaming gate against the real broker: routing, bytes, headers, stop, poison.

Workers run as child processes (``python -m dqgate.cli.main run``) and are killed in the
fixtures' teardown. Every test uses fresh topics and a fresh consumer group.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.demo.generator import GeneratedRecord, generate
from dqgate.kafka import run_sync
from dqgate.redact import MASK
from dqgate.routing import (
    FAILURES,
    LINEAGE_HEADERS,
    QUARANTINE_HEADERS,
    REASONS,
    SOURCE_TIMESTAMP,
    STAGE,
    SUITE,
    VALUES,
)
from dqgate.testing.audit import OutputReader, SourceOffset, end_offsets
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import WorkerProcess, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
BASE_TIMESTAMP_MS = 1_700_000_000_123
ORIGIN_HEADER = ("origin", b"integration-test")

WorkerFactory = Callable[..., WorkerProcess]


def gate_yaml(path: Path, bootstrap: str, source: str, **extra: Any) -> Path:
    """Write a one-route gate.yaml (fresh group, fast commits) and return its path."""
    config: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap},
        "group_id": f"dqgate-test-{uuid.uuid4().hex[:12]}",
        "routes": [
            {
                "name": "incidents",
                "source": source,
                "suite": str(SUITE_PATH),
                "clean": f"{source}.clean",
                "quarantine": f"{source}.quarantine",
            }
        ],
        "commit_interval_s": 1.0,
        "session_timeout_s": 6.0,
        "shutdown_timeout_s": 30.0,
        **extra,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start gate workers (``workers(config_path) -> WorkerProcess``); all killed afterwards."""
    started: list[WorkerProcess] = []

    def start(
        config: Path,
        *,
        name: str = "worker",
        env: dict[str, str] | None = None,
        log_level: str = "WARNING",
    ) -> WorkerProcess:
        worker = start_worker(
            ["--config", str(config)],
            log_path=tmp_path / f"{name}.log",
            env=env,
            log_level=log_level,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def feed_of(records: list[GeneratedRecord]) -> list[FeedRecord]:
    """Generated records as producer input, with a header and a fixed timestamp each."""
    return [
        FeedRecord(
            key=r.key,
            value=r.value,
            headers=(ORIGIN_HEADER,),
            timestamp_ms=BASE_TIMESTAMP_MS + r.index,
        )
        for r in records
    ]


def options(bootstrap: str) -> dict[str, Any]:
    """aiokafka client options for the test broker."""
    return {"bootstrap_servers": bootstrap}


def read_all(bootstrap: str, source: str, *, timeout_s: float = 120.0) -> OutputReader:
    """Read the clean and quarantine topics until every source offset is accounted for."""

    async def read() -> OutputReader:
        expected = await end_offsets(options(bootstrap), [source])
        reader = OutputReader(
            options(bootstrap),
            [f"{source}.clean", f"{source}.quarantine"],
            quarantine_topics=[f"{source}.quarantine"],
            keep_records=True,
        )
        async with reader:
            done = await reader.wait_for(expected, timeout_s=timeout_s)
        missing = reader.missing(expected, limit=5)
        assert done, f"not every source offset was routed; first missing: {missing}"
        return reader

    return run_sync(read())


class Routed:
    """One finished run of the gate over generated records: inputs and outputs."""

    def __init__(self, records: list[GeneratedRecord], offsets: list[SourceOffset]) -> None:
        self.by_offset = dict(zip(offsets, records, strict=True))
        self.reader: OutputReader | None = None
        self.exit_code: int | None = None
        self.committed: dict[int, int] = {}
        self.ends: dict[tuple[str, int], int] = {}


@pytest.fixture(scope="module")
def routed(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, gate_engine: str
) -> Iterator[Routed]:
    """20,000 generated records (3 partitions) through one worker, then SIGTERM."""
    from dqgate.kafka import create_topic

    tmp = tmp_path_factory.mktemp("routed")
    source = f"dqgate-test-gate-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=3))
    records = list(generate(20_000, seed=7))
    offsets = run_sync(produce(options(kafka_bootstrap), source, feed_of(records)))
    run = Routed(records, offsets)
    config = gate_yaml(tmp / "gate.yaml", kafka_bootstrap, source)
    worker = start_worker(["--config", str(config)], log_path=tmp / "worker.log")
    try:
        worker.wait_ready()
        run.reader = read_all(kafka_bootstrap, source)
        run.exit_code = worker.stop()
        group = yaml.safe_load(config.read_text())["group_id"]
        run.committed = run_sync(_committed(kafka_bootstrap, group, source))
        run.ends = run_sync(end_offsets(options(kafka_bootstrap), [source]))
        yield run
    finally:
        worker.kill()


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


def test_every_source_offset_is_routed_exactly_once_without_a_crash(routed: Routed) -> None:
    """Every source offset appears in clean or quarantine, once, matched by lineage."""
    assert routed.reader is not None
    assert set(routed.reader.seen) == set(routed.by_offset)
    assert routed.reader.duplicates == 0
    assert routed.reader.unlabelled == 0


def test_quarantine_reasons_equal_the_injected_defects(routed: Routed) -> None:
    """The quarantined records are exactly the defective ones, each with its reason."""
    assert routed.reader is not None
    injected = {o for o, r in routed.by_offset.items() if r.reason is not None}
    assert routed.reader.quarantined == injected
    expected = Counter(str(r.reason) for r in routed.by_offset.values() if r.reason is not None)
    assert routed.reader.reasons == expected


def test_quarantined_records_are_byte_identical_with_headers_and_timestamp(
    routed: Routed,
) -> None:
    """Quarantined key and value bytes, original headers and timestamp are unchanged."""
    assert routed.reader is not None
    quarantined = [r for r in routed.reader.records if r.topic.endswith(".quarantine")]
    assert quarantined
    for out in quarantined:
        source = routed.by_offset[_lineage(out.headers)]
        assert (out.key, out.value) == (source.key, source.value)
        assert out.headers[0] == ORIGIN_HEADER
        assert out.timestamp == BASE_TIMESTAMP_MS + source.index
        assert out.header(REASONS) == str(source.reason).encode()
        assert [name for name, _ in out.headers[1:]] == list(QUARANTINE_HEADERS)


def test_quarantine_headers_describe_the_failure_without_values(routed: Routed) -> None:
    """Stage, suite and failures headers are set; the failures JSON holds no value."""
    assert routed.reader is not None
    for out in routed.reader.records:
        if not out.topic.endswith(".quarantine"):
            continue
        source = routed.by_offset[_lineage(out.headers)]
        assert out.header(SUITE) == b"incident_reports"
        stage = b"decode" if source.reason in ("undecodable", "not_an_object") else b"validate"
        assert out.header(STAGE) == stage
        failures = out.header(FAILURES) or b""
        assert failures.startswith(b"[{") and b'"reason"' in failures
        assert source.value is None or len(source.value) < 8 or source.value not in failures


def test_clean_records_keep_bytes_and_carry_only_lineage_headers(routed: Routed) -> None:
    """Clean records are unchanged plus exactly the four lineage headers."""
    assert routed.reader is not None
    clean = [r for r in routed.reader.records if r.topic.endswith(".clean")]
    assert len(clean) == sum(1 for r in routed.by_offset.values() if r.reason is None)
    for out in clean:
        source = routed.by_offset[_lineage(out.headers)]
        assert (out.key, out.value) == (source.key, source.value)
        assert out.timestamp == BASE_TIMESTAMP_MS + source.index
        assert [name for name, _ in out.headers] == [ORIGIN_HEADER[0], *LINEAGE_HEADERS]
        assert out.header(SOURCE_TIMESTAMP) == str(out.timestamp).encode()


def test_sigterm_exits_zero_after_committing_everything(routed: Routed) -> None:
    """SIGTERM ends the worker with 0 and the group's offsets are at the source's end."""
    assert routed.exit_code == 0
    assert routed.committed == {p: end for (_, p), end in routed.ends.items()}


def test_random_bytes_are_all_quarantined_and_never_crash_the_worker(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """10,000 random byte strings and a tombstone: all quarantined (undecodable,
    not_an_object; the tombstone as tombstone), bytes and headers unchanged."""
    source = new_topic(partitions=2)
    rng = random.Random(11)
    values: list[bytes | None] = [rng.randbytes(rng.randrange(0, 300)) for _ in range(10_000)]
    values.append(None)
    feed = [FeedRecord(key=rng.randbytes(8), value=v, headers=(("h", None),)) for v in values]
    offsets = run_sync(produce(options(kafka_bootstrap), source, feed))
    worker = workers(gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source))
    worker.wait_ready()
    reader = read_all(kafka_bootstrap, source)
    by_offset = dict(zip(offsets, values, strict=True))
    assert reader.quarantined == set(by_offset)
    assert set(reader.reasons) <= {"undecodable", "not_an_object", "tombstone"}
    assert reader.reasons["tombstone"] == 1
    for out in reader.records:
        assert out.value == by_offset[_lineage(out.headers)]
        assert out.headers[0] == ("h", None)
    assert worker.alive()
    assert worker.stop() == 0


def test_one_worker_runs_several_routes(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """Two routes in one worker: each source is routed to its own outputs and counted."""
    sources = [new_topic(partitions=2), new_topic(partitions=1)]
    for n, source in enumerate(sources):
        records = list(generate(1_000 * (n + 1), seed=n))
        run_sync(produce(options(kafka_bootstrap), source, feed_of(records)))
    config = gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, sources[0])
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    second = {"name": "second", "source": sources[1], "suite": str(SUITE_PATH)}
    second.update(clean=f"{sources[1]}.clean", quarantine=f"{sources[1]}.quarantine")
    data["routes"].append(second)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    worker = workers(config)
    worker.wait_ready()
    for n, source in enumerate(sources):
        assert len(read_all(kafka_bootstrap, source).seen) == 1_000 * (n + 1)
    status = worker.status()
    assert status["ready"] is True and status["not_ready"] == [], status
    metrics = worker.metrics()
    for route, total in (("incidents", 1_000), ("second", 2_000)):
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("dqgate_records_total{") and f'route="{route}"' in line
        )
        assert counted >= total


def test_opted_in_values_header_shows_failing_values_with_redaction(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path, workers: WorkerFactory
) -> None:
    """quarantine_values: true adds dqgate.values (failing columns only, redact applied)."""
    source = new_topic(partitions=2)
    records = list(generate(2_000, seed=11, defect_rate=0.3))
    run_sync(produce(options(kafka_bootstrap), source, feed_of(records)))
    config = gate_yaml(
        tmp_path / "gate.yaml", kafka_bootstrap, source,
        quarantine_values=True, redact=["birth_date"],
    )  # fmt: skip
    worker = workers(config)
    worker.wait_ready()
    reader = read_all(kafka_bootstrap, source)
    shown = masked = absent = 0
    for out in reader.records:
        if not out.topic.endswith(".quarantine") or out.header(STAGE) != b"validate":
            continue
        document = json.loads(out.value or b"")
        failing = [c for f in json.loads(out.header(FAILURES) or b"[]") for c in _columns(f)]
        expected = {c: MASK if c == "birth_date" else document[c] for c in failing if c in document}
        if not expected:  # every failing field is missing from the record: nothing to show
            assert out.header(VALUES) is None
            absent += 1
            continue
        assert [n for n, _ in out.headers[1:]] == [*QUARANTINE_HEADERS, VALUES]
        assert json.loads(out.header(VALUES) or b"null") == expected
        shown += len(expected)
        masked += "birth_date" in expected
    assert shown > 100 and masked > 0 and absent > 0, (shown, masked, absent)


def _columns(failure: dict[str, Any]) -> list[str]:
    column = failure["column"]
    return column if isinstance(column, list) else [] if column is None else [column]


def test_missing_source_topic_fails_at_start_with_exit_code_2(
    kafka_bootstrap: str, tmp_path: Path, workers: WorkerFactory
) -> None:
    """A source topic that does not exist is a configuration error naming the topic."""
    source = f"dqgate-test-missing-{uuid.uuid4().hex}"
    worker = workers(gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source))
    assert worker.popen.wait(timeout=120) == 2
    assert f"source topic {source!r}" in worker.log_tail()


def _lineage(headers: Any) -> SourceOffset:
    from dqgate.routing import lineage_of

    found = lineage_of(headers)
    assert found is not None
    return found


@pytest.mark.parametrize("policy", ["quarantine", "clean"])
def test_tombstones_follow_the_routes_policy(
    kafka_bootstrap: str,
    new_topic: Callable[..., str],
    tmp_path: Path,
    workers: WorkerFactory,
    policy: str,
) -> None:
    """Deletes (null values) on a compacted/CDC source: quarantined with reason tombstone
    by default; with tombstones: clean they reach the clean topic with key and lineage."""
    source = new_topic(partitions=1)
    records = list(generate(200, seed=21, defect_rate=0.0))
    feed = feed_of(records)
    deletes = {10, 50, 51, 199}
    for index in deletes:
        feed[index] = FeedRecord(key=b"deleted-%d" % index, value=None, headers=(ORIGIN_HEADER,))
    offsets = run_sync(produce(options(kafka_bootstrap), source, feed))
    config = gate_yaml(tmp_path / "gate.yaml", kafka_bootstrap, source)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["routes"][0]["tombstones"] = policy
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    worker = workers(config)
    worker.wait_ready()
    reader = read_all(kafka_bootstrap, source)
    tombstones = [r for r in reader.records if r.value is None]
    assert {_lineage(r.headers) for r in tombstones} == {offsets[i] for i in deletes}
    for out in tombstones:
        assert out.key is not None and out.key.startswith(b"deleted-")
        assert out.topic == f"{source}.{policy}"
        assert out.header(REASONS) == (b"tombstone" if policy == "quarantine" else None)
    assert reader.reasons.get("tombstone", 0) == (len(deletes) if policy == "quarantine" else 0)
    assert worker.stop() == 0
