"""Tumbling windows: aggregate expectations and ``mostly`` ratios over many records.

The gate owns one :class:`WindowAggregator` per route (``CompiledSuite.new_window_aggregator``)
and feeds it the ``window_input`` of each evaluated batch; the compiled suite itself keeps no
window state. A window closes after ``window_records`` records (exactly, also inside a batch)
or ``window_seconds`` seconds, whichever comes first. At close, GX's engine evaluates the
window expectations (means, row counts, uniqueness, distinct values, ...) on the window's
records, and every compiled expectation with ``mostly`` < 1 gets its ratio with GX's
denominators: non-null rows for column maps, all rows for ``(not_)be_null``, the rows left
after ``ignore_row_if`` for pairs and multicolumn (the checks' SKIP code marks the rows
outside the denominator). Results are reported, never used to quarantine a record. Only
records that decoded to a JSON object count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dqgate.suites.checks import ERROR, FAIL, SKIP
from dqgate.suites.gx_engine import GxEngine, GxResult
from dqgate.suites.loader import LoadedExpectation

__all__ = [
    "MostlyCounter",
    "WindowAggregator",
    "WindowConfig",
    "WindowInput",
    "WindowResult",
    "Windows",
]

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowConfig:
    """When a tumbling window closes (either limit; None disables that limit)."""

    window_records: int | None = 10_000
    window_seconds: float | None = 60.0

    def __post_init__(self) -> None:
        if self.window_records is None and self.window_seconds is None:
            raise ValueError("a window needs window_records or window_seconds")
        if self.window_records is not None and self.window_records <= 0:
            raise ValueError("window_records must be positive")
        if self.window_seconds is not None and self.window_seconds <= 0:
            raise ValueError("window_seconds must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowResult:
    """One expectation's outcome over one closed window."""

    expectation_id: str
    type: str
    success: bool
    observed_value: float | None
    records: int
    error: str | None = None
    mostly: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowInput:
    """What one evaluated batch gives the windows: only records that decoded to an object."""

    objects: int
    """How many records of the batch decoded to a JSON object."""
    codes: tuple[bytes, ...]
    """Per ``mostly`` < 1 check (in the suite's order): one code per object record."""
    records: Sequence[Mapping[str, Any]] | None
    """Per object record, the suite's columns it has (None: no GX window expectations)."""


@dataclass(slots=True, kw_only=True)
class MostlyCounter:
    """Running counts for one compiled expectation with mostly < 1."""

    expectation_id: str
    type: str
    mostly: float
    applicable: int = 0
    unexpected: int = 0

    def add(self, codes: bytes) -> None:
        """Count check codes: SKIP is outside the denominator, FAIL and ERROR unexpected."""
        self.applicable += len(codes) - codes.count(SKIP)
        self.unexpected += codes.count(FAIL) + codes.count(ERROR)

    def close(self, records: int) -> WindowResult:
        ratio = (
            None if not self.applicable else (self.applicable - self.unexpected) / self.applicable
        )
        result = WindowResult(
            expectation_id=self.expectation_id,
            type=self.type,
            success=ratio is None or ratio >= self.mostly,
            observed_value=ratio,
            records=records,
            mostly=self.mostly,
        )
        self.applicable = self.unexpected = 0
        return result


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list | tuple | set | dict):
        return float(len(value))  # e.g. the distinct values observed
    return None


def _observed(result: GxResult) -> float | None:
    """The aggregate's value; for map expectations the share of expected rows."""
    if result.observed_value is not None:
        return _number(result.observed_value)
    if result.unexpected_percent is not None:
        return 1.0 - float(result.unexpected_percent) / 100.0
    return None


class WindowAggregator:
    """One route's tumbling windows over the batches of one suite."""

    def __init__(
        self,
        expectations: Sequence[LoadedExpectation],
        mostly: Sequence[MostlyCounter],
        columns: Sequence[str],
        config: WindowConfig,
        *,
        engine: GxEngine | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self._columns = tuple(columns)
        self._types = {e.expectation_id: e.type for e in expectations}
        self._engine = (engine or GxEngine.shared()) if expectations else None
        self._suite = (
            self._engine.register([(e.expectation_id, e.raw) for e in expectations])
            if self._engine
            else None
        )
        self._mostly = tuple(mostly)
        self._records: list[Mapping[str, Any]] = []
        self._count = 0
        self._opened_at = clock()
        self._closed: list[WindowResult] = []

    @property
    def active(self) -> bool:
        """True when the suite has anything to evaluate over windows."""
        return self._suite is not None or bool(self._mostly)

    def add(self, window_input: WindowInput | None) -> None:
        """Add one batch's input; closes windows whose record limit is reached (exactly)."""
        if window_input is None or not self.active:
            return
        limit = self.config.window_records
        done = 0
        total = window_input.objects
        while done < total:
            take = total - done if limit is None else min(total - done, limit - self._count)
            for counter, codes in zip(self._mostly, window_input.codes, strict=True):
                counter.add(codes[done : done + take])
            if self._suite is not None and window_input.records is not None:
                self._records.extend(window_input.records[done : done + take])
            self._count += take
            done += take
            if limit is not None and self._count >= limit:
                self._close()
        self.tick()

    def tick(self) -> None:
        """Close the window if its time is up (call it when idle, too)."""
        seconds = self.config.window_seconds
        if seconds is not None and self._count and self._clock() - self._opened_at >= seconds:
            self._close()

    def flush(self) -> None:
        """Close the current window now, if it holds any record."""
        if self._count:
            self._close()

    def drain(self) -> list[WindowResult]:
        """Results of the windows closed since the last drain, oldest first."""
        closed, self._closed = self._closed, []
        return closed

    def _close(self) -> None:
        count = self._count
        for counter in self._mostly:
            self._closed.append(counter.close(count))
        if self._suite is not None and self._engine is not None:
            for r in self._engine.validate(self._suite, self._records, self._columns):
                self._closed.append(
                    WindowResult(
                        expectation_id=r.key,
                        type=self._types.get(r.key, ""),
                        success=r.success and r.error is None,
                        observed_value=_observed(r),
                        records=count,
                        error=r.error,
                    )
                )
        self._records = []
        self._count = 0
        self._opened_at = self._clock()


Windows = WindowAggregator
"""The former name, kept while callers move to ``CompiledSuite.new_window_aggregator``."""
