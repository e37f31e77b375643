"""Run one gate worker until it is stopped: the body of ``dqgate run``.

Start-up, in order, each failing fast with a clear error: compile every route's suite,
check the cluster (sources exist, outputs created), bind the HTTP endpoint, start the
faust worker. Several processes with the same ``group_id`` share the source partitions.

Exit codes: 0 stopped by SIGTERM/SIGINT after finishing and committing the in-flight
batches; 1 faust crashed (e.g. lost the broker for good); 3 a delivery failed for good
(nothing of the batch was committed: restarting is safe); 4 internal error; 5 a graceful
stop took longer than ``shutdown_timeout_s`` (ended without committing what was pending).
Configuration and suite errors raise ConfigError / SuiteError before anything starts.
Every non-zero exit is safe to restart from: offsets are committed only after delivery.

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
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any, NoReturn

from dqgate.config import GateConfig
from dqgate.gate.app import GateRuntime
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.http import HttpService
from dqgate.gate.processor import PassThrough, RouteProcessor
from dqgate.gate.topics import prepare_topics
from dqgate.gate.values import ValuesHeader
from dqgate.metrics import GateMetrics
from dqgate.quarantine.redact import Redactor
from dqgate.routing import RouteTarget

__all__ = ["EXIT_SHUTDOWN_TIMEOUT", "fatal", "run_gate"]

log = logging.getLogger(__name__)

EXIT_SHUTDOWN_TIMEOUT = 5


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
    _quiet_client_loggers()
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
        )
        for r in config.routes
    }
    if metrics is None:
        metrics = GateMetrics(window_records=config.metrics_window_records)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        plan = loop.run_until_complete(prepare_topics(config))
    except BaseException:
        loop.close()
        raise
    log.info("source partitions: %s", plan.source_partitions)
    with tempfile.TemporaryDirectory(prefix="dqgate-faust-") as datadir:
        runtime: GateRuntime | None = None
        processors: dict[str, RouteProcessor] = {}

        async def send(output: Any) -> Any:
            assert runtime is not None
            return await runtime.send(output)

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
        for route in config.routes:
            suite = suites[route.name]
            processors[route.name] = RouteProcessor(
                route_name=route.name,
                suite=suite if route.validate else PassThrough(suite.name, suite.hash),
                target=RouteTarget(
                    clean=route.clean,
                    quarantine=route.quarantine,
                    suite_name=suite.name,
                    suite_hash=suite.hash,
                ),
                send=send,
                metrics=metrics,
                breaker=CircuitBreaker(route.circuit_breaker),
                values=values,
            )
        runtime = GateRuntime(
            config=config, processors=processors, metrics=metrics, fatal=fatal, datadir=datadir
        )
        services: list[Any] = []
        if config.metrics_address is not None:
            http = HttpService(
                address=config.metrics_address,
                metrics=metrics,
                status=runtime.status,
                resume=runtime.resume,
                security=config.http,
                loop=loop,
            )
            url = loop.run_until_complete(http.bind())
            say(f"metrics: {url}/metrics (health: {url}/healthz, ready: {url}/readyz)")
            services.append(http)
        runtime.install_guard()
        worker = _worker_class()(
            runtime.app,
            *services,
            loop=loop,
            quiet=True,
            override_logging=False,
            redirect_stdouts=False,
            shutdown_timeout_s=config.shutdown_timeout_s,
        )
        for route in config.routes:
            suite = suites[route.name]
            mode = "" if route.validate else " PASS-THROUGH, validation off"
            say(
                f"route {route.name}: {route.source} -> clean {route.clean} | quarantine "
                f"{route.quarantine} (suite {suite.name}, sha256 {suite.hash[:12]}){mode}"
            )
        _freeze_heap()
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else 1
    return 0  # pragma: no cover - execute_from_commandline always exits


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


def _worker_class() -> type[Any]:
    """faust.Worker that arms a hard deadline when a stop signal arrives."""
    import faust

    class GateWorker(faust.Worker):
        def __init__(self, *args: Any, shutdown_timeout_s: float, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.spinner = None  # no terminal escape codes in logs
            self._shutdown_timeout_s = shutdown_timeout_s
            self._deadline: threading.Timer | None = None

        def _arm_deadline(self) -> None:
            if self._deadline is None:
                log.warning(
                    "stopping: finishing in-flight batches and committing (at most %.0f s)",
                    self._shutdown_timeout_s,
                )
                self._deadline = threading.Timer(
                    self._shutdown_timeout_s,
                    fatal,
                    args=("graceful stop timed out; pending offsets stay uncommitted",
                          EXIT_SHUTDOWN_TIMEOUT),
                )  # fmt: skip
                self._deadline.daemon = True
                self._deadline.start()

        def _on_sigterm(self) -> None:
            self._arm_deadline()
            super()._on_sigterm()

        def _on_sigint(self) -> None:
            self._arm_deadline()
            super()._on_sigint()

    return GateWorker
