"""What one evaluated batch gives its caller, and the helpers that build it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final

from dqgate.suites.windows import WindowInput
from dqgate.verdict import Failure, Outcome, Policy, Verdict

__all__ = ["ABSTAINED_ROW", "BatchEvaluation", "combine", "count_missing", "window_input"]

ABSTAINED_ROW: Final = 2
_NOT_OBJECT: Final = b"\x05"
"""A code no check gives: marks the rows of records that decoded to no object."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchEvaluation:
    """The outcome of one batch: verdicts, and what metrics and windows need from it."""

    verdicts: list[Verdict]
    """One per input, in input order; identical outcomes share one Verdict object."""
    decoded: int
    """Inputs that decoded to a JSON object (the denominator of missing ratios)."""
    missing: tuple[int, ...]
    """Per ``CompiledSuite.columns``: decoded inputs where that column is absent or null."""
    window_input: WindowInput | None
    """For the route's WindowAggregator; None when the suite has nothing to aggregate."""


def count_missing(records: Sequence[Mapping[str, Any]], column: str) -> int:
    """Records in which ``column`` is absent or null (a mapping that cannot be read: not)."""
    try:
        return list(map(dict.get, records, repeat(column))).count(None)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a mapping that raises when read
        count = 0
        for r in records:
            with contextlib.suppress(Exception):
                count += r.get(column) is None
        return count


def _project(record: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """The record's values of ``columns`` (a mapping that cannot be read gives none)."""
    try:
        return {c: record[c] for c in columns if c in record}
    except Exception:  # noqa: BLE001 - a mapping that cannot be read gives none
        return {}


def combine(failures: tuple[Failure, ...]) -> Verdict:
    """The Verdict of a record's failures: error, quarantine (an enforced one) or pass."""
    error = any(f.error for f in failures)
    quarantine = any(f.policy is Policy.ENFORCE for f in failures)
    outcome = Outcome.ERROR if error else Outcome.QUARANTINE if quarantine else Outcome.PASS
    return Verdict(outcome=outcome, failures=failures)


def window_input(
    n: int,
    out: bytes | None,
    changed: Sequence[tuple[int, bytes | None]],
    *,
    width: int,
    mostly: Sequence[int],
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None,
) -> WindowInput:
    """The batch's input to the windows: the codes of the ``mostly`` < 1 checks per object
    record, sliced out of the decider's rows (``out``; None: every row came from Python)
    with the rows Python completed patched in (``changed``; None: no object), and, with
    ``columns``, the records' values of those columns for GX's window expectations."""
    rows = bytearray(out) if out is not None else bytearray(n * width)
    not_object = bytes([ABSTAINED_ROW]) + _NOT_OBJECT * (width - 1)
    objects = n
    for i, row in changed:
        if row is None:
            objects -= 1
        rows[i * width : (i + 1) * width] = row if row is not None else not_object
    codes = tuple(bytes(rows[1 + k :: width]).replace(_NOT_OBJECT, b"") for k in mostly)
    projected = [_project(r, columns) for r in records] if columns is not None else None
    return WindowInput(objects=objects, codes=codes, records=projected)
