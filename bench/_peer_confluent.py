"""A peer gate: a plain confluent-kafka consume/produce loop with hand-written checks.

``.venv/bench/bin/python bench/_peer_confluent.py --bootstrap H:P --source T --clean T
--quarantine T --group G [--batch-size N] [--batch-wait-s S]``

What a Python team on librdkafka would write instead of dqgate: ``consume`` a batch
(at most ``--batch-size`` records, waiting at most ``--batch-wait-s``), check each
record by hand (``_peer_checks.quarantines``), ``produce`` it to the clean or the
quarantine topic with the source key, value, timestamp and headers plus the source
coordinates (``source.topic``, ``source.partition``, ``source.offset``), then
``flush`` and commit the batch's positions: at-least-once, an offset is committed only
after every output of its batch was delivered (a failed delivery ends the process with
nothing of that batch committed). Idempotent producer (acks=all), linger 5 ms,
murmur2 partitioner (the Java client's, as dqgate and Quix use). SIGTERM finishes the
batch in hand, commits and leaves the group; a failure commits nothing more.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from typing import Any

from _peer_checks import quarantines
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException, Producer


def run(args: argparse.Namespace) -> None:
    """Consume, check, produce, flush, commit until SIGTERM."""
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        print(f"peer gate: stopping ({signal.Signals(signum).name})", file=sys.stderr)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, message: Any) -> None:
        if error is not None:
            failed.append(error)

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "partitioner": "murmur2_random",
            "on_delivery": on_delivery,
            "delivery.report.only.error": True,
        }
    )
    consumer.subscribe([args.source])
    produce = producer.produce
    clean, quarantine = args.clean, args.quarantine
    topic_header = ("source.topic", args.source.encode())
    partition_headers: dict[int, tuple[str, bytes]] = {}
    try:
        while not stopping:
            messages = consumer.consume(num_messages=args.batch_size, timeout=args.batch_wait_s)
            if not messages:
                continue
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:  # noqa: SLF001 - librdkafka's public name
                        continue
                    raise KafkaException(error)
                value = message.value()
                partition = message.partition()
                partition_header = partition_headers.get(partition)
                if partition_header is None:
                    partition_header = partition_headers[partition] = (
                        "source.partition",
                        b"%d" % partition,
                    )
                offset_header = ("source.offset", b"%d" % message.offset())
                headers = message.headers() or []
                headers += (topic_header, partition_header, offset_header)
                kind, timestamp = message.timestamp()
                produce(
                    quarantine if quarantines(value) else clean,
                    value,
                    message.key(),
                    headers=headers,
                    timestamp=0 if kind == TIMESTAMP_NOT_AVAILABLE else timestamp,
                )
            if producer.flush(60) or failed:
                raise KafkaException(failed[0] if failed else "outputs not delivered within 60 s")
            consumer.commit(asynchronous=True)  # every output of the batch was delivered
        with contextlib.suppress(KafkaException):  # nothing consumed yet: nothing to commit
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
        print("peer gate: stopped", file=sys.stderr)


def main() -> None:
    """Parse arguments and run the loop until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--quarantine", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-wait-s", type=float, default=0.02)
    try:
        run(parser.parse_args())
    except KafkaException as exc:
        print(f"peer gate failed: {exc}", file=sys.stderr)
        raise SystemExit(3) from exc


if __name__ == "__main__":
    main()
