"""GX oracle for the parity tests: what GX 1.24's own engine says for each (expectation, record).

Framing follows the team notes (gx-row-semantics.md): row-level expectations are validated on
``pd.DataFrame(records, columns=columns, dtype=object)``; table-level ones on a 1-record batch built
without ``columns=``. When GX errors for a whole expectation (ERR-poison), the rows are re-run one
at a time to find which rows error and which pass or fail.

Test helper, not shipped.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import pandas as pd

__all__ = [
    "ORACLE_KEY",
    "TABLE_TYPES",
    "GXOracle",
    "GXVerdict",
    "OracleError",
    "expectation_key",
]

GXVerdict = Literal["pass", "fail", "error"]

ORACLE_KEY: Final = "parity_oracle_key"
"""The meta key the oracle sets on its copy of each expectation to match GX results back."""

TABLE_TYPES: Final = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)
"""Schema-type expectations: compared per record on a 1-record batch built without ``columns=``."""

_RESULT_FORMAT: Final = {"result_format": "COMPLETE", "exclude_unexpected_values": True}
_BATCH_ROWS: Final = 600


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


def _row_key(record: Mapping[str, Any], columns: Sequence[str]) -> tuple[tuple[str, str], ...]:
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


def _referenced_columns(cfg: Mapping[str, Any], columns: Sequence[str]) -> Sequence[str]:
    """Columns an expectation's row verdict depends on; all columns when unsure."""
    kwargs = cfg.get("kwargs") or {}
    found = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    found.extend(kwargs.get("column_list") or [])
    if kwargs.get("row_condition") is not None:
        condition_columns = _condition_columns(kwargs["row_condition"])
        if condition_columns is None:
            return columns
        found.extend(condition_columns)
    return sorted(set(found)) if found else columns


class GXOracle:
    """One ephemeral GX context with a pandas dataframe asset; GX suites cached per config list."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self._batch_definition = (
            self._context.data_sources.add_pandas("parity")
            .add_dataframe_asset("records")
            .add_batch_definition_whole_dataframe("whole")
        )
        self._suites: dict[str, Any] = {}
        self._names = itertools.count()
        self._single_rows: dict[tuple[str, Any, Any], dict[str, GXVerdict]] = {}
        self._tables: dict[tuple[str, Any], dict[str, GXVerdict]] = {}
        self.gx_calls = 0

    def oracle_verdicts(
        self,
        expectation_cfgs: list[dict[str, Any]],
        records: list[dict[str, Any]],
        columns: list[str],
    ) -> dict[tuple[str, int], GXVerdict]:
        """GX's verdict for every (expectation key, row index): ``pass``, ``fail`` or ``error``."""
        tagged = [self._tag(cfg, i) for i, cfg in enumerate(expectation_cfgs)]
        keys = {
            t["meta"][ORACLE_KEY]: expectation_key(c, i)
            for i, (t, c) in enumerate(zip(tagged, expectation_cfgs, strict=True))
        }
        if len(set(keys.values())) != len(keys):
            raise OracleError(f"expectation keys are not unique: {sorted(keys.values())}")
        rows = [t for t in tagged if t["type"] not in TABLE_TYPES]
        tables = [t for t in tagged if t["type"] in TABLE_TYPES]
        out: dict[tuple[str, int], GXVerdict] = {}
        if rows:
            for start in range(0, len(records), _BATCH_ROWS):
                chunk = records[start : start + _BATCH_ROWS]
                for (tag, pos), verdict in self._row_verdicts(rows, chunk, columns).items():
                    out[(keys[tag], start + pos)] = verdict
        if tables:
            for pos, record in enumerate(records):
                for tag, verdict in self._table_verdicts(tables, record).items():
                    out[(keys[tag], pos)] = verdict
        return out

    @staticmethod
    def _tag(cfg: Mapping[str, Any], index: int) -> dict[str, Any]:
        tagged = copy.deepcopy(dict(cfg))
        tagged["meta"] = {**(tagged.get("meta") or {}), ORACLE_KEY: str(index)}
        return tagged

    def _suite(self, cfgs: Sequence[Mapping[str, Any]]) -> Any:
        """The GX suite for these configs, added to the context once (unique name each)."""
        from great_expectations.core.expectation_suite import ExpectationSuite

        cache_key = _cfgs_key(cfgs)
        suite = self._suites.get(cache_key)
        if suite is None:
            name = f"parity-{next(self._names)}"
            suite = self._context.suites.add(
                ExpectationSuite(name=name, expectations=[copy.deepcopy(dict(c)) for c in cfgs])
            )
            if len(suite.expectations) != len(cfgs):
                raise OracleError(f"GX dropped expectations while loading {cfgs!r}")
            self._suites[cache_key] = suite
        return suite

    def _validate(self, cfgs: Sequence[Mapping[str, Any]], frame: pd.DataFrame) -> list[Any]:
        self.gx_calls += 1
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
        results = batch.validate(self._suite(cfgs), result_format=_RESULT_FORMAT).results
        if len(results) != len(cfgs):
            raise OracleError(f"GX returned {len(results)} results for {len(cfgs)} expectations")
        return list(results)

    def _row_verdicts(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
    ) -> dict[tuple[str, int], GXVerdict]:
        frame = pd.DataFrame(list(records), columns=list(columns), dtype=object)
        by_tag = {c["meta"][ORACLE_KEY]: c for c in cfgs}
        out: dict[tuple[str, int], GXVerdict] = {}
        poisoned: list[Mapping[str, Any]] = []
        for result in self._validate(cfgs, frame):
            tag = result.expectation_config.meta[ORACLE_KEY]
            if error_message(result) is not None:
                poisoned.append(by_tag[tag])
                continue
            failed = _unexpected_rows(result, len(records))
            for pos in range(len(records)):
                out[(tag, pos)] = "fail" if pos in failed else "pass"
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for cfg in poisoned:  # one group per set of referenced columns keeps rows few
            groups.setdefault(tuple(_referenced_columns(cfg, columns)), []).append(cfg)
        for group in groups.values():
            group.sort(key=lambda c: int(c["meta"][ORACLE_KEY]))
            for pos, verdicts in enumerate(self._isolate(group, records, columns)):
                for tag, verdict in verdicts.items():
                    out[(tag, pos)] = verdict
        return out

    def _isolate(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
    ) -> list[dict[str, GXVerdict]]:
        """Re-run the ERR-poisoned expectations on single rows, each distinct row once.

        GX errors per expectation, not per suite, so one call per row settles all of them.
        Rows are distinct by type and repr of the cells the expectations reference.
        """
        cfgs_key = _cfgs_key(cfgs)
        referenced = sorted({c for cfg in cfgs for c in _referenced_columns(cfg, columns)})
        out: list[dict[str, GXVerdict]] = []
        for record in records:
            cache_key = (cfgs_key, tuple(columns), _row_key(record, referenced))
            verdicts = self._single_rows.get(cache_key)
            if verdicts is None:
                frame = pd.DataFrame([dict(record)], columns=list(columns), dtype=object)
                verdicts = {}
                for result in self._validate(cfgs, frame):
                    tag = result.expectation_config.meta[ORACLE_KEY]
                    if error_message(result) is not None:
                        verdicts[tag] = "error"
                    else:
                        verdicts[tag] = "fail" if _unexpected_rows(result, 1) else "pass"
                self._single_rows[cache_key] = verdicts
            out.append(verdicts)
        return out

    def _table_verdicts(
        self, cfgs: Sequence[Mapping[str, Any]], record: Mapping[str, Any]
    ) -> dict[str, GXVerdict]:
        """Table-level verdicts on ``pd.DataFrame([record], dtype=object)``.

        GX's table-level verdict is a function of the frame's columns only, so records with the
        same key sequence share one GX call.
        """
        cache_key = (_cfgs_key(cfgs), json.dumps(list(record)))
        cached = self._tables.get(cache_key)
        if cached is None:
            frame = pd.DataFrame([dict(record)], dtype=object)
            cached = {}
            for result in self._validate(cfgs, frame):
                tag = result.expectation_config.meta[ORACLE_KEY]
                if error_message(result) is not None:
                    cached[tag] = "error"
                else:
                    cached[tag] = "pass" if result.success else "fail"
            self._tables[cache_key] = cached
        return cached


def _cfgs_key(cfgs: Sequence[Mapping[str, Any]]) -> str:
    """Cache key of a list of expectation configs (type, kwargs and meta, in order)."""
    return repr([(c["type"], sorted(c["kwargs"].items()), sorted(c["meta"].items())) for c in cfgs])


def _unexpected_rows(result: Any, n_rows: int) -> set[int]:
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
