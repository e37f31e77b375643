"""The plain-aiokafka gates that dqgate is compared with, each run as its own process.

``python bench/_gates.py MODE --bootstrap H:P --source T --clean T --quarantine T --group G``

- ``passthrough``: the ceiling, with the batch engine's batching and no work per record.
  ``getmany`` (at most ``--batch-size`` records, waiting at most ``--batch-wait-s``), each
  partition's records produced unchanged (key, value, headers, timestamp; no checks, no
  added headers) to the clean topic as record batches, one per output partition, through
  dqgate's own ``Emitter`` set up as the batch engine sets it up (the producer's batch
  API; the source partition kept when the counts match), without waiting for the
  acknowledgements: fetched-but-uncommittable
  records are bounded by ``--max-in-flight-records`` (the gate's default), and each
  partition's offsets are committed every ``commit_interval_s`` up to the last batch
  whose outputs, and those of every earlier batch, were acknowledged. The producer and
  consumer settings are the batch engine's (acks=all, its linger and batch size; no
  auto-commit, ``max_poll_records`` = batch size).
- ``gx-naive``: each record validated by GX's engine on its own (a one-row frame).
- ``gx-batch``: records validated by GX's engine in batches (``--batch-size``, filled for
  at most ``--batch-wait-s`` like faust's ``take_events``).

The GX gates frame records exactly as dqgate's GX fallback does
(:class:`dqgate.suites.fallback.GxFallback`: ``pd.DataFrame(records, columns=...,
dtype=object)``, ``COMPLETE`` result format with row indices, erroring expectations
bisected down to the records that make them error), decode with the compiled suite's
decoder, and route with :func:`dqgate.routing.route` (lineage headers; quarantine headers
from the compiled suite's prebuilt failures), so they differ from dqgate only in who
evaluates. They produce one record at a time (``send``), await every delivery of a batch
before its offsets count as done, and commit done offsets every ``commit_interval_s``
and on stop.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUITE = Path(__file__).resolve().parents[1] / "expectations" / "incident_reports.json"
COMMIT_INTERVAL_S = 2.8


class Evaluator:
    """GX's engine behind dqgate's framing; verdicts like the compiled suite's."""

    def __init__(self) -> None:
        from dqgate.suites import compile_suite
        from dqgate.suites.fallback import GxFallback
        from dqgate.suites.loader import load_suite
        from dqgate.verdict import Policy

        self.compiled = compile_suite(SUITE)
        loaded = load_suite(SUITE)
        self.gx = GxFallback(loaded.expectations, self.compiled.frame_columns)
        self.failures = {
            e.expectation_id: (e.on_fail, e.on_error, e.policy is Policy.ENFORCE)
            for e in self.compiled.expectations
        }
        self.gx.evaluate([{}])  # warm-up: the first validation builds GX's caches

    def verdicts(self, values: Sequence[bytes | None]) -> list[Any]:
        """One verdict per value: decode, then one GX validation of the decoded records."""
        from dqgate.suites.checks import FAIL
        from dqgate.verdict import Outcome, Verdict

        items = [self.compiled.decode(v if v is not None else b"") for v in values]
        records = [item for item in items if not isinstance(item, Verdict)]
        outcomes = iter(self.gx.evaluate(records))
        verdicts = []
        for item in items:
            if isinstance(item, Verdict):
                verdicts.append(item)
                continue
            found = next(outcomes)
            if not found:
                verdicts.append(Verdict(outcome=Outcome.PASS))
                continue
            failures = []
            quarantine = error = False
            for key, code in found.items():
                on_fail, on_error, enforce = self.failures[key]
                if code == FAIL:
                    failures.append(on_fail)
                    quarantine = quarantine or enforce
                else:
                    failures.append(on_error)
                    error = True
            outcome = Outcome.ERROR if error else Outcome.QUARANTINE if quarantine else Outcome.PASS
            verdicts.append(Verdict(outcome=outcome, failures=tuple(failures)))
        return verdicts


async def take(consumer: Any, batch_size: int, wait_s: float) -> list[Any]:
    """Up to ``batch_size`` records, waiting at most ``wait_s`` to fill the batch."""
    messages: list[Any] = []
    deadline = time.monotonic() + wait_s
    while len(messages) < batch_size:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            break
        got = await consumer.getmany(
            timeout_ms=remaining_ms, max_records=batch_size - len(messages)
        )
        for records in got.values():
            messages.extend(records)
    return messages


def _stop_event() -> asyncio.Event:
    """Set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _clients(args: argparse.Namespace, **consumer: Any) -> tuple[Any, Any]:
    """The gate's consumer and producer: the batch engine's settings (keep in step with
    ``BatchEngine._start_clients``; its linger and batch size are imported from it)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from dqgate.gate.batch_engine import _LINGER_MS, _MAX_BATCH_BYTES

    return (
        AIOKafkaConsumer(
            args.source,
            bootstrap_servers=args.bootstrap,
            group_id=args.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=args.batch_size,
            **consumer,
        ),
        AIOKafkaProducer(
            bootstrap_servers=args.bootstrap,
            acks="all",
            enable_idempotence=False,  # as the batch engine (see its comment)
            linger_ms=_LINGER_MS,
            max_batch_size=_MAX_BATCH_BYTES,
        ),
    )


class Pending:
    """Per source partition, the batches produced and not yet committable, in order."""

    def __init__(self, max_records: int) -> None:
        self.max_records = max_records
        self.records = 0
        self.room = asyncio.Event()
        self.room.set()
        self.failed: BaseException | None = None
        self._batches: dict[Any, list[tuple[int, asyncio.Future[Any]]]] = {}

    def add(self, tp: Any, next_offset: int, records: int, delivered: asyncio.Future[Any]) -> None:
        """A batch of ``records`` up to ``next_offset`` whose outputs are ``delivered``."""
        self._batches.setdefault(tp, []).append((next_offset, delivered))
        self.records += records
        if self.records >= self.max_records:
            self.room.clear()
        delivered.add_done_callback(lambda future: self._release(future, records))

    def _release(self, delivered: asyncio.Future[Any], records: int) -> None:
        if not delivered.cancelled() and delivered.exception() is not None:
            self.failed = self.failed or delivered.exception()
        self.records -= records
        if self.records < self.max_records:
            self.room.set()

    def committable(self) -> dict[Any, int]:
        """Per partition, the offset after the last batch acknowledged with all before it."""
        offsets = {}
        for tp, batches in self._batches.items():
            done = 0
            while done < len(batches) and batches[done][1].done():
                error = batches[done][1].exception()
                if error is not None:
                    raise error  # a delivery failed for good: nothing more is committed
                done += 1
            if done:
                offsets[tp] = batches[done - 1][0]
                del batches[:done]
        return offsets

    async def drain(self) -> None:
        """Wait for every outstanding delivery."""
        futures = [f for batches in self._batches.values() for _, f in batches]
        await asyncio.gather(*futures)


async def run_passthrough(args: argparse.Namespace) -> None:
    """The ceiling: getmany -> record batches per output partition -> commit acknowledged."""
    from dqgate.gate.emit import Emitter

    stop = _stop_event()
    consumer, producer = _clients(args)
    await producer.start()
    await consumer.start()
    counts = {t: len(await producer.partitions_for(t)) for t in (args.source, args.clean)}
    emitter = Emitter(producer, counts, {args.source: (args.clean,)})  # as the batch engine
    pending = Pending(args.max_in_flight_records)
    clean = args.clean
    wait_ms = max(1, round(args.batch_wait_s * 1000))

    async def commit_loop() -> None:
        while True:
            await asyncio.sleep(COMMIT_INTERVAL_S)
            offsets = pending.committable()
            if offsets:
                await consumer.commit(offsets)

    committer = asyncio.create_task(commit_loop())
    print("gate: started", file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            if pending.failed is not None:
                raise pending.failed  # a delivery failed for good: nothing more is committed
            if not pending.room.is_set():
                await pending.room.wait()
                continue
            fetched = await consumer.getmany(timeout_ms=wait_ms, max_records=args.batch_size)
            for tp, records in fetched.items():
                outputs = [(clean, r.key, r.value, list(r.headers), r.timestamp) for r in records]
                sent = await emitter.send(outputs, tp.topic, tp.partition)
                delivered = asyncio.gather(*(s.future for s in sent))
                pending.add(tp, records[-1].offset + 1, len(records), delivered)
        await pending.drain()
        offsets = pending.committable()
        if offsets:
            await consumer.commit(offsets)
    finally:
        committer.cancel()
        await consumer.stop()
        await producer.stop()


async def run_gx(args: argparse.Namespace) -> None:
    """Consume, validate with GX, route, produce, commit until SIGTERM."""
    from aiokafka import TopicPartition

    from dqgate.routing import RouteTarget, SourceRecord, route

    stop = _stop_event()
    evaluator = Evaluator()
    suite = evaluator.compiled
    target = RouteTarget(
        clean=args.clean, quarantine=args.quarantine, suite_name=suite.name,
        suite_hash=suite.hash,
    )  # fmt: skip
    consumer, producer = _clients(args, fetch_max_wait_ms=1500)
    await producer.start()
    await consumer.start()
    done: dict[TopicPartition, int] = {}
    committed_at = time.monotonic()
    wait_ms = max(1, round(args.batch_wait_s * 1000))
    print("gate: started", file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            if args.mode == "gx-batch":
                messages = await take(consumer, args.batch_size, args.batch_wait_s)
            else:
                got = await consumer.getmany(timeout_ms=wait_ms, max_records=args.batch_size)
                messages = [m for records in got.values() for m in records]
            verdicts = (
                None if args.mode == "gx-naive" else evaluator.verdicts([m.value for m in messages])
            )
            futures = []
            for i, m in enumerate(messages):
                # naive: validate one record, send it, then the next one
                verdict = evaluator.verdicts([m.value])[0] if verdicts is None else verdicts[i]
                now_ms = time.time_ns() // 1_000_000
                record = SourceRecord(
                    topic=m.topic, partition=m.partition, offset=m.offset,
                    timestamp=m.timestamp, key=m.key, value=m.value, headers=tuple(m.headers),
                )  # fmt: skip
                out = route(record, verdict, target, now_ms=now_ms)
                futures.append(
                    await producer.send(
                        out.topic, out.value, key=out.key, timestamp_ms=out.timestamp_ms,
                        headers=list(out.headers),
                    )
                )  # fmt: skip
            await asyncio.gather(*futures)  # a failure ends the process: nothing committed
            for m in messages:
                done[TopicPartition(m.topic, m.partition)] = m.offset + 1
            if done and time.monotonic() - committed_at >= COMMIT_INTERVAL_S:
                await consumer.commit(dict(done))
                done.clear()
                committed_at = time.monotonic()
        if done:
            await consumer.commit(dict(done))
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    """Parse arguments and run the gate until SIGTERM."""
    from dqgate.config.model import DEFAULT_BATCH_WAIT_S, GateConfig

    defaults = GateConfig.__dataclass_fields__
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("passthrough", "gx-naive", "gx-batch"))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--quarantine", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"].default)
    parser.add_argument("--batch-wait-s", type=float, default=DEFAULT_BATCH_WAIT_S)
    parser.add_argument(
        "--max-in-flight-records", type=int, default=defaults["max_in_flight_records"].default
    )
    args = parser.parse_args()
    asyncio.run(run_passthrough(args) if args.mode == "passthrough" else run_gx(args))


if __name__ == "__main__":
    main()
