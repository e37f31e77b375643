"""Quality figures the metrics derive from batches: sliding windows and buckets.

:class:`QualityWindow` keeps the last N records of a route as per-batch
counts (missing values per column, records failing each expectation);
:class:`BucketCounts` is a histogram filled a batch at a time. Nothing here keeps a
record value: only counts keyed by configured names.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any

from dqgate.shape import SuiteShape
from dqgate.verdict import Column

__all__ = [
    "BucketCounts",
    "QualityWindow",
    "column_label",
    "count_missing",
]


def column_label(column: Column) -> str:
    """A failure's column as a label: the name, names joined by ``,``, or ``""``."""
    if column is None:
        return ""
    if isinstance(column, tuple):
        return ",".join(column)
    return column


def count_missing(records: Sequence[Mapping[str, Any]], column: str) -> int:
    """Records in which ``column`` is absent or null."""
    try:
        return list(map(dict.get, records, repeat(column))).count(None)  # type: ignore[arg-type]
    except TypeError:  # mappings that are not dicts
        return [r.get(column) for r in records].count(None)


class QualityWindow:
    """The last ``size`` records of one route, kept as whole batches of counts.

    The window holds between ``size`` records and one batch more. Totals are updated as
    batches enter and leave, so reading the ratios costs one step per series.
    """

    __slots__ = (
        "_batches", "columns", "decode_ids", "decoded", "failed", "missing", "records", "size",
    )  # fmt: skip

    def __init__(self, shape: SuiteShape, size: int) -> None:
        if size < 1:
            raise ValueError(f"a quality window needs at least 1 record, got {size}")
        self.size = size
        self.columns = shape.columns
        self.records = 0
        self.decoded = 0
        self.missing = [0] * len(shape.columns)
        self.failed: dict[str, int] = dict.fromkeys(shape.expectations, 0)
        self.decode_ids = {shape.decode_expectation} - {None}
        self._batches: deque[tuple[int, int, list[int], Mapping[str, int]]] = deque()

    def add(
        self,
        records: int,
        decoded: Sequence[Mapping[str, Any]],
        failed: Mapping[str, int],
        decode_ids: Iterable[str] = (),
    ) -> None:
        """Add a batch: its size, its decoded records, the records failing each expectation.

        ``decode_ids`` names the expectations of decode-stage failures in the batch.
        """
        missing = [count_missing(decoded, column) for column in self.columns]
        self.add_counts(records, len(decoded), missing, failed, decode_ids)

    def add_counts(
        self,
        records: int,
        decoded: int,
        missing: Sequence[int],
        failed: Mapping[str, int],
        decode_ids: Iterable[str] = (),
    ) -> None:
        """Add a batch as counts: ``decoded`` records, ``missing`` per column (in
        :attr:`columns` order; empty: none missing), records failing each expectation."""
        self.decode_ids.update(decode_ids)
        counts = list(missing) if missing else [0] * len(self.columns)
        if len(counts) != len(self.columns):
            raise ValueError(
                f"missing counts for {len(counts)} columns, the window has {len(self.columns)}"
            )
        self._batches.append((records, decoded, counts, failed))
        self._apply(records, decoded, counts, failed, 1)
        batches = self._batches
        while len(batches) > 1 and self.records - batches[0][0] >= self.size:
            self._apply(*batches.popleft(), -1)

    def _apply(
        self, records: int, decoded: int, missing: list[int], failed: Mapping[str, int], sign: int
    ) -> None:
        self.records += sign * records
        self.decoded += sign * decoded
        for i, n in enumerate(missing):
            self.missing[i] += sign * n
        for key, n in failed.items():
            self.failed[key] = self.failed.get(key, 0) + sign * n

    def missing_ratios(self) -> Iterator[tuple[str, float]]:
        """(column, share of the decoded records without a value); none before a record."""
        if self.decoded:
            for column, n in zip(self.columns, self.missing, strict=True):
                yield column, n / self.decoded

    def unexpected_ratios(self) -> Iterator[tuple[str, float]]:
        """(expectation, share of the records that failed it): decoded records, or all
        records for decode-stage failures."""
        for key, n in self.failed.items():
            total = self.records if key in self.decode_ids else self.decoded
            if total:
                yield key, n / total


class BucketCounts:
    """A histogram filled a batch at a time (one bisect per value, no lock per value)."""

    __slots__ = ("_bounds", "_counts", "labels", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = tuple(bounds)
        self.labels = (*(repr(float(b)) for b in self._bounds), "+Inf")
        self._counts = [0] * (len(self._bounds) + 1)
        self.total = 0.0

    def add(self, values: Iterable[float]) -> None:
        """Count each value in the first bucket whose bound is >= the value."""
        counts = self._counts
        bounds = self._bounds
        find = bisect.bisect_left
        total = 0.0
        for value in values:
            counts[find(bounds, value)] += 1
            total += value
        self.total += total

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, count of values <= le) per bucket, ending with +Inf."""
        out = []
        running = 0
        for label, count in zip(self.labels, self._counts, strict=True):
            running += count
            out.append((label, float(running)))
        return out
