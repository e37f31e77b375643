"""Reading GX results row by row, which record cells a verdict depends on, which rows to re-run.

Helpers of the parity oracle (``oracle.py``); test code, not shipped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "ORACLE_KEY",
    "OracleError",
    "Raised",
    "cfgs_key",
    "choose_alone",
    "error_message",
    "expectation_key",
    "referenced_columns",
    "row_key",
    "unexpected_rows",
]

ORACLE_KEY: Final = "parity_oracle_key"
"""The meta key the oracle sets on its copy of each expectation to match GX results back."""

_LEGACY_PARSERS: Final = ("great_expectations", "great_expectations__experimental__")
_LEGACY_COLUMN: Final = re.compile(r'col\("([^"]*)"\)')


class OracleError(AssertionError):
    """GX returned something the oracle cannot turn into per-row verdicts."""


def expectation_key(cfg: Mapping[str, Any], index: int) -> str:
    """The expectation id dqgate reports: GX ``id``, else ``meta["id"]``, else the index."""
    if cfg.get("id"):
        return str(cfg["id"])
    meta = cfg.get("meta") or {}
    if meta.get("id"):
        return str(meta["id"])
    return str(index)


def error_message(result: Any) -> str | None:
    """The exception message of a GX result, for both shapes of ``exception_info``; None if none."""
    info = result.exception_info or {}
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def row_key(record: Mapping[str, Any], columns: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Identity of a record's cells for ``columns``: type and repr, so 1, 1.0 and True differ."""
    missing = ("<missing>", "")
    return tuple(
        (type(record[c]).__qualname__, repr(record[c])) if c in record else missing for c in columns
    )


def _condition_columns(condition: Any) -> list[str] | None:
    """Columns a structured row_condition reads; None when it is not structured (unknown)."""
    if not isinstance(condition, Mapping):
        return None
    kind = condition.get("type")
    if kind in ("comparison", "nullity"):
        return [str(condition["column"]["name"])]
    if kind in ("and", "or"):
        found: list[str] = []
        for sub in condition.get("conditions") or []:
            columns = _condition_columns(sub)
            if columns is None:
                return None
            found.extend(columns)
        return found
    return None


def referenced_columns(cfg: Mapping[str, Any], columns: Sequence[str]) -> Sequence[str]:
    """Columns an expectation's row verdict depends on; all columns when unsure."""
    kwargs = cfg.get("kwargs") or {}
    found = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    found.extend(kwargs.get("column_list") or [])
    condition = kwargs.get("row_condition")
    if isinstance(condition, str) and kwargs.get("condition_parser") in _LEGACY_PARSERS:
        found.extend(_LEGACY_COLUMN.findall(condition))  # GX's legacy grammar: one col("...")
    elif condition is not None:
        condition_columns = _condition_columns(condition)
        if condition_columns is None:
            return columns
        found.extend(condition_columns)
    return sorted(set(found)) if found else columns


def cfgs_key(cfgs: Sequence[Mapping[str, Any]]) -> str:
    """Cache key of a list of expectation configs (type, kwargs and meta, in order)."""
    return repr([(c["type"], sorted(c["kwargs"].items()), sorted(c["meta"].items())) for c in cfgs])


def unexpected_rows(result: Any, n_rows: int) -> set[int]:
    """Row positions GX lists as unexpected; raises when GX gave no per-row information."""
    indices = result.result.get("unexpected_index_list")
    if indices is None:
        if result.success:
            return set()
        raise OracleError(
            f"GX gave no unexpected_index_list for {result.expectation_config.type}: "
            f"{result.result!r}"
        )
    rows = {int(i) for i in indices}
    if any(not 0 <= i < n_rows for i in rows):
        raise OracleError(f"GX listed rows {sorted(rows)} for a batch of {n_rows}")
    return rows


def choose_alone(
    cfgs: Sequence[Mapping[str, Any]],
    records: Sequence[Mapping[str, Any]],
    suspects: Mapping[str, Set[int]],
    columns: Sequence[str],
    max_alone: int | None,
) -> list[int]:
    """Suspect rows to re-run alone: at most ``max_alone`` distinct ones, taken from each
    expectation's suspects in turn, plus the rows identical to those (free: cached)."""
    lists = [sorted(suspects[c["meta"][ORACLE_KEY]]) for c in cfgs]
    every = sorted(set().union(*lists))
    if max_alone is None:
        return every
    referenced = sorted({c for cfg in cfgs for c in referenced_columns(cfg, columns)})
    keys = {p: row_key(records[p], referenced) for p in every}
    chosen: set[Any] = set()
    for pos in itertools.chain.from_iterable(itertools.zip_longest(*lists)):
        if len(chosen) >= max_alone:
            break
        if pos is not None:
            chosen.add(keys[pos])
    return [p for p in every if keys[p] in chosen]


class Raised:
    """A stand-in GX result for an expectation whose validation raised instead of reporting."""

    def __init__(self, cfg: Mapping[str, Any], exc: Exception) -> None:
        self.expectation_config = _Config(meta=dict(cfg["meta"]), type=str(cfg["type"]))
        self.exception_info = {"raised_exception": True, "exception_message": repr(exc)}
        self.success = False
        self.result: dict[str, Any] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Config:
    meta: dict[str, Any]
    type: str
