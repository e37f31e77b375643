"""engine: faust: the AckGuard and the check of the installed faust version."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from dqgate.errors import ConfigError
from dqgate.gate import faust_engine
from dqgate.gate.faust_engine import AckGuard, check_faust_version


class Msg:
    """A hashable, weak-referenceable stand-in for a faust message."""

    def __init__(self, topic: str) -> None:
        self.topic, self.partition, self.offset = topic, 0, 1


class FakeConsumer:
    """Records which messages reached its ack."""

    def __init__(self) -> None:
        self.acked: list[Msg] = []

    def ack(self, message: Msg) -> bool:
        self.acked.append(message)
        return True


def test_ack_guard_refuses_undelivered_source_messages() -> None:
    """An ack for a source message the gate did not deliver never reaches the consumer."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    message = Msg("in")
    assert consumer.ack(message) is False
    assert consumer.acked == [] and guard.refused == 1


def test_ack_guard_lets_delivered_messages_through_once() -> None:
    """After mark_delivered the ack passes; the mark is used up."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    message = Msg("in")
    guard.mark_delivered([message])
    assert consumer.ack(message) is True
    assert consumer.ack(message) is False
    assert consumer.acked == [message]


def test_ack_guard_ignores_other_topics() -> None:
    """Messages of topics that are not sources are acked as usual."""
    consumer, guard = FakeConsumer(), AckGuard(["in"])
    guard.install(consumer)
    assert consumer.ack(Msg("other")) is True


def test_the_installed_faust_version_is_a_tested_one() -> None:
    """The pinned faust-streaming passes the start-up check and is named by it."""
    assert check_faust_version() == version("faust-streaming")


def test_an_untested_faust_version_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A faust the private hooks were not checked against stops start-up (exit 2)."""
    monkeypatch.setattr(faust_engine, "version", lambda name: "0.16.0")
    with pytest.raises(ConfigError, match=r"faust-streaming 0\.16\.0 is installed.*0\.15\.3"):
        check_faust_version()
