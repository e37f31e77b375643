"""Loopback ports for the broker: resolve 0 to free ones, refuse taken ones, probe open ones."""

from __future__ import annotations

import socket

from dqgate.errors import BrokerError
from dqgate.kafka.process import BrokerState
from dqgate.kafka.properties import HOST, BrokerConfig, new_cluster_id

__all__ = ["check_port_free", "free_ports", "port_open", "resolve_ports"]


_OPTIONAL_PORTS = ("sasl_port", "sasl_ssl_port", "ssl_port")


def resolve_ports(cfg: BrokerConfig, previous: BrokerState | None) -> BrokerState:
    """The ports (and cluster id) of the next start; 0 means a free port.

    On a restart ``previous`` is the last start's state: its ports are reused where
    ``cfg`` leaves them at 0, so clients keep their bootstrap. Fixed ports must be free.
    Optional listeners (None in ``cfg``) get no port.
    """
    wanted: dict[str, int] = {"port": cfg.port, "controller_port": cfg.controller_port}
    for name in _OPTIONAL_PORTS:
        value = getattr(cfg, name)
        if value is not None:
            wanted[name] = value
    if previous is not None:
        for name, value in wanted.items():
            earlier = getattr(previous, name)
            if value == 0 and earlier is not None:
                wanted[name] = earlier
    for value in wanted.values():
        if value:
            check_port_free(value)
    free = iter(free_ports(list(wanted.values()).count(0)))
    resolved = {name: value or next(free) for name, value in wanted.items()}
    return BrokerState(
        cluster_id=previous.cluster_id if previous is not None else new_cluster_id(),
        **resolved,
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
