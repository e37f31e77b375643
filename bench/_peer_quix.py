"""A peer gate: a Quix Streams application with the suite's checks written by hand.

``.venv/bench/bin/python bench/_peer_quix.py --bootstrap H:P --source T --clean T
--quarantine T --group G --state-dir DIR``

What a Python team on Quix Streams would write instead of dqgate: one
``StreamingDataFrame`` over the source topic with bytes (de)serializers, so every output
keeps the source key and value byte for byte; ``set_headers`` appends the source
coordinates (``source.topic``, ``source.partition``, ``source.offset``) to the original
headers; ``to_topic`` with a callable picks the clean or the quarantine topic by the
hand-written checks (``_peer_checks.quarantines``). The message timestamp is kept by
``to_topic``. Quix's own defaults otherwise: ``processing_guarantee="at-least-once"``
(a checkpoint flushes the producer, then commits, every ``commit_interval`` = 5 s),
idempotent producer, murmur2 partitioner. SIGTERM stops the application gracefully.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from _peer_checks import quarantines
from quixstreams import Application, message_context


def build(args: argparse.Namespace) -> Application:
    """The application and its one dataframe."""
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=args.state_dir,
        loglevel=logging.WARNING,
    )
    raw = {"key_deserializer": "bytes", "value_deserializer": "bytes"}
    out = {"key_serializer": "bytes", "value_serializer": "bytes"}
    source = app.topic(args.source, **raw)
    clean = app.topic(args.clean, **out)
    quarantine = app.topic(args.quarantine, **out)

    def lineage(value: Any, key: Any, timestamp: int, headers: list[Any]) -> list[Any]:
        ctx = message_context()
        headers.append(("source.topic", ctx.topic.encode()))
        headers.append(("source.partition", b"%d" % ctx.partition))
        headers.append(("source.offset", b"%d" % ctx.offset))
        return headers

    def destination(value: Any, key: Any, timestamp: int, headers: Any) -> Any:
        return quarantine if quarantines(value) else clean

    sdf = app.dataframe(source)
    sdf = sdf.set_headers(lineage)
    sdf.to_topic(destination)
    return app


def main() -> None:
    """Parse arguments and run the application until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--clean", required=True)
    parser.add_argument("--quarantine", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--state-dir", required=True)
    build(parser.parse_args()).run()


if __name__ == "__main__":
    main()
