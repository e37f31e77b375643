"""The GX fallback: per-record expectations that are not compiled, run by GX on micro-batches.

GX reports the unexpected rows of a batch (``unexpected_index_list``), mapped back to
records. When an expectation errors for the whole batch (one bad value poisons it), the
batch is bisected for that expectation alone until the records that make it error are
isolated: only they get an error verdict, the others get GX's own pass or fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dqgate.suites.checks import ERROR, FAIL
from dqgate.suites.gx_engine import GxEngine
from dqgate.suites.loader import LoadedExpectation

__all__ = ["GxFallback"]

Record = Mapping[str, Any]


class GxFallback:
    """Evaluates a fixed set of expectations with GX on lists of decoded records."""

    def __init__(
        self,
        expectations: Sequence[LoadedExpectation],
        columns: Sequence[str],
        engine: GxEngine | None = None,
    ) -> None:
        self._engine = engine or GxEngine.shared()
        self._columns = tuple(columns)
        self.keys = tuple(e.expectation_id for e in expectations)
        pairs = [(e.expectation_id, e.raw) for e in expectations]
        self._suite = self._engine.register(pairs)
        self._single = {key: self._engine.register([(key, raw)]) for key, raw in pairs}
        self.calls = 0

    def evaluate(self, records: Sequence[Record]) -> list[dict[str, int]]:
        """For each record, ``{expectation_id: FAIL | ERROR}`` for what it did not pass."""
        outcome: list[dict[str, int]] = [{} for _ in records]
        if not records:
            return outcome
        self.calls += 1
        for result in self._engine.validate(self._suite, records, self._columns):
            if result.error is None:
                for index in result.unexpected_index_list:
                    outcome[index][result.key] = FAIL
            else:
                self._isolate(result.key, list(range(len(records))), records, outcome)
        return outcome

    def _isolate(
        self,
        key: str,
        positions: list[int],
        records: Sequence[Record],
        outcome: list[dict[str, int]],
    ) -> None:
        """Bisect ``positions`` for one expectation until erroring records stand alone."""
        if len(positions) > 1:
            middle = len(positions) // 2
            for half in (positions[:middle], positions[middle:]):
                self._run_one(key, half, records, outcome)
            return
        outcome[positions[0]][key] = ERROR

    def _run_one(
        self,
        key: str,
        positions: list[int],
        records: Sequence[Record],
        outcome: list[dict[str, int]],
    ) -> None:
        self.calls += 1
        subset = [records[p] for p in positions]
        (result,) = self._engine.validate(self._single[key], subset, self._columns)
        if result.error is not None:
            self._isolate(key, positions, records, outcome)
            return
        for index in result.unexpected_index_list:
            outcome[positions[index]][key] = FAIL
