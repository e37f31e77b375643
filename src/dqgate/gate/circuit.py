"""Per-route circuit breaker, after Sentry Arroyo's ``DlqLimit``.

When more than ``max_quarantine_ratio`` of the last ``window_records`` records of a route
went to quarantine, the breaker trips: the gate pauses the route (stops fetching its
source partitions), logs why and exports ``dqgate_circuit_open{route}=1`` and
``dqgate_circuit_breaker_trips_total{route}``, instead of quarantining a whole broken
upstream in silence. The batch engine stops at the record that trips the breaker: the
rest of its batch is not routed, and the partition is fetched again from there after a
resume (the faust engine finishes the batch it holds). Nothing is skipped or committed
past, and the consumer group's lag on the source shows what waits. Other routes of the
same worker keep running while one is paused.

Resume a paused route with ``POST /routes/<route>/resume`` on the worker's HTTP address
when the control endpoint is enabled (``http.control_enabled`` and its token; see
docs/metrics.md), or by restarting the worker (the breaker starts closed, with an empty
window).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dqgate.config import CircuitBreakerConfig

__all__ = ["BreakerStatus", "CircuitBreaker", "log_trip"]

log = logging.getLogger("dqgate.gate.breaker")


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerStatus:
    """A snapshot of one breaker, for logs, /healthz and metrics."""

    enabled: bool
    paused: bool
    window_records: int
    seen_records: int
    quarantined_records: int
    max_quarantine_ratio: float | None

    @property
    def ratio(self) -> float:
        """Quarantine ratio over the records currently in the window (0.0 when empty)."""
        return self.quarantined_records / self.seen_records if self.seen_records else 0.0


class CircuitBreaker:
    """A sliding window of the last N routing decisions of one route (None config: off)."""

    __slots__ = ("_config", "_paused", "_quarantined", "_window")

    def __init__(self, config: CircuitBreakerConfig | None) -> None:
        self._config = config
        self._window: deque[bool] = deque(maxlen=config.window_records if config else 1)
        self._quarantined = 0
        self._paused = False

    @property
    def enabled(self) -> bool:
        """False when the route has no breaker configured."""
        return self._config is not None

    @property
    def paused(self) -> bool:
        """True from the trip until :meth:`resume`."""
        return self._paused

    def record(self, quarantined: Iterable[bool]) -> bool:
        """Add routing decisions in order; True when this call tripped the breaker."""
        config = self._config
        if config is None:
            return False
        window = self._window
        size = config.window_records
        tripped = False
        for flag in quarantined:
            if len(window) == size and window[0]:
                self._quarantined -= 1
            window.append(flag)
            self._quarantined += flag
            if (
                not self._paused
                and len(window) == size
                and self._quarantined / size > config.max_quarantine_ratio
            ):
                self._paused = True
                tripped = True
        return tripped

    def admit(self, quarantined: Sequence[bool]) -> tuple[int, bool]:
        """How many of these routing decisions (in order) may be carried out, and whether
        this call tripped the breaker.

        The decisions up to and including the one that trips the breaker are admitted (and
        counted); none is while it is open, so a route pauses within its batch.
        """
        if self._config is None:
            return len(quarantined), False
        if self._paused:
            return 0, False
        for index, flag in enumerate(quarantined):
            if self.record((flag,)):
                return index + 1, True
        return len(quarantined), False

    def resume(self) -> bool:
        """Close the breaker and empty its window; True if it was paused."""
        was_paused = self._paused
        self._paused = False
        self._window.clear()
        self._quarantined = 0
        return was_paused

    def status(self) -> BreakerStatus:
        """The current state."""
        config = self._config
        return BreakerStatus(
            enabled=config is not None,
            paused=self._paused,
            window_records=config.window_records if config else 0,
            seen_records=len(self._window) if config else 0,
            quarantined_records=self._quarantined,
            max_quarantine_ratio=config.max_quarantine_ratio if config else None,
        )


def log_trip(route: str, status: BreakerStatus) -> None:
    """Say, once, that ``route`` was paused by its breaker, why, and how to resume it."""
    log.error(
        "route %s paused by the circuit breaker: %d of the last %d records were "
        "quarantined (ratio %.3f > %.3f). The source is probably broken upstream; "
        "fix it, then resume with POST /routes/%s/resume on the worker's HTTP address "
        "(or restart the worker)",
        route, status.quarantined_records, status.seen_records, status.ratio,
        status.max_quarantine_ratio or 0.0, route,
    )  # fmt: skip
