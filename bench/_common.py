"""Shared drivers of the end-to-end benchmarks (not a benchmark itself).

- the local broker for a run (:func:`local_broker`), fresh route topics and a gate config;
- the records (:func:`generated_feed`) and fast producers (backlog and paced), every
  record on the partition its key gives (the Java client's partitioner), so the same
  records have the same partitions and offsets in every source topic of a run;
- child processes in their own process group, always stopped (:class:`ChildProcess`);
- what a process costs, from Linux's /proc: CPU seconds, RSS and peak RSS;
- how long a gate takes to route a backlog, from the output topics' end offsets
  (:func:`drain_backlog`) or from the lineage headers (:func:`time_routing`);
- which source offsets a gate quarantined, from its quarantine topic's lineage headers
  (:func:`quarantined_offsets`), against those a verdict function expects
  (:func:`expected_offsets`);
- the machine's description and its load average during a run (:class:`LoadSampler`).

The scripts in bench/ import it as a sibling module (``sys.path`` holds the script's folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import BrokerConfig, create_topic, start_broker, stop_broker
from dqgate.testing.audit import OutputReader, end_offsets
from dqgate.testing.feed import FeedRecord
from dqgate.testing.process import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "expectations" / "incident_reports.json"
OUT_DIR = Path(__file__).resolve().parent / "out"
PARTITIONS = 4
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# -- what a process costs -------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes(pid: int) -> int:
    """Resident set size of a process now (0 when unknown)."""
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size of a process so far (VmHWM; 0 when unknown)."""
    return _status_kib(pid, "VmHWM") * 1024


# -- the machine ----------------------------------------------------------------------


def machine_description() -> dict[str, str]:
    """CPU model, cores, RAM, Python and kernel, for a results table."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "cpu": f"{model} ({platform.machine()})",
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "kernel": f"{platform.system()} {platform.release()}",
    }


class LoadSampler:
    """Samples the 1-minute load average every ``interval_s`` in a daemon thread."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self.samples: list[float] = []
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="load-sampler")

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.samples.append(os.getloadavg()[0])
            if self._stop.wait(self._interval_s):
                return

    def summary(self) -> str:
        """``min / mean / max`` of the samples."""
        if not self.samples:
            return "unknown"
        mean = sum(self.samples) / len(self.samples)
        return f"{min(self.samples):.2f} / {mean:.2f} / {max(self.samples):.2f}"


# -- broker, topics, records ------------------------------------------------------------


@contextlib.contextmanager
def local_broker(bootstrap: str | None = None) -> Iterator[str]:
    """Yield ``bootstrap`` if given, else start the project's broker on a temporary dir.

    The broker is stopped when the block ends, whatever happened inside it.
    """
    if bootstrap is not None:
        yield bootstrap
        return
    with tempfile.TemporaryDirectory(prefix="dqgate-bench-kafka-") as tmp:
        data_dir = Path(tmp) / "kafka"
        try:
            yield start_broker(BrokerConfig(data_dir=data_dir)).bootstrap
        finally:
            stop_broker(data_dir)


def new_topic_name(prefix: str) -> str:
    """A fresh topic name: ``prefix`` plus a random suffix."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteTopics:
    """A source topic and its gate's clean and quarantine topics."""

    source: str
    clean: str
    quarantine: str

    @property
    def outputs(self) -> tuple[str, str]:
        """The clean and quarantine topics."""
        return (self.clean, self.quarantine)


async def create_route_topics(
    bootstrap: str, prefix: str, partitions: int = PARTITIONS
) -> RouteTopics:
    """Create a fresh source topic and its two outputs, each with ``partitions``; the
    outputs with room for a source record plus the gate's headers (as SECURITY.md says)."""
    source = new_topic_name(prefix)
    topics = RouteTopics(source=source, clean=f"{source}.clean", quarantine=f"{source}.quarantine")
    await create_topic(bootstrap, topics.source, partitions=partitions)
    room = {"max.message.bytes": str(2 * 1024 * 1024)}
    for topic in topics.outputs:
        await create_topic(bootstrap, topic, partitions=partitions, configs=room)
    return topics


def write_gate_config(
    path: Path,
    bootstrap: str,
    topics: RouteTopics,
    *,
    validate: bool = True,
    settings: dict[str, Any] | None = None,
) -> Path:
    """A ``dqgate run`` config for one route over ``topics`` (group id: the source name)."""
    route = {
        "source": topics.source,
        "suite": str(SUITE),
        "clean": topics.clean,
        "quarantine": topics.quarantine,
        "validate": validate,
    }
    config = {
        "kafka": {"bootstrap_servers": bootstrap},
        "group_id": topics.source,
        "routes": [route],
        **(settings or {}),
    }
    path.write_text(yaml.safe_dump(config))
    return path


def generated_feed(count: int, seed: int = 1) -> list[FeedRecord]:
    """``count`` generated incident reports (10% defects) as records to produce."""
    return [FeedRecord(key=r.key, value=r.value) for r in generate(count, seed=seed)]


def producer_options(bootstrap: str) -> dict[str, Any]:
    """The benchmark's producers: acks=all, idempotent, batched."""
    return {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
    }


async def produce_all(bootstrap: str, topic: str, records: Iterable[FeedRecord]) -> int:
    """Produce ``records`` as fast as the producer goes (timestamps: now); returns count."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    pending: list[Any] = []
    sent = 0
    try:
        for record in records:
            pending.append(await producer.send(topic, record.value, key=record.key))
            sent += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


async def produce_backlog(
    bootstrap: str, topic: str, records: Iterable[FeedRecord], partitions: int = PARTITIONS
) -> dict[int, int]:
    """Produce ``records`` in order, fast: record batches per partition (timestamps: now).

    Each record goes to the partition its key gives (:func:`feed_partition`). Returns the
    topic's end offset per partition afterwards.
    """
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    builders: dict[int, Any] = {}
    pending: list[Any] = []
    try:
        for index, record in enumerate(records):
            partition = feed_partition(record, index, partitions)
            builder = builders.get(partition)
            if builder is None:
                builder = builders[partition] = producer.create_batch()
            if builder.append(timestamp=None, key=record.key, value=record.value, headers=[]):
                continue
            pending.append(await producer.send_batch(builder, topic, partition=partition))
            builder = builders[partition] = producer.create_batch()
            builder.append(timestamp=None, key=record.key, value=record.value, headers=[])
            if len(pending) >= 64:
                await asyncio.gather(*pending)
                pending.clear()
        for partition, builder in builders.items():
            pending.append(await producer.send_batch(builder, topic, partition=partition))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return {tp.partition: end for tp, end in (await source_ends(bootstrap, topic)).items()}


def feed_partition(record: FeedRecord, index: int, partitions: int = PARTITIONS) -> int:
    """The partition of the ``index``-th record: its key's (Java client), else round robin."""
    from dqgate.gate.emit import partition_for

    if record.key is None:
        return index % partitions
    return partition_for(record.key, partitions)


async def source_ends(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> dict[Any, int]:
    """End offset of each partition of ``topic``."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        await consumer.stop()
    return dict(ends)


async def produce_paced(
    bootstrap: str, topic: str, records: Iterable[FeedRecord], rate_per_s: float,
    partitions: int = PARTITIONS,
) -> float:  # fmt: skip
    """Produce ``records`` at ``rate_per_s``, each stamped with its send time (ms).

    Returns the achieved rate. Every 2 ms the records due by then are stamped with the
    time and sent as record batches, one per partition (the key's, as
    :func:`produce_backlog`); deliveries are awaited only when many batches are
    outstanding, so the pace does not depend on the broker's round trip.
    """
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**{**producer_options(bootstrap), "linger_ms": 0})
    await producer.start()
    pending: list[Any] = []
    sent = 0
    try:
        iterator = iter(records)
        started = time.monotonic()
        done = False
        while not done:
            due = int((time.monotonic() - started) * rate_per_s) + 1
            now_ms = time.time_ns() // 1_000_000
            builders: dict[int, Any] = {}
            while sent < due:
                record = next(iterator, None)
                if record is None:
                    done = True
                    break
                partition = feed_partition(record, sent, partitions)
                builder = builders.get(partition)
                if builder is None:
                    builder = builders[partition] = producer.create_batch()
                if not builder.append(timestamp=now_ms, key=record.key, value=record.value):
                    pending.append(await producer.send_batch(builder, topic, partition=partition))
                    builder = builders[partition] = producer.create_batch()
                    builder.append(timestamp=now_ms, key=record.key, value=record.value)
                sent += 1
            for partition, builder in builders.items():
                pending.append(await producer.send_batch(builder, topic, partition=partition))
            if len(pending) >= 512:
                await asyncio.gather(*pending)
                pending.clear()
            await asyncio.sleep(0.002)
        elapsed = time.monotonic() - started
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent / elapsed if elapsed > 0 else float("nan")


# -- child processes --------------------------------------------------------------------


class ChildProcess:
    """A child process in its own session; :meth:`stop` ends its whole process group."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log_path
        with log_path.open("ab") as log_file:
            self.popen = subprocess.Popen(
                command,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        return self.popen.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the child's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM to the group, SIGKILL after ``timeout_s``; returns the exit code."""
        return stop_group(self.popen, timeout_s)


def stop_group(popen: subprocess.Popen[bytes], timeout_s: float = 30.0) -> int:
    """Stop a child started with ``start_new_session=True`` and everything in its group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, sig)
        try:
            return popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            continue
    return popen.wait()


def stop_worker(worker: WorkerProcess, timeout_s: float = 60.0) -> None:
    """Stop a ``dqgate run`` worker gracefully, then anything left in its process group."""
    try:
        worker.stop(timeout_s=timeout_s)
    finally:
        stop_group(worker.popen, timeout_s=5.0)


# -- timing a gate ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Drained:
    """A backlog routed: seconds from the first output to the last, records, CPU s."""

    elapsed_s: float
    routed: int
    cpu_s: float

    @property
    def records_per_s(self) -> float:
        """Routed records per second."""
        return self.routed / self.elapsed_s if self.elapsed_s > 0 else float("nan")


class OutputCounter:
    """Counts the records in output topics from their end offsets (no reading)."""

    def __init__(self, bootstrap: str, topics: Iterable[str], partitions: int = PARTITIONS) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._partitions = partitions
        self._consumer: Any = None
        self._tps: list[Any] = []

    async def __aenter__(self) -> OutputCounter:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False
        )
        await self._consumer.start()
        self._tps = [TopicPartition(t, p) for t in self._topics for p in range(self._partitions)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def count(self) -> int:
        """Records written to the outputs so far."""
        ends = await self._consumer.end_offsets(self._tps)
        return int(sum(ends.values()))

    async def wait_for(
        self,
        total: int,
        *,
        timeout_s: float,
        poll_s: float = 0.02,
        on_count: Callable[[int], None] | None = None,
        alive: Callable[[], bool] | None = None,
    ) -> int:
        """Poll until ``total`` records are out; returns the last count (may be short)."""
        deadline = time.monotonic() + timeout_s
        while True:
            n = await self.count()
            if on_count is not None:
                on_count(n)
            if n >= total or time.monotonic() >= deadline:
                return n
            if alive is not None and not alive():
                raise RuntimeError("the gate under test exited")
            await asyncio.sleep(poll_s)


async def drain_backlog(
    counter: OutputCounter,
    total: int,
    pid: int | Sequence[int],
    *,
    timeout_s: float = 1800.0,
    on_count: Callable[[int], None] | None = None,
    alive: Callable[[], bool] | None = None,
) -> Drained:
    """Time a gate over a backlog: from its first output until ``total`` are out.

    ``pid``: the gate's process, or its processes (their CPU seconds are added up).
    """
    pids = [pid] if isinstance(pid, int) else list(pid)

    def cpu() -> float:
        return sum(cpu_seconds(p) for p in pids)

    start_n = await counter.wait_for(1, timeout_s=300.0, on_count=on_count, alive=alive)
    if start_n < 1:
        raise RuntimeError("the gate under test produced nothing within 300 s")
    first_at = time.perf_counter()
    cpu_at_first = cpu()
    done = await counter.wait_for(total, timeout_s=timeout_s, on_count=on_count, alive=alive)
    elapsed = time.perf_counter() - first_at
    if done < total:
        raise RuntimeError(f"only {done} of {total} records routed within {timeout_s:.0f} s")
    return Drained(elapsed_s=elapsed, routed=total - start_n, cpu_s=cpu() - cpu_at_first)


async def time_routing(
    options: dict[str, Any], source: str, worker: WorkerProcess
) -> tuple[float, int, float]:
    """Seconds from the first output until all are routed, records routed, worker CPU s.

    Every source offset is accounted for by the outputs' lineage headers.
    """
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


# -- latency ------------------------------------------------------------------------------


class LatencyWatcher:
    """Reads output topics from their current end; latency = arrival - record timestamp.

    The reading runs in a child process of its own, so that arrival times are not held
    back by the benchmark's producer sharing an event loop with it.
    """

    def __init__(self, bootstrap: str, topics: Iterable[str], partitions: int = PARTITIONS) -> None:
        self._args = (bootstrap, tuple(topics), partitions)
        self._conn: Any = None
        self._process: Any = None
        self.latencies_ms: list[int] = []

    async def __aenter__(self) -> LatencyWatcher:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_watch_latency, args=(*self._args, child), daemon=True, name="latency"
        )
        self._process.start()
        child.close()
        if await asyncio.to_thread(self._receive, 120.0) != "ready":
            raise RuntimeError("the latency reader did not start")
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(("stop", 0, 0.0))
        await asyncio.to_thread(self._process.join, 30.0)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()

    def _receive(self, timeout_s: float) -> Any:
        if not self._conn.poll(timeout_s):
            raise RuntimeError(f"no answer from the latency reader within {timeout_s:.0f} s")
        return self._conn.recv()

    async def wait_for(self, count: int, timeout_s: float) -> bool:
        """Wait until ``count`` records arrived (``latencies_ms`` then holds them all, or
        those that arrived in time); False on timeout."""
        self._conn.send(("wait", count, timeout_s))
        arrived, self.latencies_ms = await asyncio.to_thread(self._receive, timeout_s + 120.0)
        return bool(arrived)


def _watch_latency(bootstrap: str, topics: tuple[str, ...], partitions: int, conn: Any) -> None:
    """The latency reader's process: read, answer ``wait`` commands until ``stop``."""
    asyncio.run(_read_latency(bootstrap, topics, partitions, conn))


async def _read_latency(
    bootstrap: str, topics: tuple[str, ...], partitions: int, conn: Any
) -> None:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
    )
    await consumer.start()
    latencies: list[int] = []

    async def read() -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            now_ms = time.time_ns() // 1_000_000
            for messages in batches.values():
                latencies.extend(now_ms - m.timestamp for m in messages)

    reader = None
    try:
        tps = [TopicPartition(t, p) for t in topics for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end positions now, before anything is produced
            await consumer.position(tp)
        reader = asyncio.create_task(read())
        conn.send("ready")
        while True:
            command, count, timeout_s = await asyncio.to_thread(conn.recv)
            if command == "stop":
                return
            deadline = time.monotonic() + timeout_s
            # polls a count another task grows, with a deadline
            while len(latencies) < count and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            conn.send((len(latencies) >= count, list(latencies)))
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await consumer.stop()


def percentile(values: list[int], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return float(ordered[index])


# -- what a gate quarantined ------------------------------------------------------------

PEER_LINEAGE = ("source.partition", "source.offset")
"""The peers' lineage headers (dqgate's are ``dqgate.source.partition`` / ``.offset``)."""
_LINEAGE_NAMES = {
    "dqgate.source.partition": 0,
    "dqgate.source.offset": 1,
    PEER_LINEAGE[0]: 0,
    PEER_LINEAGE[1]: 1,
}


def expected_offsets(
    feed: Iterable[FeedRecord], quarantines: Callable[[bytes | None], bool],
    partitions: int = PARTITIONS,
) -> set[tuple[int, int]]:  # fmt: skip
    """(partition, offset) of each record of ``feed`` that ``quarantines``, as produced by
    :func:`produce_backlog` into a fresh topic."""
    next_offset = [0] * partitions
    expected = set()
    for index, record in enumerate(feed):
        partition = feed_partition(record, index, partitions)
        if quarantines(record.value):
            expected.add((partition, next_offset[partition]))
        next_offset[partition] += 1
    return expected


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantined:
    """What a quarantine topic holds for a backlog: source offsets, copies, untraceable."""

    offsets: frozenset[tuple[int, int]]
    """(source partition, source offset) of the backlog's records found in quarantine."""
    duplicates: int
    """Copies beyond the first of a source record (at-least-once after a restart)."""
    untraced: int
    """Records without lineage headers (a gate that does not write them)."""
    lineage_seen: bool
    """True when some record of the topic had lineage headers."""


async def quarantined_offsets(
    bootstrap: str,
    topic: str,
    backlog_ends: dict[int, int],
    partitions: int = PARTITIONS,
    *,
    timeout_s: float = 180.0,
) -> Quarantined:
    """Read ``topic`` from the start to its end now; the backlog's source offsets in it.

    A record belongs to the backlog when its source offset is below ``backlog_ends`` of
    its source partition (records produced later, for the latency and soak phases, are
    left out). Lineage: dqgate's ``dqgate.source.*`` headers or the peers' ``source.*``.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: set[tuple[int, int]] = set()
    duplicates = untraced = 0
    lineage_seen = False
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:  # not seek_to_beginning: it raced with the default reset to the end
            consumer.seek(tp, 0)
        remaining = {tp for tp in tps if ends[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                short = {tp.partition: (await consumer.position(tp), ends[tp]) for tp in remaining}
                raise RuntimeError(
                    f"{topic}: not read to its end within {timeout_s:.0f} s "
                    f"(partition: (position, end) {short})"
                )
            # all partitions each time: aiokafka fetches no more from a broker while records
            # it fetched for one partition are not taken
            batches = await consumer.getmany(*tps, timeout_ms=1000, max_records=10_000)
            for tp, messages in batches.items():
                for m in messages:
                    where = [-1, -1]
                    for name, value in m.headers:
                        slot = _LINEAGE_NAMES.get(name)
                        if slot is not None and value is not None and where[slot] < 0:
                            where[slot] = int(value)
                    if where[0] < 0 or where[1] < 0:
                        untraced += 1
                        continue
                    lineage_seen = True
                    partition, offset = where
                    if offset >= backlog_ends.get(partition, 0):
                        continue
                    if (partition, offset) in found:
                        duplicates += 1
                    found.add((partition, offset))
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return Quarantined(
        offsets=frozenset(found), duplicates=duplicates, untraced=untraced,
        lineage_seen=lineage_seen,
    )  # fmt: skip


def compare_offsets(
    gate: str, got: Quarantined, expected: set[tuple[int, int]], *, show: int = 5
) -> str | None:
    """None when ``got`` is exactly ``expected``; else a message naming the gate and a few
    differing (partition, offset) pairs."""
    if got.offsets == expected and not got.untraced:
        return None
    missing = sorted(expected - got.offsets)
    extra = sorted(got.offsets - expected)

    def few(pairs: list[tuple[int, int]]) -> str:
        shown = ", ".join(f"[{p}]@{o}" for p, o in pairs[:show])
        return shown + (f", ... ({len(pairs):,} in all)" if len(pairs) > show else "")

    parts = [
        f"{gate} did not quarantine exactly the expected source offsets: "
        f"{len(got.offsets):,} quarantined vs {len(expected):,} expected"
    ]
    if missing:
        parts.append(f"expected but not quarantined: {few(missing)}")
    if extra:
        parts.append(f"quarantined but not expected: {few(extra)}")
    if got.untraced:
        parts.append(f"{got.untraced:,} quarantined records without lineage headers")
    return "; ".join(parts)
