"""The plain-aiokafka gates that dqgate is compared with, each run as its own process.

``python bench/_gates.py MODE --bootstrap H:P --source T --clean T --quarantine T --group G``

- ``raw``: the ceiling. Batched ``getmany`` -> ``send`` of every record to the clean topic,
  unchanged (key, value, headers, timestamp), no validation and no added headers.
- ``gx-naive``: each record validated by GX's engine on its own (a one-row frame).
- ``gx-batch``: records validated by GX's engine in batches (``--batch-size``, filled for
  at most ``--batch-wait-s`` like the gate's ``take_events``).

The GX gates frame records exactly as dqgate's GX fallback does
(:class:`dqgate.suites.fallback.GxFallback`: ``pd.DataFrame(records, columns=...,
dtype=object)``, ``COMPLETE`` result format with row indices, erroring expectations
bisected down to the records that make them error), decode with the compiled suite's
decoder, and route with :func:`dqgate.routing.route` (lineage headers; quarantine headers
from the compiled suite's prebuilt failures), so they differ from dqgate only in who
evaluates. All three use the gate's Kafka settings: producer ``acks=all`` without
idempotence, ``linger`` 5 ms, 512 KiB batches; consumer ``auto_offset_reset=earliest``,
no auto-commit, ``max_poll_records`` = batch size; every delivery of a batch awaited
before its offsets count as done; done offsets committed every ``commit_interval_s``
(2.8 s, the gate's default) and on stop.
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
LINGER_MS = 5
MAX_BATCH_BYTES = 512 * 1024


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


async def run(args: argparse.Namespace) -> None:
    """Consume, (validate,) produce, commit until SIGTERM."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from dqgate.routing import RouteTarget, SourceRecord, route

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    evaluator = Evaluator() if args.mode != "raw" else None
    target = None
    if evaluator is not None:
        suite = evaluator.compiled
        target = RouteTarget(
            clean=args.clean, quarantine=args.quarantine, suite_name=suite.name,
            suite_hash=suite.hash,
        )  # fmt: skip
    consumer = AIOKafkaConsumer(
        args.source,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=args.batch_size,
        fetch_max_wait_ms=1500,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=LINGER_MS,
        max_batch_size=MAX_BATCH_BYTES,
    )
    await producer.start()
    await consumer.start()
    done: dict[TopicPartition, int] = {}
    committed_at = time.monotonic()
    wait_ms = int(args.batch_wait_s * 1000)
    print("gate: started", file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            if args.mode == "gx-batch":
                messages = await take(consumer, args.batch_size, args.batch_wait_s)
            else:
                got = await consumer.getmany(timeout_ms=wait_ms, max_records=args.batch_size)
                messages = [m for records in got.values() for m in records]
            futures = []
            if evaluator is None:
                for m in messages:
                    futures.append(
                        await producer.send(
                            args.clean, m.value, key=m.key, timestamp_ms=m.timestamp,
                            headers=list(m.headers) or None,
                        )
                    )  # fmt: skip
            else:
                assert target is not None
                verdicts = (
                    None
                    if args.mode == "gx-naive"
                    else evaluator.verdicts([m.value for m in messages])
                )
                for i, m in enumerate(messages):
                    # naive: validate one record, send it, then the next one
                    verdict = evaluator.verdicts([m.value])[0] if verdicts is None else verdicts[i]
                    now_ms = time.time_ns() // 1_000_000
                    record = SourceRecord(
                        topic=m.topic, partition=m.partition, offset=m.offset,
                        timestamp=m.timestamp, key=m.key, value=m.value,
                        headers=tuple(m.headers),
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("raw", "gx-naive", "gx-batch"))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--quarantine", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-wait-s", type=float, default=0.2)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
