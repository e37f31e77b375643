"""``dqgate config check``: the start-up checks of ``dqgate run``, without a broker.

Loads the configuration exactly as ``dqgate run --config`` does (the file, ``DQGATE_*``
environment overrides, secret files read) and compiles every route's suite with the
route's parameters and the gate's limits, then stops before connecting to Kafka. For
deployment pipelines: a rendered Helm ConfigMap, a systemd instance's gate.yaml.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

__all__ = ["register"]

EXIT_OK = 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``config`` command group."""
    parser = sub.add_parser("config", help="check a gate configuration")
    config_sub = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    check = config_sub.add_parser(
        "check",
        help="load gate.yaml and compile its suites as `dqgate run` would, without Kafka",
        description=(
            "Load the gate configuration (file, DQGATE_* environment, secret files) and "
            "compile every route's suite with its parameters, as `dqgate run --config` "
            "does before it connects. Exit 0 when the gate would start, 2 with the "
            "problem (file, key, expectation, fix) when it would not. Secrets are never "
            "printed."
        ),
    )
    check.add_argument("--config", metavar="GATE.YAML", required=True, help="gate configuration")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``dqgate config check``; configuration and suite errors propagate (exit 2)."""
    from dqgate.config import load_config
    from dqgate.suites import WindowConfig, compile_suite

    config = load_config(args.config)
    window = WindowConfig(
        window_records=config.window_records, window_seconds=config.window_seconds
    )
    routes: list[dict[str, Any]] = []
    for route in config.routes:
        suite = compile_suite(
            route.suite,
            max_record_bytes=config.max_record_bytes,
            suite_parameters=dict(route.suite_parameters),
            window=window,
        )
        routes.append(
            {
                "route": route.name,
                "source": route.source,
                "clean": route.clean,
                "quarantine": route.quarantine,
                "suite": suite.name,
                "suite_file": str(route.suite),
                "expectations": len(suite.expectations),
                "validate": route.validate,
            }
        )
    servers = list(config.kafka.bootstrap_servers)
    protocol = str(config.kafka.security_protocol.value)
    metrics = None if config.metrics_address is None else str(config.metrics_address)
    summary = {
        "config": str(args.config),
        "group_id": config.group_id,
        "bootstrap_servers": servers,
        "security_protocol": protocol,
        "metrics_address": metrics,
        "routes": routes,
    }
    if args.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    print(
        f"{args.config}: ok: group {config.group_id}, {len(routes)} route(s), "
        f"{protocol} to {','.join(servers)}, metrics on {metrics or 'off'}"
    )
    for r in routes:
        print(
            f"  route {r['route']}: {r['source']} -> {r['clean']} | {r['quarantine']}; "
            f"suite {r['suite']} ({r['expectations']} expectations, {r['suite_file']})"
        )
    return EXIT_OK
