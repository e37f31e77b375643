"""GX oracle for the parity tests: what GX 1.24's own engine says for each (expectation, record).

Framing follows the team notes (gx-row-semantics.md): row-level expectations are validated on
``pd.DataFrame(records, columns=columns, dtype=object)``; table-level ones on a 1-record batch built
without ``columns=``. When GX errors for a whole expectation (ERR-poison), the rows are re-run to
find which rows error and which pass or fail: the rows named as ``suspects`` (e.g. those dqgate
says error) one at a time, the others together, halving any part that still errors. Under this
framing a row's GX verdict does not depend on the rows beside it, so how the rows are split
changes the number of GX calls, never a verdict.

Test helper, not shipped.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import warnings
from collections.abc import Mapping, Sequence, Set
from typing import Any, Final, Literal

import pandas as pd

from .gx_rows import (
    ORACLE_KEY,
    OracleError,
    Raised,
    cfgs_key,
    choose_alone,
    error_message,
    expectation_key,
    referenced_columns,
    row_key,
    unexpected_rows,
)

__all__ = [
    "ORACLE_KEY",
    "TABLE_TYPES",
    "GXOracle",
    "GXVerdict",
    "OracleError",
    "expectation_key",
]

GXVerdict = Literal["pass", "fail", "error"]


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
_BATCH_ROWS: Final = 2000


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
        *,
        suspects: Mapping[str, Set[int]] | None = None,
        max_alone: int | None = None,
    ) -> dict[tuple[str, int], GXVerdict]:
        """GX's verdict for each (expectation key, row index): ``pass``, ``fail`` or ``error``.

        ``suspects`` maps an expectation key to rows likely to make GX error: if GX errors on
        the batch, they are re-run alone and the other rows together (halved while GX still
        errors). Without it, every row is re-run alone. ``max_alone`` caps the distinct rows
        re-run alone per batch (each costs a GX call); the other suspect rows of the
        expectations GX errored on get no verdict, so the caller leaves them uncompared.
        """
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
        for start in range(0, len(records) if rows else 0, _BATCH_ROWS):
            chunk = records[start : start + _BATCH_ROWS]
            chunk_suspects = None
            if suspects is not None:
                chunk_suspects = {
                    tag: {p - start for p in suspects.get(key, ()) if 0 <= p - start < len(chunk)}
                    for tag, key in keys.items()
                }
            found = self._row_verdicts(rows, chunk, columns, chunk_suspects, max_alone)
            for (tag, pos), verdict in found.items():
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

        cache_key = cfgs_key(cfgs)
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
        """GX's results for ``cfgs`` on ``frame``, in any order.

        Some metric errors escape ``validate`` instead of becoming a result (e.g. a row
        condition comparing a dict with a string under ``expect_column_values_to_be_of_type``):
        then each expectation is validated alone, and one that raises gets an error result.
        """
        self.gx_calls += 1
        suite = self._suite(cfgs)
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
        try:
            with warnings.catch_warnings():
                # numpy's RuntimeWarnings (a row sum of 1e308s overflows to inf) are only
                # warnings in production; pytest's filterwarnings=error would make them errors.
                warnings.simplefilter("ignore", RuntimeWarning)
                results = batch.validate(suite, result_format=_RESULT_FORMAT).results
        except Exception as exc:  # noqa: BLE001 - whatever GX raises is that expectation's error result
            if len(cfgs) == 1:
                return [Raised(cfgs[0], exc)]
            return [result for cfg in cfgs for result in self._validate([cfg], frame)]
        if len(results) != len(cfgs):
            raise OracleError(f"GX returned {len(results)} results for {len(cfgs)} expectations")
        return list(results)

    def _row_verdicts(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        suspects: Mapping[str, Set[int]] | None,
        max_alone: int | None,
    ) -> dict[tuple[str, int], GXVerdict]:
        out: dict[tuple[str, int], GXVerdict] = {}
        poisoned = self._settle(cfgs, records, range(len(records)), columns, out)
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for cfg in poisoned:
            # Re-running every suspect row: grouping by referenced columns keeps the distinct
            # rows few. Re-running a few: one group, so one call settles all on a row.
            capped = suspects is not None and max_alone is not None
            reads = () if capped else tuple(referenced_columns(cfg, columns))
            groups.setdefault(reads, []).append(cfg)
        for group in groups.values():
            if suspects is None:
                self._run_alone(group, records, range(len(records)), columns, out)
                continue
            alone = set().union(*(suspects[c["meta"][ORACLE_KEY]] for c in group))
            rest = [p for p in range(len(records)) if p not in alone]
            self._bisect(group, records, rest, columns, out)
            chosen = choose_alone(group, records, suspects, columns, max_alone)
            self._run_alone(group, records, chosen, columns, out)
        return out

    def _run_alone(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        positions: Sequence[int],
        columns: Sequence[str],
        out: dict[tuple[str, int], GXVerdict],
    ) -> None:
        isolated = self._isolate(cfgs, [records[p] for p in positions], columns)
        for pos, verdicts in zip(positions, isolated, strict=True):
            for tag, verdict in verdicts.items():
                out[(tag, pos)] = verdict

    def _settle(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        positions: Sequence[int],
        columns: Sequence[str],
        out: dict[tuple[str, int], GXVerdict],
    ) -> list[Mapping[str, Any]]:
        """Validate ``cfgs`` on the rows at ``positions``; return the configs GX errored on."""
        frame = pd.DataFrame([records[p] for p in positions], columns=list(columns), dtype=object)
        by_tag = {c["meta"][ORACLE_KEY]: c for c in cfgs}
        poisoned = []
        for result in self._validate(cfgs, frame):
            tag = result.expectation_config.meta[ORACLE_KEY]
            if error_message(result) is not None:
                poisoned.append(by_tag[tag])
                continue
            failed = unexpected_rows(result, len(positions))
            for index, pos in enumerate(positions):
                out[(tag, pos)] = "fail" if index in failed else "pass"
        return poisoned

    def _bisect(
        self,
        cfgs: Sequence[Mapping[str, Any]],
        records: Sequence[Mapping[str, Any]],
        positions: Sequence[int],
        columns: Sequence[str],
        out: dict[tuple[str, int], GXVerdict],
    ) -> None:
        """Settle ``cfgs`` on ``positions``, halving the rows while GX still errors."""
        if not positions:
            return
        poisoned = self._settle(cfgs, records, positions, columns, out)
        if not poisoned:
            return
        if len(positions) == 1:
            for cfg in poisoned:
                out[(cfg["meta"][ORACLE_KEY], positions[0])] = "error"
            return
        middle = len(positions) // 2
        self._bisect(poisoned, records, positions[:middle], columns, out)
        self._bisect(poisoned, records, positions[middle:], columns, out)

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
        group_key = cfgs_key(cfgs)
        referenced = sorted({c for cfg in cfgs for c in referenced_columns(cfg, columns)})
        out: list[dict[str, GXVerdict]] = []
        for record in records:
            cache_key = (group_key, tuple(columns), row_key(record, referenced))
            verdicts = self._single_rows.get(cache_key)
            if verdicts is None:
                found: dict[tuple[str, int], GXVerdict] = {}
                for cfg in self._settle(cfgs, [record], [0], columns, found):
                    found[(cfg["meta"][ORACLE_KEY], 0)] = "error"
                verdicts = {tag: verdict for (tag, _), verdict in found.items()}
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
        cache_key = (cfgs_key(cfgs), json.dumps(list(record)))
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
