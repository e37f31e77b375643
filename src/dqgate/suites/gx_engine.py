"""GX's own engine on a pandas DataFrame, set up once: the fallback's and the windows' oracle.

One ephemeral context per process (in-memory stores, progress bars off), one pandas
data source with a whole-dataframe batch definition. Suites are registered once; each
call frames records as ``pd.DataFrame(records, columns=columns, dtype=object)`` so a
record's verdict never depends on its neighbours, and asks for
``COMPLETE`` + ``exclude_unexpected_values`` (row indices without values, which also
avoids GX's crash on dict values).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

__all__ = ["KEY", "RESULT_FORMAT", "GxEngine", "GxResult"]

RESULT_FORMAT: Final = {"result_format": "COMPLETE", "exclude_unexpected_values": True}
KEY: Final = "dqgate_key"
"""The ``meta`` key that maps GX's results (not in suite order) back to expectations."""

_names = itertools.count()


@dataclass(frozen=True, slots=True, kw_only=True)
class GxResult:
    """One expectation's result on one frame."""

    key: str
    success: bool
    unexpected_index_list: tuple[int, ...]
    observed_value: Any
    unexpected_percent: float | None
    error: str | None


def _error_message(result: Any) -> str | None:
    info = getattr(result, "exception_info", None) or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "raised")
    for value in info.values():  # {metric id: {...}} when metric resolution failed
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message") or "raised")
    return None


def _raised(suite: Any, exc: Exception) -> list[GxResult]:
    """Every expectation of ``suite`` as errored when GX raised instead of reporting.

    GX does not say which expectation raised, so all of them are marked: the fallback then
    re-runs each alone (and bisects), the windows report the error. Only the exception's
    class is kept: GX's messages may quote record values.
    """
    message = f"GX raised {type(exc).__name__} while validating"
    return [
        GxResult(
            key=str((e.meta or {}).get(KEY)),
            success=False,
            unexpected_index_list=(),
            observed_value=None,
            unexpected_percent=None,
            error=message,
        )
        for e in suite.expectations
    ]


class GxEngine:
    """A process-wide GX validator for micro-batches. Calls are serialised by a lock."""

    _shared: GxEngine | None = None

    def __init__(self, *, batch_definition: Any = None) -> None:
        """``batch_definition``: what turns a frame into a GX batch (None: a pandas
        whole-dataframe batch definition in this engine's own ephemeral context)."""
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._lock = threading.Lock()
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self._batch = batch_definition or (
            self._context.data_sources.add_pandas(f"dqgate_{next(_names)}")
            .add_dataframe_asset("records")
            .add_batch_definition_whole_dataframe("batch")
        )

    @classmethod
    def shared(cls) -> GxEngine:
        """The process-wide engine (GX contexts are expensive to create)."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def register(self, expectations: Sequence[tuple[str, Mapping[str, Any]]]) -> Any:
        """A GX suite made of (key, raw expectation dict) pairs; returns its handle."""
        from great_expectations.core.expectation_suite import ExpectationSuite

        items = []
        for key, raw in expectations:
            item = {k: v for k, v in raw.items() if k != "id"}
            item["meta"] = {**(raw.get("meta") or {}), KEY: key}
            items.append(item)
        with self._lock:
            return self._context.suites.add(
                ExpectationSuite(name=f"dqgate_{next(_names)}", expectations=items)
            )

    def validate(
        self, suite: Any, records: Sequence[Mapping[str, Any]], columns: Sequence[str] | None
    ) -> list[GxResult]:
        """Validate records framed with ``columns`` (None: the records' own keys)."""
        frame = (
            pd.DataFrame(list(records), columns=list(columns), dtype=object)
            if columns is not None
            else pd.DataFrame(list(records), dtype=object)
        )
        with self._lock:
            try:
                outcome = self._batch.get_batch(batch_parameters={"dataframe": frame}).validate(
                    suite, result_format=RESULT_FORMAT
                )
            except Exception as exc:  # noqa: BLE001 - GX lets some metric errors escape validate()
                return _raised(suite, exc)
        results = []
        for r in outcome.results:
            body = r.result or {}
            results.append(
                GxResult(
                    key=str((r.expectation_config.meta or {}).get(KEY)),
                    success=bool(r.success),
                    unexpected_index_list=tuple(body.get("unexpected_index_list") or ()),
                    observed_value=body.get("observed_value"),
                    unexpected_percent=body.get("unexpected_percent"),
                    error=_error_message(r),
                )
            )
        return results
