"""Start, stop and inspect the project-managed one-node Kafka broker.

``start_broker`` formats fresh KRaft storage (unless ``keep_storage``), writes
``server.properties``, starts ``java ... kafka.Kafka`` in its own session with output
to ``broker.log`` in the data dir, and returns once the broker answers a metadata
request. Failures raise :class:`~dqgate.errors.BrokerError` with the log's tail.
``server.properties`` may hold the keystore password: it is written readable by its
owner only.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from dqgate.errors import BrokerError
from dqgate.kafka.admin import describe_brokers, run_sync
from dqgate.kafka.jars import fetch_jars
from dqgate.kafka.ports import port_open, resolve_ports
from dqgate.kafka.process import (
    LOG_FILE,
    PID_FILE,
    BrokerState,
    adopt_child,
    is_broker_alive,
    log_tail,
    read_pid,
    read_state,
    terminate,
    write_state,
)
from dqgate.kafka.properties import (
    HOST,
    LOG4J2_PROPERTIES,
    NODE_ID,
    BrokerConfig,
    listeners_for,
    render_properties,
    scram_format_args,
)

__all__ = ["BrokerHandle", "BrokerStatus", "broker_status", "start_broker", "stop_broker"]

log = logging.getLogger(__name__)

PROPERTIES_FILE = "server.properties"
LOG4J2_FILE = "log4j2.properties"
STORAGE_DIR = "kraft"
FORMAT_HEAP_MB = 512
FORMAT_TIMEOUT_S = 120.0
_POLL_S = 0.25
_PROBE_TIMEOUT_S = 5.0
_BIND_ATTEMPTS = 3
_BIND_FAILURE = "Address already in use"


class _BrokerExitedError(BrokerError):
    """The broker process exited while starting (the message carries its log's tail)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerHandle:
    """A running broker: where clients connect and where its files are.

    ``bootstrap`` is the plain listener; the others are None unless configured:
    ``sasl_bootstrap`` (SASL_PLAINTEXT), ``sasl_ssl_bootstrap`` (SASL_SSL) and
    ``ssl_bootstrap`` (SSL with client certificates).
    """

    bootstrap: str
    pid: int
    log_path: Path
    data_dir: Path
    sasl_bootstrap: str | None = None
    sasl_ssl_bootstrap: str | None = None
    ssl_bootstrap: str | None = None
    cluster_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerStatus:
    """Whether a broker runs from a data dir, and where to reach it."""

    running: bool
    pid: int | None = None
    bootstrap: str | None = None
    sasl_bootstrap: str | None = None
    sasl_ssl_bootstrap: str | None = None
    ssl_bootstrap: str | None = None


def start_broker(
    cfg: BrokerConfig, *, keep_storage: bool = False, jars_dir: Path | None = None
) -> BrokerHandle:
    """Start a broker for ``cfg`` and wait until it serves metadata.

    ``keep_storage=True`` restarts on the existing storage (same cluster, topics and
    offsets; same ports unless ``cfg`` names others) instead of formatting a new one.
    """
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java is not on PATH; install a Java 17+ runtime to run the broker")
    data_dir = cfg.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    current = broker_status(data_dir)
    if current.running:
        raise BrokerError(
            f"a broker already runs from {data_dir} (pid {current.pid}, "
            f"bootstrap {current.bootstrap}); stop it first"
        )
    storage = data_dir / STORAGE_DIR
    if keep_storage and not (storage / "meta.properties").is_file():
        raise BrokerError(f"no formatted storage in {storage}; start without keep_storage")
    jars = jars_dir if jars_dir is not None else fetch_jars()
    for _ in range(_BIND_ATTEMPTS - 1):
        try:
            return _launch(java, jars, cfg, data_dir, keep_storage=keep_storage)
        except _BrokerExitedError as exc:
            # A free port picked here can be taken before the JVM binds it (seconds
            # later); a fresh start then simply picks other ports.
            if keep_storage or _BIND_FAILURE not in str(exc):
                raise
            log.warning("kafka broker could not bind its port; retrying on other ports")
    return _launch(java, jars, cfg, data_dir, keep_storage=keep_storage)


def _launch(
    java: str, jars: Path, cfg: BrokerConfig, data_dir: Path, *, keep_storage: bool
) -> BrokerHandle:
    """Write the broker's files, format (unless keeping storage), run it, wait for it."""
    storage = data_dir / STORAGE_DIR
    state = resolve_ports(cfg, read_state(data_dir) if keep_storage else None)
    listeners = listeners_for(
        port=state.port,
        controller_port=state.controller_port,
        sasl_port=state.sasl_port,
        sasl_ssl_port=state.sasl_ssl_port,
        ssl_port=state.ssl_port,
        tls=cfg.tls,
    )
    (data_dir / LOG4J2_FILE).write_text(LOG4J2_PROPERTIES, encoding="utf-8")
    properties = data_dir / PROPERTIES_FILE
    _write_private(properties, render_properties(cfg, listeners=listeners, log_dir=storage))
    jvm_options = [
        f"-Dlog4j2.configurationFile={data_dir / LOG4J2_FILE}",
        "-cp",
        str(jars / "*"),
    ]
    log_path = data_dir / LOG_FILE
    if not keep_storage:
        log_path.write_bytes(b"")
        _format_storage([java, f"-Xmx{FORMAT_HEAP_MB}m", *jvm_options], properties, state, cfg)
    heap = ["-Xms256m", f"-Xmx{cfg.heap_max_mb}m"]
    try:
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                [java, *heap, *jvm_options, "kafka.Kafka", str(properties)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                start_new_session=True,
            )
    except OSError as exc:
        raise BrokerError(f"could not run {java}: {exc}") from exc
    adopt_child(proc)
    write_state(data_dir, state, pid=proc.pid)
    handle = BrokerHandle(
        bootstrap=f"{HOST}:{state.port}",
        pid=proc.pid,
        log_path=log_path,
        data_dir=data_dir,
        sasl_bootstrap=_address(state.sasl_port),
        sasl_ssl_bootstrap=_address(state.sasl_ssl_port),
        ssl_bootstrap=_address(state.ssl_port),
        cluster_id=state.cluster_id,
    )
    try:
        _wait_ready(proc, handle, state, timeout_s=cfg.start_timeout_s)
    except BaseException:  # not ready, or interrupted: leave no half-started broker
        if proc.poll() is None:
            terminate(proc.pid, timeout_s=10.0)
        (data_dir / PID_FILE).unlink(missing_ok=True)
        raise
    log.info("kafka broker pid %d ready at %s", proc.pid, handle.bootstrap)
    return handle


def stop_broker(data_dir: Path, timeout_s: float = 30.0) -> bool:
    """Stop the broker of ``data_dir``: SIGTERM, then SIGKILL after ``timeout_s``.

    Returns False (and does nothing) when no broker runs from ``data_dir``.
    """
    data_dir = data_dir.expanduser().resolve()
    pid = read_pid(data_dir)
    if pid is None or not is_broker_alive(pid):
        (data_dir / PID_FILE).unlink(missing_ok=True)
        log.info("no kafka broker runs from %s", data_dir)
        return False
    if terminate(pid, timeout_s=timeout_s):
        log.warning("kafka broker pid %d ignored SIGTERM for %.0f s; killed", pid, timeout_s)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    return True


def broker_status(data_dir: Path) -> BrokerStatus:
    """Whether a broker started by dqgate runs from ``data_dir``, its pid and bootstrap."""
    data_dir = data_dir.expanduser().resolve()
    pid = read_pid(data_dir)
    if pid is None or not is_broker_alive(pid):
        return BrokerStatus(running=False)
    state = read_state(data_dir)
    if state is None:
        return BrokerStatus(running=True, pid=pid)
    return BrokerStatus(
        running=True,
        pid=pid,
        bootstrap=f"{HOST}:{state.port}",
        sasl_bootstrap=_address(state.sasl_port),
        sasl_ssl_bootstrap=_address(state.sasl_ssl_port),
        ssl_bootstrap=_address(state.ssl_port),
    )


def _address(port: int | None) -> str | None:
    return None if port is None else f"{HOST}:{port}"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _format_storage(
    java_cmd: list[str], properties: Path, state: BrokerState, cfg: BrokerConfig
) -> None:
    """Wipe the storage dir and format it for a new cluster (SCRAM users included).

    StorageTool's output is appended to the broker log.
    """
    data_dir = properties.parent
    storage = data_dir / STORAGE_DIR
    shutil.rmtree(storage, ignore_errors=True)
    cmd = [
        *java_cmd,
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={state.cluster_id}",
        "--config",
        str(properties),
        *scram_format_args(cfg.scram_users),
    ]
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=FORMAT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"StorageTool format did not finish within {FORMAT_TIMEOUT_S} s") from exc
    log_path = data_dir / LOG_FILE
    with log_path.open("ab") as log_file:
        log_file.write(done.stdout + done.stderr)
    if done.returncode != 0:
        raise BrokerError(
            f"formatting {storage} failed (exit {done.returncode}); log {log_path}, "
            f"last lines:\n{log_tail(log_path)}"
        )


def _wait_ready(
    proc: subprocess.Popen[bytes], handle: BrokerHandle, state: BrokerState, *, timeout_s: float
) -> None:
    """Return when the broker port answers a metadata request naming this broker."""
    deadline = time.monotonic() + timeout_s
    ports = state.client_ports
    last_error = "its port never opened"
    while True:
        code = proc.poll()
        if code is not None:
            _fail(handle, f"the broker exited with code {code} during start", exited=True)
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            _fail(handle, f"the broker was not ready within {timeout_s:.0f} s ({last_error})")
        if all(port_open(p) for p in ports):
            try:
                nodes = run_sync(
                    describe_brokers(handle.bootstrap, timeout_s=min(_PROBE_TIMEOUT_S, remaining_s))
                )
            except BrokerError as exc:
                last_error = str(exc)
            else:
                if any(n.node_id == NODE_ID and n.port == state.port for n in nodes):
                    return
                last_error = f"metadata named no broker {NODE_ID} on port {state.port}"
        time.sleep(_POLL_S)


def _fail(handle: BrokerHandle, reason: str, *, exited: bool = False) -> NoReturn:
    error = _BrokerExitedError if exited else BrokerError
    raise error(f"{reason}; log {handle.log_path}, last lines:\n{log_tail(handle.log_path)}")
