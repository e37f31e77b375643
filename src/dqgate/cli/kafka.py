"""``dqgate kafka start|stop|status|fetch``: the project-managed local Kafka broker.

``start`` prints progress on stderr and ``bootstrap=127.0.0.1:PORT`` as its last line on
stdout, so scripts can take it with ``tail -n1``. Exit codes: 0 done, 1 the broker could
not be fetched, started or stopped (the log's tail is on stderr), 3 ``status`` found no
running broker.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kafka`` command group."""
    p = sub.add_parser("kafka", help="run a local one-node Kafka broker (tests, demo, CI)")
    actions = p.add_subparsers(dest="kafka_command", metavar="ACTION", required=True)
    data_dir_help = "broker data dir (default: <kafka home>/broker, kafka home being "
    data_dir_help += "$DQGATE_KAFKA_HOME or .kafka in the repository)"

    start = actions.add_parser("start", help="format fresh storage and start the broker")
    start.add_argument("--data-dir", type=Path, help=data_dir_help)
    start.add_argument("--port", type=int, default=0, help="broker port (default: a free one)")
    start.add_argument(
        "--controller-port", type=int, default=0, help="controller port (default: a free one)"
    )
    start.add_argument("--heap-max-mb", type=int, default=1024, help="JVM -Xmx (default: 1024)")
    start.add_argument(
        "--timeout-s", type=float, default=90.0, help="seconds to wait for readiness (default: 90)"
    )
    start.add_argument(
        "--keep-storage",
        action="store_true",
        help="restart on the existing storage (topics and offsets kept) instead of formatting",
    )
    start.set_defaults(handler=_start)

    stop = actions.add_parser("stop", help="stop the broker (SIGTERM, SIGKILL after a timeout)")
    stop.add_argument("--data-dir", type=Path, help=data_dir_help)
    stop.add_argument(
        "--timeout-s", type=float, default=30.0, help="seconds before SIGKILL (default: 30)"
    )
    stop.set_defaults(handler=_stop)

    status = actions.add_parser("status", help="exit 0 if the broker runs, 3 if not")
    status.add_argument("--data-dir", type=Path, help=data_dir_help)
    status.set_defaults(handler=_status)

    fetch = actions.add_parser("fetch", help="download and verify the broker jars (Maven)")
    fetch.set_defaults(handler=_fetch)


def _data_dir(args: argparse.Namespace) -> Path:
    from dqgate.kafka import default_kafka_home

    given: Path | None = args.data_dir
    return given if given is not None else default_kafka_home() / "broker"


def _start(args: argparse.Namespace) -> int:
    from dqgate.errors import BrokerError
    from dqgate.kafka import BrokerConfig, fetch_jars, start_broker

    try:
        cfg = BrokerConfig(
            data_dir=_data_dir(args),
            port=args.port,
            controller_port=args.controller_port,
            heap_max_mb=args.heap_max_mb,
            start_timeout_s=args.timeout_s,
        )
        _progress("fetching broker jars (first use downloads them with mvn)")
        jars = fetch_jars()
        _progress(f"starting kafka from {cfg.data_dir} (up to {cfg.start_timeout_s:.0f} s)")
        handle = start_broker(cfg, keep_storage=args.keep_storage, jars_dir=jars)
    except BrokerError as exc:
        _progress(f"error: {exc}")
        return EXIT_FAILED
    _progress(f"kafka ready, pid {handle.pid}, log {handle.log_path}")
    print(f"pid={handle.pid}")
    print(f"log={handle.log_path}")
    print(f"bootstrap={handle.bootstrap}", flush=True)
    return EXIT_OK


def _stop(args: argparse.Namespace) -> int:
    from dqgate.errors import BrokerError
    from dqgate.kafka import stop_broker

    data_dir = _data_dir(args)
    try:
        stopped = stop_broker(data_dir, timeout_s=args.timeout_s)
    except BrokerError as exc:
        _progress(f"error: {exc}")
        return EXIT_FAILED
    _progress(f"kafka stopped ({data_dir})" if stopped else f"no kafka runs from {data_dir}")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from dqgate.kafka import broker_status

    data_dir = _data_dir(args)
    status = broker_status(data_dir)
    if not status.running:
        print(f"not running ({data_dir})")
        return EXIT_NOT_RUNNING
    print(f"running pid={status.pid}")
    print(f"bootstrap={status.bootstrap}")
    return EXIT_OK


def _fetch(args: argparse.Namespace) -> int:
    from dqgate.errors import BrokerError
    from dqgate.kafka import fetch_jars

    try:
        jars = fetch_jars()
    except BrokerError as exc:
        _progress(f"error: {exc}")
        return EXIT_FAILED
    print(jars)
    return EXIT_OK


def _progress(message: str) -> None:
    print(f"dqgate kafka: {message}", file=sys.stderr, flush=True)
