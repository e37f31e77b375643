"""CompiledSuite: a suite turned into per-record checks, evaluated a batch at a time.

:meth:`CompiledSuite.evaluate_batch` takes raw values and returns a
:class:`BatchEvaluation`: one Verdict per value (identical outcomes share one Verdict
object), how many values decoded to a JSON object, per column how many of those lack a
value, and the input of the route's windows. Decoding is part of evaluation: bytes over the
size limit, invalid UTF-8, non-JSON and JSON that is not an object are verdicts at the
``decode`` stage, never exceptions.

The native decider (:mod:`dqgate.suites.native`), when built, runs every check that has a
native form, for every record; Python runs the rest, per record, on the values they read
(decoded from the decider's spans), and the whole record only when the decider abstained.
Expectations dqgate does not compile run in GX's own engine: per-record ones on each batch
(the fallback), aggregate ones and ``mostly`` ratios over tumbling windows, in a
:class:`~dqgate.suites.windows.WindowAggregator` the caller owns
(:meth:`CompiledSuite.new_window_aggregator`). A compiled suite keeps no per-batch state:
evaluating is a pure function of the input, safe from any thread (its caches are dicts of
immutable values). Unsupported expectations stop compilation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from dqgate.errors import SuiteError, UnsupportedExpectationError
from dqgate.shape import MostlyShape, SuiteShape
from dqgate.suites import decoding
from dqgate.suites.batch import BatchEvaluation, combine, count_missing, window_input
from dqgate.suites.checks import ERROR, FAIL
from dqgate.suites.conditions import frame_columns
from dqgate.suites.expectation import columns_of, compile_expectation, failures_for, reads_of
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite
from dqgate.suites.modes import Mode, classify
from dqgate.suites.native import (
    ABSTAINED,
    DECIDED,
    PARTLY,
    UNDECIDED,
    Decide,
    NativeCheck,
    build_decider,
    native_available,
    native_wanted,
)
from dqgate.suites.regexes import DEFAULT_REGEX_BUDGET_S, regex_warnings
from dqgate.suites.registry import CheckOptions, registration
from dqgate.suites.windows import MostlyCounter, WindowAggregator, WindowConfig, WindowInput
from dqgate.verdict import PASS, Failure, Outcome, Reason, Stage, Verdict

__all__ = [
    "DECODE_ID",
    "DEFAULT_MAX_RECORD_BYTES",
    "BatchEvaluation",
    "CompiledSuite",
    "compile_suite",
]

DEFAULT_MAX_RECORD_BYTES: Final = 1_048_576
DECODE_ID: Final = "dqgate.decode"
_CACHE_SIZE: Final = 4096
"""Distinct check-code rows whose Verdict is kept (beyond it, Verdicts are built per record)."""
_NO_SPAN: Final = 2**32 - 1
_OUTCOME_ONLY: Final = bytes(range(256)).replace(b"\x03", b"\x00", 1)
"""Maps SKIP to PASS: two rows that differ only there have the same Verdict."""
_ABSENT: Final = object()

RawRecord = bytes | bytearray | memoryview


class CompiledSuite:
    """A GX suite compiled for streaming. Build once per route, evaluate many times."""

    def __init__(
        self,
        loaded: LoadedSuite,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        window: WindowConfig | None = None,
        native: bool | None = None,
        regex_budget_s: float = DEFAULT_REGEX_BUDGET_S,
    ) -> None:
        if max_record_bytes <= 0:
            raise SuiteError(f"max_record_bytes must be positive, got {max_record_bytes}")
        if not regex_budget_s > 0:
            raise SuiteError(f"regex_budget_s must be positive, got {regex_budget_s}")
        self.loaded = loaded
        self.name = loaded.name
        self.path = loaded.path
        self.hash = loaded.hash
        self.max_record_bytes = max_record_bytes
        self.modes = {e.expectation_id: classify(e) for e in loaded.expectations}
        by_mode: dict[Mode, list[LoadedExpectation]] = {mode: [] for mode in Mode}
        for e in loaded.expectations:
            by_mode[self.modes[e.expectation_id].mode].append(e)
        for e in by_mode[Mode.UNSUPPORTED]:
            raise UnsupportedExpectationError(
                f"dqgate cannot evaluate this in a stream: {self.modes[e.expectation_id].why}; "
                "remove it from the suite or validate it in a batch job",
                path=loaded.path,
                index=e.index,
                expectation_type=e.type,
            )
        self.regex_budget_s = regex_budget_s
        linear = native_wanted(native) and native_available()
        options = CheckOptions(regex_budget_s=regex_budget_s, linear_regex=linear)
        self.expectations = tuple(
            compile_expectation(self.name, e, loaded.path, options) for e in by_mode[Mode.COMPILED]
        )
        self.regex_warnings = regex_warnings(
            loaded.expectations, self.modes, linear=linear, budget_s=regex_budget_s
        )
        """Patterns that can backtrack catastrophically, naming the expectation (log them)."""
        self._fns = tuple(e.fn for e in self.expectations)
        self._failures = tuple((e.on_fail, e.on_error) for e in self.expectations)
        self._fallback_specs = by_mode[Mode.FALLBACK]
        self._window_specs = by_mode[Mode.WINDOW]
        self._fallback_failures = {
            e.expectation_id: failures_for(
                self.name,
                e,
                columns_of(e.gx),
                "GX reported the value as unexpected",
                "GX could not evaluate this record",
            )
            for e in self._fallback_specs
        }
        self.columns = self.columns_of(loaded.expectations)
        self.frame_columns = tuple(
            dict.fromkeys(
                (
                    *self.columns,
                    *(
                        c
                        for e in self._fallback_specs
                        for c in frame_columns(getattr(e.gx, "row_condition", None))
                    ),
                )
            )
        )
        self._fallback: Any = None  # built on first use: GX contexts are slow to create
        self._fallback_lock = threading.Lock()
        self._mostly = tuple(i for i, e in enumerate(self.expectations) if e.mostly < 1.0)
        self._needs_records = bool(self._fallback_specs or self._window_specs)
        built = build_decider(
            [e.loaded for e in self.expectations],
            self.frame_columns,
            max_record_bytes=max_record_bytes,
            enabled=native,
        )
        self._decider: Any = built.decider
        self.native = built.decider is not None
        """True when raw bytes go to the native decider first (see dqgate.suites.native)."""
        self.native_why = built.why
        self.native_checks: tuple[NativeCheck, ...] = built.checks
        """Per compiled check: whether the decider runs it, and why (not)."""
        self._decider_columns = built.columns
        index = {c: i for i, c in enumerate(built.columns)}
        self._reads = tuple(
            tuple(index[c] for c in e.reads if c in index) for e in self.expectations
        )
        self._whole = tuple(
            bool(entry is not None and entry.whole_record)
            for entry in (registration(e.type) for e in self.expectations)
        )
        self._width = 1 + len(self.expectations)
        self._span_mode = 2 if self._needs_records else 1
        self._verdicts: dict[bytes, Verdict] = {}
        self._shared: dict[bytes, Verdict] = {}
        self._decode_failures = {
            reason: Failure(
                suite=self.name,
                expectation_id=DECODE_ID,
                type="dqgate_decode",
                column=None,
                reason=reason,
                message=message,
            )
            for reason, message in (
                (Reason.TOO_LARGE, f"record is larger than {max_record_bytes} bytes"),
                (Reason.UNDECODABLE, "record is not valid UTF-8 JSON"),
                (Reason.NOT_AN_OBJECT, "record is JSON but not an object"),
            )
        }
        self._decode_verdicts = {
            reason: Verdict(outcome=Outcome.QUARANTINE, failures=(failure,), stage=Stage.DECODE)
            for reason, failure in self._decode_failures.items()
        }
        self.windows = self._aggregator(window or WindowConfig())
        """Windows fed by :meth:`evaluate_many` (the former API; see new_window_aggregator)."""

    @staticmethod
    def columns_of(expectations: Sequence[LoadedExpectation]) -> tuple[str, ...]:
        """Every column a suite's expectations read, in order of first use."""
        seen: dict[str, None] = {}
        for e in expectations:
            for c in reads_of(columns_of(e.gx), getattr(e.gx, "row_condition", None)):
                seen.setdefault(c, None)
        return tuple(seen)

    def shape(self) -> SuiteShape:
        """What a route running this suite exports (the metrics take it, never the suite):
        its columns, its per-record expectations and decode id, each compiled
        expectation's usual failure and the ``mostly`` of those below 1."""
        per_record = [
            key
            for key, decision in self.modes.items()
            if decision.mode in (Mode.COMPILED, Mode.FALLBACK)
        ]
        return SuiteShape(
            name=self.name,
            hash=self.hash,
            columns=self.columns,
            expectations=(*per_record, DECODE_ID),
            decode_expectation=DECODE_ID,
            failures=tuple(e.on_fail for e in self.expectations),
            mostly=tuple(
                MostlyShape(
                    expectation_id=e.expectation_id, type=e.type, column=e.column, mostly=e.mostly
                )
                for e in self.expectations
                if e.mostly < 1.0
            ),
        )

    @property
    def decider(self) -> Decide | None:
        """The native decider's single-record function (raw bytes -> row), if the suite uses it.

        A row is the record's state (0 every check decided, 1 some undecided, 2 abstained)
        and one code per compiled check (0 pass, 1 fail, 2 error, 3 skip, 4 undecided).
        """
        return self._decider.decide if self._decider is not None else None

    @property
    def has_fallback(self) -> bool:
        """True when some expectations run in GX's engine per batch."""
        return bool(self._fallback_specs)

    def new_window_aggregator(
        self, config: WindowConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> WindowAggregator | None:
        """A fresh aggregator of this suite's windows; None when there is nothing to aggregate.

        ``clock`` (seconds) times the windows limited by ``window_seconds``.
        """
        aggregator = self._aggregator(config, clock)
        return aggregator if aggregator.active else None

    def _aggregator(
        self, config: WindowConfig, clock: Callable[[], float] = time.monotonic
    ) -> WindowAggregator:
        return WindowAggregator(
            self._window_specs,
            [
                MostlyCounter(
                    expectation_id=self.expectations[i].expectation_id,
                    type=self.expectations[i].type,
                    mostly=self.expectations[i].mostly,
                )
                for i in self._mostly
            ],
            self.columns,
            config,
            clock=clock,
        )

    def decode(self, raw: RawRecord) -> dict[str, Any] | Verdict:
        """Parse raw bytes into a record, or return the decode-stage verdict."""
        if len(raw) > self.max_record_bytes:
            return self._decode_verdicts[Reason.TOO_LARGE]
        record = decoding.loads(raw)
        if record is decoding.UNDECODABLE:
            return self._decode_verdicts[Reason.UNDECODABLE]
        if type(record) is not dict:
            return self._decode_verdicts[Reason.NOT_AN_OBJECT]
        return record

    def evaluate_batch(self, values: Sequence[bytes]) -> BatchEvaluation:
        """Verdicts and metric inputs for a batch of raw values. Never raises for a record."""
        return self._evaluate(values if type(values) is list else list(values))

    def evaluate(self, record: RawRecord | Mapping[str, Any]) -> Verdict:
        """The verdict for one record (raw bytes or a decoded mapping). Never raises.

        Does not feed the windows; with fallback expectations it runs GX on this one record.
        """
        decider = self._decider
        if decider is not None and type(record) is bytes and not self._fallback_specs:
            row = decider.decide(record)
            if row[0] == DECIDED:
                verdict = self._verdicts.get(row)
                return verdict if verdict is not None else self._verdict(row)
        return self._evaluate([record]).verdicts[0]

    def evaluate_many(
        self, records: Iterable[RawRecord | Mapping[str, Any]], *, windows: bool = True
    ) -> list[Verdict]:
        """Verdicts for a batch, in order (raw bytes or decoded mappings).

        With ``windows`` the batch also feeds :attr:`windows`.
        """
        batch = self._evaluate(list(records))
        if windows:
            self.windows.add(batch.window_input)
        return batch.verdicts

    # --- the batch ------------------------------------------------------------------------

    def _evaluate(self, inputs: list[Any]) -> BatchEvaluation:
        n = len(inputs)
        decider = self._decider
        width = self._width
        needs_records = self._needs_records
        out: bytes | None = None
        if decider is not None:
            out, native_missing, decoded, spans = decider.decide_many(inputs, self._span_mode)
            rows = [out[i : i + width] for i in range(0, n * width, width)]
            verdicts: list[Verdict | None] = list(map(self._verdicts.get, rows))
            missing = list(native_missing[: len(self.columns)])
            view = memoryview(spans).cast("I") if spans else None
        else:
            rows = [b"\x02"] * n  # every record: the Python path
            verdicts = [None] * n
            missing = [0] * len(self.columns)
            decoded = 0
            view = None
        # Only the records without a cached Verdict need Python (all, when GX needs records).
        todo: Iterable[int] = (
            range(n) if needs_records else [i for i, v in enumerate(verdicts) if v is None]
        )
        step = 2 * len(self._decider_columns)
        span_at = 0
        python_records: list[Mapping[str, Any]] = []
        changed: list[tuple[int, bytes | None]] = []  # rows Python completed; None: no object
        records: list[Mapping[str, Any]] = []
        positions: list[int] = []
        for i in todo:
            row = rows[i]
            state = row[0]
            record: Mapping[str, Any] | None = None
            if state == ABSTAINED:
                item = self._as_record(inputs[i])
                if isinstance(item, Verdict):
                    verdicts[i] = item
                    changed.append((i, None))
                    continue
                python_records.append(item)
                record = item
                row = self._codes(item)
                changed.append((i, row))
            else:
                base = span_at
                if state == PARTLY or self._span_mode == 2:
                    span_at += step
                if state == PARTLY:
                    row, record = self._finish(inputs[i], row, view, base)
                    changed.append((i, row))
                if needs_records:
                    record = self._partial(inputs[i], view, base, record)
            verdict = verdicts[i]
            if verdict is None or state != DECIDED:
                verdicts[i] = self._verdict(row)
            if needs_records and record is not None:
                records.append(record)
                positions.append(i)
        if python_records:
            decoded += len(python_records)
            for c, column in enumerate(self.columns):
                missing[c] += count_missing(python_records, column)
        final: list[Verdict] = verdicts  # type: ignore[assignment]  # every slot is set
        if self._fallback_specs and records:
            self._merge_fallback(final, records, positions)
        return BatchEvaluation(
            verdicts=final,
            decoded=decoded,
            missing=tuple(missing),
            window_input=self._window_input(n, out, changed, records),
        )

    def _window_input(
        self,
        n: int,
        out: bytes | None,
        changed: list[tuple[int, bytes | None]],
        records: list[Mapping[str, Any]],
    ) -> WindowInput | None:
        if not (self._mostly or self._window_specs):
            return None
        return window_input(
            n,
            out,
            changed,
            width=self._width,
            mostly=self._mostly,
            records=records,
            columns=self.columns if self._window_specs else None,
        )

    def _codes(self, record: Mapping[str, Any]) -> bytes:
        """The row of a record evaluated in Python: state 0, then every check's code."""
        codes = [DECIDED]
        for fn in self._fns:
            try:
                codes.append(fn(record))
            except Exception:  # noqa: BLE001 - a bug in a check is a verdict, never a crash
                codes.append(ERROR)
        return bytes(codes)

    def _value(self, raw: bytes, view: memoryview, base: int, column: int) -> Any:
        start = view[base + 2 * column]
        if start == _NO_SPAN:
            return _ABSENT
        return decoding.loads(raw[start : view[base + 2 * column + 1]])

    def _finish(
        self, raw: bytes, row: bytes, view: memoryview | None, base: int
    ) -> tuple[bytes, dict[str, Any]]:
        """Run the checks the decider left undecided, on the values they read."""
        assert view is not None
        codes = bytearray(row)
        codes[0] = DECIDED
        record: dict[str, Any] = {}
        names = self._decider_columns
        k = codes.find(UNDECIDED, 1)
        while k != -1:
            check = k - 1
            if self._whole[check]:
                target: Mapping[str, Any] = self.decode(raw)  # type: ignore[assignment]
            else:
                for column in self._reads[check]:
                    name = names[column]
                    if name not in record:
                        value = self._value(raw, view, base, column)
                        if value is not _ABSENT:
                            record[name] = value
                target = record
            try:
                codes[k] = self._fns[check](target)
            except Exception:  # noqa: BLE001 - a bug in a check is a verdict, never a crash
                codes[k] = ERROR
            k = codes.find(UNDECIDED, k + 1)
        return bytes(codes), record

    def _partial(
        self, raw: bytes, view: memoryview | None, base: int, record: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """The record's values of every column the suite reads (for GX: fallback, windows)."""
        assert view is not None
        out = dict(record) if record else {}
        for column, name in enumerate(self._decider_columns):
            if name not in out:
                value = self._value(raw, view, base, column)
                if value is not _ABSENT:
                    out[name] = value
        return out

    def _verdict(self, row: bytes) -> Verdict:
        """The Verdict of a row of check codes, built once per distinct outcome."""
        verdict = self._verdicts.get(row)
        if verdict is not None:
            return verdict
        failures = tuple(
            pair[0] if code == FAIL else pair[1]
            for code, pair in zip(row[1:], self._failures, strict=True)
            if code in (FAIL, ERROR)
        )
        built = combine(failures) if failures else PASS
        key = row.translate(_OUTCOME_ONLY)
        verdict = self._shared.get(key, built)
        if len(self._verdicts) < _CACHE_SIZE:
            self._shared.setdefault(key, verdict)
            self._verdicts[row] = verdict
        return verdict

    def _merge_fallback(
        self, verdicts: list[Verdict], records: list[Mapping[str, Any]], positions: list[int]
    ) -> None:
        with self._fallback_lock:
            if self._fallback is None:
                from dqgate.suites.fallback import GxFallback

                self._fallback = GxFallback(self._fallback_specs, self.frame_columns)
        for position, extra in zip(positions, self._fallback.evaluate(records), strict=True):
            if not extra:
                continue
            added = [
                self._fallback_failures[key][0 if code == FAIL else 1]
                for key, code in extra.items()
            ]
            verdicts[position] = combine(verdicts[position].failures + tuple(added))

    def _as_record(self, record: Any) -> Mapping[str, Any] | Verdict:
        if isinstance(record, bytes | bytearray | memoryview):
            return self.decode(record)
        if not isinstance(record, Mapping):
            return self._decode_verdicts[Reason.NOT_AN_OBJECT]
        return record

    def __repr__(self) -> str:
        return (
            f"CompiledSuite(name={self.name!r}, expectations={len(self.loaded.expectations)}, "
            f"native={self.native})"
        )


def compile_suite(
    source: str | Path | Mapping[str, Any] | LoadedSuite,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    suite_parameters: Mapping[str, Any] | None = None,
    window: WindowConfig | None = None,
    native: bool | None = None,
    regex_budget_s: float = DEFAULT_REGEX_BUDGET_S,
) -> CompiledSuite:
    """Load (if needed) and compile a suite; raises SuiteError naming what to fix.

    ``native``: use the native decider where the suite allows it (None: unless
    ``DQGATE_NATIVE=0``; False: never; True: even when that variable says 0).
    ``regex_budget_s``: the most one regex evaluation may take outside the native
    linear-time engine; past it the record's verdict is an ``evaluation_error``.
    """
    loaded = (
        source
        if isinstance(source, LoadedSuite)
        else load_suite(source, suite_parameters=suite_parameters)
    )
    return CompiledSuite(
        loaded,
        max_record_bytes=max_record_bytes,
        window=window,
        native=native,
        regex_budget_s=regex_budget_s,
    )
