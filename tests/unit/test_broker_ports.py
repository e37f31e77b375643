"""Port resolution for broker starts and restarts (loopback sockets only, no broker)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dqgate.errors import BrokerError
from dqgate.kafka import BrokerConfig
from dqgate.kafka.ports import check_port_free, port_open, resolve_ports
from dqgate.kafka.process import BrokerState


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port held by a listening socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_zero_ports_become_distinct_free_ports(tmp_path: Path) -> None:
    """Ports left at 0 are replaced by distinct non-zero ports."""
    state = resolve_ports(BrokerConfig(data_dir=tmp_path, sasl_port=0), None)
    ports = [state.port, state.controller_port, state.sasl_port]
    assert all(ports) and len(set(ports)) == 3


def test_no_sasl_port_unless_asked(tmp_path: Path) -> None:
    """Without sasl_port no SASL port is resolved."""
    assert resolve_ports(BrokerConfig(data_dir=tmp_path), None).sasl_port is None


def test_restart_reuses_previous_ports_and_cluster(tmp_path: Path) -> None:
    """A restart keeps the last start's ports and cluster id, so bootstrap is unchanged."""
    first = resolve_ports(BrokerConfig(data_dir=tmp_path, sasl_port=0), None)
    again = resolve_ports(BrokerConfig(data_dir=tmp_path, sasl_port=0), first)
    assert again == first


def test_fresh_start_gets_new_cluster_id(tmp_path: Path) -> None:
    """Without a previous state each start has its own cluster id."""
    cfg = BrokerConfig(data_dir=tmp_path)
    assert resolve_ports(cfg, None).cluster_id != resolve_ports(cfg, None).cluster_id


def test_explicit_port_wins_over_previous(tmp_path: Path) -> None:
    """A port named in the config is used even on a restart."""
    previous = BrokerState(port=1, controller_port=2, cluster_id="c" * 22)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        fixed = int(sock.getsockname()[1])
    state = resolve_ports(BrokerConfig(data_dir=tmp_path, port=fixed), previous)
    assert (state.port, state.controller_port) == (fixed, 2)


def test_taken_port_is_refused(tmp_path: Path, listening_port: int) -> None:
    """A fixed port something listens on raises BrokerError naming it."""
    with pytest.raises(BrokerError, match=f"127.0.0.1:{listening_port} is already in use"):
        resolve_ports(BrokerConfig(data_dir=tmp_path, port=listening_port), None)


def test_port_open_and_free_checks(listening_port: int) -> None:
    """A listening port is open and not free."""
    assert port_open(listening_port)
    with pytest.raises(BrokerError):
        check_port_free(listening_port)
