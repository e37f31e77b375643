"""Broker state files and liveness checks, without starting a broker."""

from __future__ import annotations

import os
from pathlib import Path

from dqgate.kafka import broker_status, stop_broker
from dqgate.kafka.process import (
    PID_FILE,
    BrokerState,
    is_broker_alive,
    log_tail,
    read_state,
    write_state,
)


def test_state_round_trip(tmp_path: Path) -> None:
    """The ports and cluster id written at start are read back."""
    state = BrokerState(port=1234, controller_port=1235, sasl_port=None, cluster_id="x" * 22)
    write_state(tmp_path, state, pid=42)
    assert read_state(tmp_path) == state
    assert (tmp_path / PID_FILE).read_text().strip() == "42"


def test_unreadable_state_is_none(tmp_path: Path) -> None:
    """A missing or corrupt state file reads as no state."""
    assert read_state(tmp_path) is None
    (tmp_path / "broker.json").write_text("{not json")
    assert read_state(tmp_path) is None


def test_status_of_empty_dir_is_not_running(tmp_path: Path) -> None:
    """A data dir without a pid file has no running broker."""
    assert broker_status(tmp_path).running is False


def test_stop_without_broker_is_a_noop(tmp_path: Path) -> None:
    """Stopping where no broker runs returns False."""
    assert stop_broker(tmp_path) is False


def test_pid_of_another_program_is_not_the_broker(tmp_path: Path) -> None:
    """A stale pid file naming a live non-Kafka process is neither running nor signalled."""
    (tmp_path / PID_FILE).write_text(f"{os.getpid()}\n")
    assert is_broker_alive(os.getpid()) is False
    assert broker_status(tmp_path).running is False
    assert stop_broker(tmp_path, timeout_s=1) is False
    assert not (tmp_path / PID_FILE).exists()


def test_log_tail_returns_last_lines(tmp_path: Path) -> None:
    """log_tail gives the last lines of the log, and nothing for a missing log."""
    log = tmp_path / "broker.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(log, lines=3) == "line 97\nline 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""
