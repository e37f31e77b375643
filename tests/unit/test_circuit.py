"""The per-route circuit breaker: trips on the quarantine ratio of the last N records."""

from __future__ import annotations

from dqgate.config import CircuitBreakerConfig
from dqgate.gate.circuit import CircuitBreaker


def breaker(window: int = 10, ratio: float = 0.5) -> CircuitBreaker:
    """A breaker over ``window`` records that trips above ``ratio``."""
    return CircuitBreaker(CircuitBreakerConfig(window_records=window, max_quarantine_ratio=ratio))


def test_off_breaker_never_trips() -> None:
    """Without configuration the breaker never pauses, whatever the ratio."""
    off = CircuitBreaker(None)
    assert off.record([True] * 1000) is False
    assert not off.paused and not off.status().enabled


def test_does_not_trip_before_the_window_is_full() -> None:
    """Nine quarantined records in a window of ten do not trip yet."""
    b = breaker()
    assert b.record([True] * 9) is False
    assert not b.paused


def test_trips_when_ratio_exceeds_threshold() -> None:
    """Six of the last ten quarantined (> 0.5) trips the breaker, once."""
    b = breaker()
    assert b.record([False] * 4 + [True] * 6) is True
    assert b.paused
    assert b.record([True] * 5) is False  # already paused: no second trip


def test_ratio_equal_to_threshold_does_not_trip() -> None:
    """Exactly half quarantined is not more than 0.5."""
    b = breaker()
    assert b.record([True, False] * 5) is False


def test_window_slides_over_the_last_records_only() -> None:
    """Old quarantined records leave the window: a bad start followed by good data is fine."""
    b = breaker(window=10, ratio=0.5)
    b.record([True] * 5 + [False] * 5)
    b.record([False] * 10)
    status = b.status()
    assert (status.seen_records, status.quarantined_records, status.ratio) == (10, 0, 0.0)


def test_resume_closes_the_breaker_and_empties_the_window() -> None:
    """resume() un-pauses and restarts counting from an empty window."""
    b = breaker()
    b.record([True] * 10)
    assert b.resume() is True
    assert not b.paused and b.status().seen_records == 0
    assert b.resume() is False
