"""What every ``dqgate quarantine`` handler needs: connection, selection, redaction, I/O.

Connection: ``--config GATE.YAML`` (the gate's own configuration: Kafka settings with
their ``DQGATE_*`` overrides, the routes and the ``redact`` list) and/or
``--bootstrap-servers``; without a file, ``--bootstrap-servers`` or
``$DQGATE_KAFKA_BOOTSTRAP_SERVERS`` names a PLAINTEXT cluster and no field is redacted
unless ``--redact`` names it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from dqgate.errors import ConfigError
from dqgate.quarantine.audit import AUDIT_ENV, RevealAudit
from dqgate.quarantine.selection import Selection
from dqgate.redact import Redactor, configured_fields

__all__ = [
    "BOOTSTRAP_ENV",
    "Context",
    "context_of",
    "redactor_of",
    "reveal_audit_of",
    "run_async",
    "selection_of",
    "stdout_guard",
    "write_atomically",
]

BOOTSTRAP_ENV = "DQGATE_KAFKA_BOOTSTRAP_SERVERS"
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Kafka client options, the configured routes and the redacted fields."""

    options: dict[str, Any]
    quarantine_topics: dict[str, tuple[str, ...]]
    redact: tuple[str, ...]
    config: Any = None
    """The GateConfig of ``--config`` (None without one)."""
    audit_log: str | None = None
    """Where ``--reveal`` is recorded (``audit_log``, or ``$DQGATE_AUDIT_LOG`` without a file)."""


def context_of(args: argparse.Namespace) -> Context:
    """The connection and configuration the arguments describe."""
    from dqgate.config import KafkaConfig, load_config
    from dqgate.kafka.clients import aiokafka_options

    if args.config is not None:
        config = load_config(
            args.config, overrides={"kafka.bootstrap_servers": args.bootstrap_servers}
        )
        topics: dict[str, tuple[str, ...]] = {}
        for route in config.routes:
            topics[route.quarantine] = (*topics.get(route.quarantine, ()), route.name)
        return Context(
            options=aiokafka_options(config.kafka),
            quarantine_topics=topics,
            redact=configured_fields(config),
            config=config,
            audit_log=config.audit_log,
        )
    servers = args.bootstrap_servers or os.environ.get(BOOTSTRAP_ENV, "")
    bootstrap = tuple(s.strip() for s in servers.split(",") if s.strip())
    if not bootstrap:
        raise ConfigError(
            "give --config GATE.YAML (the gate's configuration) or --bootstrap-servers "
            f"HOST:PORT (or set {BOOTSTRAP_ENV})"
        )
    kafka = KafkaConfig(bootstrap_servers=bootstrap, client_id="dqgate-quarantine")
    return Context(
        options=aiokafka_options(kafka),
        quarantine_topics={},
        redact=(),
        audit_log=os.environ.get(AUDIT_ENV) or None,
    )


def selection_of(args: argparse.Namespace, context: Context | None = None) -> Selection:
    """The Selection of the topic and filter arguments; with a configuration, filters
    naming an expectation id or a column that none of its suites has are refused."""
    from dqgate.quarantine.filters import check_filters

    try:
        selection = Selection(
            topic=args.topic,
            partitions=tuple(sorted(set(getattr(args, "partition", None) or ()))),
            since=getattr(args, "since", None),
            until=getattr(args, "until", None),
            reasons=tuple(getattr(args, "reason", None) or ()),
            expectations=tuple(getattr(args, "expectation", None) or ()),
            columns=tuple(getattr(args, "column", None) or ()),
            limit=getattr(args, "limit", None),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if context is not None:
        check_filters(context.config, selection.expectations, selection.columns)
    return selection


def redactor_of(args: argparse.Namespace, context: Context) -> Redactor:
    """The redactor of the configuration plus ``--redact`` (off with ``--reveal``)."""
    extra = [f for item in (args.redact or ()) for f in item.split(",")]
    return Redactor.of([*context.redact, *extra], reveal=args.reveal)


def reveal_audit_of(
    args: argparse.Namespace, context: Context, command: str, selection: Selection
) -> RevealAudit | None:
    """The audit of a ``--reveal`` command (None without ``--reveal``)."""
    if not args.reveal:
        return None
    config = context.config
    return RevealAudit(
        path=None if context.audit_log is None else Path(context.audit_log),
        command=command,
        topic=selection.topic,
        selection=selection.describe(),
        config=None if config is None else str(config.origin),
        kafka_user=None if config is None else config.kafka.sasl_username,
    )


def run_async(coro: Awaitable[T]) -> T:
    """Run ``coro``; SIGTERM cancels it like Ctrl-C, so it can clean up."""

    async def main() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            assert task is not None
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await coro

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None


@contextlib.contextmanager
def stdout_guard() -> Iterator[None]:
    """Flush stdout at the end; a reader that went away (``| head``) is not an error."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader went away
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def write_atomically(path: Path, write: Callable[[IO[str]], T]) -> T:
    """Write ``path`` through a private temporary file (mode 0600), renamed when done."""
    temp = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with open(fd, "w", encoding="utf-8", newline="") as stream:
            result = write(stream)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return result
