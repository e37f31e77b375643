"""Run one gate worker until it is stopped: the body of ``dqgate run``.

Start-up, in order, each failing fast with a clear error: compile every route's suite,
check the cluster (sources exist, outputs created), bind the HTTP endpoint, start the
engine (``engine: batch``, the default, or ``engine: faust``). Several processes with the
same ``group_id`` share the source partitions.

Exit codes: :class:`dqgate.gate.exits.ExitCode`. Configuration and suite errors raise
ConfigError / SuiteError before anything starts (exit 2). Every non-zero exit is safe to
restart from: offsets are committed only after delivery.

Broker outages: the consumer and the producer reconnect on their own and every pending
produce is retried, so a broker restart is ridden out in place (nothing committed until
the outputs are acknowledged). If the brokers stay unreachable longer than
``delivery_timeout_s``, the worker exits with code 3; run it under a supervisor that
restarts it (systemd ``Restart=on-failure``, a Kubernetes Deployment): it resumes from
the last committed offsets.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from dqgate.config import Engine, GateConfig
from dqgate.errors import ConfigError
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.http import HttpService, ResumeResult
from dqgate.gate.processor import PassThrough, RouteProcessor
from dqgate.gate.quiet import install_quiet_logging
from dqgate.gate.sizes import header_bound, size_problems
from dqgate.gate.topics import prepare_topics
from dqgate.gate.values import ValuesHeader
from dqgate.metrics import GateMetrics
from dqgate.provenance import ReplaySeal
from dqgate.redact import Redactor
from dqgate.routing import RouteTarget

__all__ = ["fatal", "run_gate"]

log = logging.getLogger(__name__)


def fatal(message: str, code: int) -> NoReturn:
    """Log ``message`` and end the process now, without any commit or cleanup."""
    log.critical("%s; exiting with code %d", message, code)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(code)


def run_gate(
    config: GateConfig,
    *,
    metrics: GateMetrics | None = None,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Run the gate worker in this process until stopped; returns the exit code.

    ``announce`` receives one line per route and the HTTP URL once they are known.
    """
    say = announce if announce is not None else log.info
    stop_requested = _catch_early_stop()
    _quiet_client_loggers()
    if config.engine is Engine.FAUST:
        from dqgate.gate.faust_engine import check_faust_version

        check_faust_version()
    from dqgate.suites import WindowConfig, compile_suite

    window = WindowConfig(
        window_records=config.window_records, window_seconds=config.window_seconds
    )
    suites = {
        r.name: compile_suite(
            r.suite,
            max_record_bytes=config.max_record_bytes,
            suite_parameters=dict(r.suite_parameters),
            window=window,
            regex_budget_s=config.regex_budget_s,
        )
        for r in config.routes
    }
    for name, suite in suites.items():
        for warning in suite.regex_warnings:
            log.warning("route %s: %s", name, warning)
    if metrics is None:
        metrics = GateMetrics(
            window_records=config.metrics_window_records,
            created_series=config.metrics_created_series,
        )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        plan = loop.run_until_complete(prepare_topics(config))
        log.info("source partitions: %s", plan.source_partitions)
        _check_sizes(config, plan.max_message_bytes, suites)
        processors = _processors(config, suites, metrics, window)
        runtime: Any
        execute: Callable[[], int]
        with tempfile.TemporaryDirectory(prefix="dqgate-faust-") as datadir:
            if config.engine is Engine.FAUST:
                from dqgate.gate.faust_engine import run_faust

                http = _http(config, metrics, lambda: runtime, loop, say)
                runtime, execute = run_faust(
                    config,
                    processors=processors,
                    metrics=metrics,
                    fatal=fatal,
                    http=http,
                    loop=loop,
                    datadir=datadir,
                    before_start=_freeze_heap,
                )
            else:
                from dqgate.gate.batch_engine import BatchEngine, run_batch

                runtime = BatchEngine(
                    config=config, processors=processors, metrics=metrics, fatal=fatal
                )
                http = _http(config, metrics, lambda: runtime, loop, say)

                def execute() -> int:
                    return run_batch(
                        runtime,
                        loop=loop,
                        http=http,
                        before_start=_freeze_heap,
                        stop_requested=stop_requested.is_set,
                    )

            for route in config.routes:
                suite = suites[route.name]
                mode = "" if route.validate else " PASS-THROUGH, validation off"
                say(
                    f"route {route.name}: {route.source} -> clean {route.clean} | quarantine "
                    f"{route.quarantine} (suite {suite.name}, sha256 {suite.hash[:12]}, "
                    f"engine {config.engine}){mode}"
                )
            if stop_requested.is_set():
                log.warning("stopped during start-up, before consuming anything")
                return 0
            quiet = install_quiet_logging(
                on_suppressed=lambda name: metrics.log_lines_suppressed_total.labels(
                    logger=name
                ).inc()
            )
            runtime.tickers.append(quiet.flush)
            try:
                return execute()
            finally:
                quiet.flush(final=True)
    finally:
        loop.close()


def _check_sizes(config: GateConfig, limits: Mapping[str, int], suites: Mapping[str, Any]) -> None:
    """Refuse topics whose outputs cannot take every record their source accepts, unless
    the operator accepts stubs for those records (``quarantine_stubs``)."""
    bounds = {r.name: header_bound(r, suites[r.name], config) for r in config.routes}
    problems = size_problems(config, limits, bounds)
    if not problems:
        return
    if config.quarantine_stubs:
        for problem in problems:
            log.warning("%s; such a record is quarantined as a stub (quarantine_stubs)", problem)
        return
    raise ConfigError(
        f"{config.origin}: some records could never be written to their output, which "
        "would stop the partition: "
        + "; ".join(problems)
        + ". Or set quarantine_stubs: true to send such records to quarantine as stubs "
        "(headers, size and SHA-256, no value)"
    )


def _catch_early_stop() -> threading.Event:
    """Note SIGTERM / SIGINT that arrive during start-up (the engines take over later).

    Without it, a stop signal while the suites compile would kill the process with the
    signal instead of the documented exit code 0 (nothing was consumed yet: safe).
    """
    requested = threading.Event()

    def note(signum: int, frame: Any) -> None:
        requested.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, note)
    return requested


def _processors(
    config: GateConfig, suites: Mapping[str, Any], metrics: GateMetrics, window: Any
) -> dict[str, RouteProcessor]:
    """One RouteProcessor per route, with its suite (or a pass-through) and its breaker."""
    values = (
        ValuesHeader(
            redactor=Redactor.of(config.redact),
            max_value_bytes=config.quarantine_values_max_bytes,
        )
        if config.quarantine_values
        else None
    )
    if values is not None:
        log.warning(
            "quarantine_values is on: quarantined records carry the failing values in "
            "the dqgate.values header (redacted fields: %s)",
            ", ".join(config.redact) or "none",
        )
    seal = None
    if config.replay_key is not None:
        seal = ReplaySeal(config.replay_key.reveal().encode("utf-8"))
    else:
        log.info(
            "no replay.key_file: replay headers on source records are not trusted (kept as "
            "dqgate.original.replay.*), so replay counts restart at every replay"
        )
    processors = {}
    for route in config.routes:
        suite = suites[route.name]
        windows = suite.new_window_aggregator(window)
        processors[route.name] = RouteProcessor(
            route_name=route.name,
            suite=suite if route.validate else PassThrough(suite.name, suite.hash),
            target=RouteTarget(
                clean=route.clean,
                quarantine=route.quarantine,
                suite_name=suite.name,
                suite_hash=suite.hash,
            ),
            metrics=metrics,
            breaker=CircuitBreaker(route.circuit_breaker),
            values=values,
            windows=windows if route.validate else None,
            seal=seal,
            tombstones=route.tombstones,
        )
    return processors


def _http(
    config: GateConfig,
    metrics: GateMetrics,
    runtime: Callable[[], Any],
    loop: asyncio.AbstractEventLoop,
    say: Callable[[str], None],
) -> HttpService | None:
    """The bound HTTP endpoint (before the engine starts, so a taken port fails fast)."""
    if config.metrics_address is None:
        return None

    async def resume(route: str) -> ResumeResult:
        result: ResumeResult = await runtime().resume(route)
        return result

    http = HttpService(
        address=config.metrics_address,
        metrics=metrics,
        status=lambda: runtime().status(),
        resume=resume,
        security=config.http,
        loop=loop,
    )
    url = loop.run_until_complete(http.bind())
    say(f"metrics: {url}/metrics (health: {url}/healthz, ready: {url}/readyz)")
    return http


def _freeze_heap() -> None:
    """Take everything built at start-up (GX, pandas, faust, the suites) out of the collector's way.

    With GX loaded, a full collection walks a few hundred thousand objects: 130-190 ms
    measured in a worker under load, several times a minute, stalling every route (the
    tail of the end-to-end latency). What start-up built lives until the worker exits, so
    it is frozen (``gc.freeze``); the full collections that follow walk only what the
    stream allocated since.
    """
    gc.collect()
    gc.freeze()
    log.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())


_VALUE_LOGGING_LOGGERS = ("aiokafka", "faust")


def _quiet_client_loggers() -> None:
    """Keep aiokafka and faust at INFO or above: their DEBUG lines print record values."""
    for name in _VALUE_LOGGING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
