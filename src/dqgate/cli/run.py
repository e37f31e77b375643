"""``dqgate run``: start one streaming gate worker.

Either ``--config gate.yaml`` (several routes; ``DQGATE_*`` environment overrides) or a
single route on the command line::

    dqgate run --bootstrap-servers HOST:PORT --source TOPIC --suite SUITE.json \\
        --clean TOPIC --quarantine TOPIC [--group ID]

``--bootstrap-servers``, ``--group`` and ``--metrics-address`` also override the file.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dqgate.errors import ConfigError
from dqgate.gate.exits import EXIT_CODES_HELP

__all__ = ["register"]

_ROUTE_FLAGS = ("source", "suite", "clean", "quarantine")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command."""
    p = sub.add_parser(
        "run",
        help="run a streaming gate worker (clean vs quarantine)",
        description="Consume the source topics, validate every record with its route's "
        "suite and produce it to the clean or the quarantine topic. Stops on SIGTERM "
        "after committing the in-flight batch.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="GATE.YAML", help="gate configuration file")
    p.add_argument("--bootstrap-servers", metavar="HOST:PORT[,HOST:PORT]")
    p.add_argument("--group", metavar="ID", help="consumer group id (default: dqgate)")
    p.add_argument(
        "--engine",
        choices=("batch", "faust"),
        help="the engine: batch (aiokafka, pipelined batches; the default) or faust",
    )
    p.add_argument(
        "--metrics-address",
        metavar="[HOST:]PORT|off",
        help="HTTP address of /metrics, /healthz, /readyz (default 127.0.0.1:9464; 0: any "
        "free port; off)",
    )
    route = p.add_argument_group("single route (instead of --config)")
    route.add_argument("--source", metavar="TOPIC", help="source topic")
    route.add_argument("--suite", metavar="SUITE.JSON", help="GX expectation suite")
    route.add_argument("--clean", metavar="TOPIC", help="topic for passing records")
    route.add_argument("--quarantine", metavar="TOPIC", help="topic for failing records")
    route.add_argument("--name", metavar="ROUTE", help="route name (default: the source)")
    p.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> Any:
    """The GateConfig the arguments describe (file, environment and flags merged)."""
    from dqgate.config import build_config, load_config

    overrides: dict[str, Any] = {
        "kafka.bootstrap_servers": args.bootstrap_servers,
        "group_id": args.group,
        "engine": args.engine,
        "metrics_address": args.metrics_address,
    }
    given = [f for f in _ROUTE_FLAGS if getattr(args, f) is not None]
    if args.config is not None:
        if given or args.name is not None:
            raise ConfigError(
                "use either --config or --source/--suite/--clean/--quarantine, not both"
            )
        return load_config(args.config, overrides=overrides)
    if len(given) != len(_ROUTE_FLAGS):
        missing = ", ".join(f"--{f}" for f in _ROUTE_FLAGS if f not in given)
        raise ConfigError(f"give --config GATE.YAML, or a whole route (missing: {missing})")
    route = {f: getattr(args, f) for f in _ROUTE_FLAGS}
    if args.name is not None:
        route["name"] = args.name
    overrides["routes"] = [route]
    return build_config({}, origin="command line", overrides=overrides)


def run(args: argparse.Namespace) -> int:
    """Handler of ``dqgate run``."""
    from dqgate.gate import run_gate

    config = config_from_args(args)
    return run_gate(config, announce=lambda line: print(f"dqgate: {line}", file=sys.stderr))
