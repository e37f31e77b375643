"""Loopback ports for the broker: resolve 0 to free ones, refuse taken ones, probe open ones."""

from __future__ import annotations

import socket

from dqgate.errors import BrokerError
from dqgate.kafka.process import BrokerState
from dqgate.kafka.properties import HOST, BrokerConfig, new_cluster_id

__all__ = ["check_port_free", "free_ports", "port_open", "resolve_ports"]


def resolve_ports(cfg: BrokerConfig, previous: BrokerState | None) -> BrokerState:
    """The ports (and cluster id) of the next start; 0 means a free port.

    On a restart ``previous`` is the last start's state: its ports are reused where
    ``cfg`` leaves them at 0, so clients keep their bootstrap. Fixed ports must be free.
    """
    port, controller_port, sasl_port = cfg.port, cfg.controller_port, cfg.sasl_port
    if previous is not None:
        port = port or previous.port
        controller_port = controller_port or previous.controller_port
        if sasl_port == 0 and previous.sasl_port is not None:
            sasl_port = previous.sasl_port
    wanted = [port, controller_port] + ([] if sasl_port is None else [sasl_port])
    for value in wanted:
        if value:
            check_port_free(value)
    free = iter(free_ports(wanted.count(0)))
    resolved = [value or next(free) for value in wanted]
    return BrokerState(
        port=resolved[0],
        controller_port=resolved[1],
        sasl_port=resolved[2] if sasl_port is not None else None,
        cluster_id=previous.cluster_id if previous is not None else new_cluster_id(),
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_port_free(port: int) -> None:
    """Raise BrokerError if something listens on ``port`` (TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise BrokerError(
                f"port {HOST}:{port} is already in use ({exc.strerror}); "
                "stop what listens there or choose another port (0 picks a free one)"
            ) from exc


def port_open(port: int) -> bool:
    """True if a TCP connection to ``port`` on loopback succeeds."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False
