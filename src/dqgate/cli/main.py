"""Entry point of the ``dqgate`` console script.

Each command module exposes ``register(subparsers)``; it adds its parser and sets
``handler`` to a function ``(args) -> int``. Heavy imports (GX, faust) stay inside
the handlers so that ``dqgate --help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from dqgate import __version__
from dqgate.cli import config, demo, kafka, quarantine, run, suites, validate
from dqgate.errors import DQGateError

EXIT_USAGE = 2
_VALUE_LOGGING_LOGGERS = ("aiokafka", "faust")
_NOISY_LOGGERS = ("great_expectations",)
"""Loggers kept at WARNING whatever --log-level says: GX logs ~200 INFO lines when it is
imported (``_docs_decorators``, ``Created temporary directory ... for ephemeral docs
site``) and thousands of DEBUG lines, none of them about dqgate's work."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, all command groups registered."""
    parser = argparse.ArgumentParser(
        prog="dqgate",
        description="A streaming data-quality gate for Apache Kafka.",
    )
    parser.add_argument("--version", action="version", version=f"dqgate {__version__}")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level for dqgate's own messages on stderr (default: WARNING)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (validate, run, config, suites, demo, kafka, quarantine):
        module.register(sub)
    return parser


def configure_logging(level: str) -> None:
    """dqgate's own loggers at ``level`` on stderr; GX's import noise and value dumps kept out."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _VALUE_LOGGING_LOGGERS:  # their DEBUG lines print record bytes
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (2 for usage and configuration errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        code: int = args.handler(args)
    except DQGateError as exc:
        print(f"dqgate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
