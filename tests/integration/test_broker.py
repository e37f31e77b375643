"""The project-managed broker: records survive byte for byte; the CLI starts and stops it."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dqgate.errors import BrokerError
from dqgate.kafka import (
    BrokerConfig,
    broker_status,
    describe_brokers,
    run_sync,
    start_broker,
    stop_broker,
)

from .conftest import ManagedBroker

pytestmark = pytest.mark.integration

Record = tuple[int, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]
PARTITIONS = 3


def _records(count: int) -> list[Record]:
    """Records with awkward bytes: non-UTF-8, empty, NUL, null key, repeated headers."""
    records: list[Record] = []
    for i in range(count):
        key = None if i % 17 == 0 else f"key-{i}".encode()
        value = b"" if i % 13 == 0 else bytes([i % 256, 0xFF, 0x00, 0xC3]) + os.urandom(i % 50)
        headers = (("dq-seq", str(i).encode()), ("dq-raw", b"\x00\xff"), ("dq-raw", b""))
        records.append((i % PARTITIONS, key, value, headers))
    return records


async def _produce(bootstrap: str, topic: str, records: list[Record]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value, key=key, partition=part, headers=list(headers))
            for part, key, value, headers in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int, *, timeout_s: float) -> list[Record]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got: list[Record] = []
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        async with asyncio.timeout(timeout_s):
            while len(got) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for messages in batches.values():
                    got += [(m.partition, m.key, m.value, tuple(m.headers)) for m in messages]
    finally:
        await consumer.stop()
    return got


def _by_partition(records: list[Record]) -> dict[int, list[Record]]:
    result: dict[int, list[Record]] = {}
    for record in records:
        result.setdefault(record[0], []).append(record)
    return result


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dqgate.cli.main", "kafka", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port held by a listening socket for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_records_round_trip_byte_identical(
    kafka_bootstrap: str, new_topic: Callable[..., str]
) -> None:
    """Keys, values and headers produced with acks=all come back identical, in order."""
    topic = new_topic(partitions=PARTITIONS)
    records = _records(300)
    asyncio.run(_produce(kafka_bootstrap, topic, records))
    got = asyncio.run(_consume(kafka_bootstrap, topic, len(records), timeout_s=60))
    assert _by_partition(got) == _by_partition(records)


def test_restart_keeps_topics_and_records(
    kafka_broker: ManagedBroker, new_topic: Callable[..., str]
) -> None:
    """A restart on kept storage serves the same bootstrap and the records written before."""
    topic = new_topic(partitions=PARTITIONS)
    records = _records(30)
    asyncio.run(_produce(kafka_broker.bootstrap, topic, records))
    before = kafka_broker.bootstrap
    handle = kafka_broker.restart()
    assert handle.bootstrap == before
    got = asyncio.run(_consume(handle.bootstrap, topic, len(records), timeout_s=60))
    assert _by_partition(got) == _by_partition(records)


def test_cli_start_status_stop(kafka_jars: Path, tmp_path: Path) -> None:
    """`dqgate kafka start` prints bootstrap last, the port answers, status/stop follow."""
    data_dir = tmp_path / "cli-broker"
    try:
        started = _run_cli("start", "--data-dir", str(data_dir), "--heap-max-mb", "512")
        assert started.returncode == 0, started.stderr
        last = started.stdout.strip().splitlines()[-1]
        match = re.fullmatch(r"bootstrap=127\.0\.0\.1:(\d+)", last)
        assert match is not None, started.stdout
        port = int(match.group(1))
        nodes = run_sync(describe_brokers(f"127.0.0.1:{port}"))
        assert [n.port for n in nodes] == [port]
        status = _run_cli("status", "--data-dir", str(data_dir))
        assert (status.returncode, status.stdout.splitlines()[-1]) == (0, last)
        stopped = _run_cli("stop", "--data-dir", str(data_dir))
        assert stopped.returncode == 0, stopped.stderr
        after = _run_cli("status", "--data-dir", str(data_dir))
        assert after.returncode == 3
        assert not broker_status(data_dir).running
    finally:
        stop_broker(data_dir)


def test_cli_start_fails_when_port_taken(
    kafka_jars: Path, tmp_path: Path, listening_port: int
) -> None:
    """`dqgate kafka start --port` on a taken port exits 1 and names the port."""
    result = _run_cli("start", "--data-dir", str(tmp_path), "--port", str(listening_port))
    assert result.returncode == 1
    assert f"127.0.0.1:{listening_port} is already in use" in result.stderr
    assert "bootstrap=" not in result.stdout


def test_start_fails_with_log_tail_when_broker_dies(kafka_jars: Path, tmp_path: Path) -> None:
    """A broker that exits during start raises BrokerError carrying its log's tail."""
    cfg = BrokerConfig(
        data_dir=tmp_path,
        heap_max_mb=512,
        extra_properties={"authorizer.class.name": "com.example.NoSuchAuthorizer"},
    )
    with pytest.raises(BrokerError, match="exited with code") as caught:
        start_broker(cfg, jars_dir=kafka_jars)
    assert "com.example.NoSuchAuthorizer" in str(caught.value)
    assert not broker_status(tmp_path).running


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line mentions ``text`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def test_start_timeout_kills_the_broker(kafka_jars: Path, tmp_path: Path) -> None:
    """A broker not ready in time raises BrokerError and is not left running."""
    cfg = BrokerConfig(data_dir=tmp_path, heap_max_mb=512, start_timeout_s=0.5)
    with pytest.raises(BrokerError, match="not ready within"):
        start_broker(cfg, jars_dir=kafka_jars)
    assert _processes_mentioning(str(tmp_path / "server.properties")) == []
    assert not broker_status(tmp_path).running
