"""The broker process on this machine: its files in the data dir, liveness and signals.

A data dir holds ``broker.pid`` while a broker started by dqgate may be running, and
``broker.json`` with the ports of the last start (reused by a restart that keeps
storage). A pid counts as the broker only if its command line runs ``kafka.Kafka``,
so a stale pid file never gets an unrelated process signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "LOG_FILE",
    "PID_FILE",
    "STATE_FILE",
    "BrokerState",
    "adopt_child",
    "is_broker_alive",
    "log_tail",
    "read_pid",
    "read_state",
    "terminate",
    "write_state",
]

PID_FILE = "broker.pid"
STATE_FILE = "broker.json"
LOG_FILE = "broker.log"
MAIN_CLASS = "kafka.Kafka"
_POLL_S = 0.1

# Brokers started by this process: kept so they can be reaped (no zombies, no
# "subprocess still running" ResourceWarning while they run).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerState:
    """What the last start of a broker in a data dir chose (no secrets)."""

    port: int
    controller_port: int
    sasl_port: int | None = None
    sasl_ssl_port: int | None = None
    ssl_port: int | None = None
    cluster_id: str

    @property
    def client_ports(self) -> tuple[int, ...]:
        """Every port clients connect to (all but the controller's)."""
        optional = (self.sasl_port, self.sasl_ssl_port, self.ssl_port)
        return (self.port, *(p for p in optional if p is not None))

    def to_json(self) -> str:
        """The state as a JSON document."""
        data: dict[str, Any] = {
            "port": self.port,
            "controller_port": self.controller_port,
            "sasl_port": self.sasl_port,
            "sasl_ssl_port": self.sasl_ssl_port,
            "ssl_port": self.ssl_port,
            "cluster_id": self.cluster_id,
        }
        return json.dumps(data, indent=2) + "\n"


def write_state(data_dir: Path, state: BrokerState, *, pid: int) -> None:
    """Record the broker's pid and ports in ``data_dir``."""
    (data_dir / STATE_FILE).write_text(state.to_json(), encoding="utf-8")
    (data_dir / PID_FILE).write_text(f"{pid}\n", encoding="ascii")


def read_state(data_dir: Path) -> BrokerState | None:
    """The state of the last start in ``data_dir``, or None if there is none readable."""
    try:
        data = json.loads((data_dir / STATE_FILE).read_text(encoding="utf-8"))
        optional = {
            name: None if data.get(name) is None else int(data[name])
            for name in ("sasl_port", "sasl_ssl_port", "ssl_port")
        }
        return BrokerState(
            port=int(data["port"]),
            controller_port=int(data["controller_port"]),
            cluster_id=str(data["cluster_id"]),
            **optional,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_pid(data_dir: Path) -> int | None:
    """The pid in ``data_dir``'s pid file, or None."""
    try:
        return int((data_dir / PID_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def adopt_child(proc: subprocess.Popen[bytes]) -> None:
    """Keep a broker started by this process so that it is reaped when it exits."""
    _CHILDREN[proc.pid] = proc


def is_broker_alive(pid: int) -> bool:
    """True if ``pid`` is a live (not zombie) process running the Kafka main class."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    cmdline = Path("/proc") / str(pid) / "cmdline"
    if not cmdline.parent.parent.is_dir():
        return True  # no procfs: trust the pid
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return MAIN_CLASS.encode() in args


def terminate(pid: int, *, timeout_s: float) -> bool:
    """SIGTERM ``pid``, wait up to ``timeout_s``, then SIGKILL. True if it was killed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait_gone(pid, timeout_s=timeout_s):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, timeout_s=10.0)
    return True


def log_tail(path: Path, *, lines: int = 40) -> str:
    """The last ``lines`` lines of the log at ``path`` (empty if there is none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            data = fh.read()
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _wait_gone(pid: int, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_broker_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True
