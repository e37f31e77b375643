"""CompiledSuite: a suite turned into per-record checks, and ``evaluate(record) -> Verdict``.

Decoding is part of evaluation: bytes over the size limit, invalid UTF-8, non-JSON and
JSON that is not an object are verdicts at the ``decode`` stage, never exceptions.
Expectations dqgate does not compile run in GX's own engine: per-record ones on the
batch given to :meth:`CompiledSuite.evaluate_many` (the fallback), aggregate ones over
tumbling windows (:attr:`CompiledSuite.windows`). Unsupported ones stop compilation.
Raw bytes go first to the optional native decider (:mod:`dqgate.suites.native`) when the
suite can use it; whatever it does not decide is evaluated here, as without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from dqgate.errors import SuiteError, UnsupportedExpectationError
from dqgate.suites import multi as _multi  # noqa: F401  (registers its checks)
from dqgate.suites.checks import ERROR, FAIL, PASS, SKIP, CheckFn
from dqgate.suites.conditions import frame_columns
from dqgate.suites.expectation import (
    columns_of,
    compile_expectation,
    failures_for,
    reads_of,
)
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite
from dqgate.suites.modes import Mode, classify
from dqgate.suites.native import SKIP_SHIFT, Decide, build_decider
from dqgate.suites.windows import MostlyCounter, WindowConfig, Windows
from dqgate.verdict import Failure, Outcome, Policy, Reason, Stage, Verdict

__all__ = ["DECODE_ID", "DEFAULT_MAX_RECORD_BYTES", "CompiledSuite", "compile_suite"]

DEFAULT_MAX_RECORD_BYTES: Final = 1_048_576
DECODE_ID: Final = "dqgate.decode"
_PASS_VERDICT: Final = Verdict(outcome=Outcome.PASS)
_UNDECODABLE: Final = object()
_HUGE: Final = 9.2e18  # just under 2**63
_NATIVE_CACHE_SIZE: Final = 4096  # distinct native decisions whose Verdict is kept


def _has_huge_float(value: Any) -> bool:
    """True if a float of magnitude >= 2**63 appears anywhere in the decoded value.

    orjson turns integers beyond 64 bits into such floats without a word; those records
    are decoded again by the standard library, which keeps the integers exact (a real
    float that large is decoded the same by both, only more slowly). The walk uses an
    explicit stack: orjson accepts 1,024 levels of nesting, deeper than Python's stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item >= _HUGE or item <= -_HUGE:
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


RawRecord = bytes | bytearray | memoryview


class _Decided(Mapping[str, Any]):
    """A record the native decider judged, as the windows see it: its decision, no fields.

    Only suites without window expectations use the decider, so the windows never read a
    field; the ``mostly`` counters read the decision (see :func:`_counted`).
    """

    __slots__ = ("decision",)

    def __init__(self, decision: int) -> None:
        self.decision = decision

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def _counted(fn: CheckFn, index: int) -> CheckFn:
    """The check ``fn`` (the suite's ``index``-th) that also reads a native decision."""
    fail_bit = 1 << index
    skip_bit = 1 << (index + SKIP_SHIFT)

    def count(record: Mapping[str, Any]) -> int:
        if type(record) is _Decided:
            decision = record.decision
            return FAIL if decision & fail_bit else SKIP if decision & skip_bit else PASS
        return fn(record)

    return count


class CompiledSuite:
    """A GX suite compiled for streaming. Build once per route, evaluate many times."""

    def __init__(
        self,
        loaded: LoadedSuite,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        window: WindowConfig | None = None,
        native: bool | None = None,
    ) -> None:
        if max_record_bytes <= 0:
            raise SuiteError(f"max_record_bytes must be positive, got {max_record_bytes}")
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
        self.expectations = tuple(
            compile_expectation(self.name, e, loaded.path) for e in by_mode[Mode.COMPILED]
        )
        self._checks = tuple(
            (e.fn, e.on_fail, e.on_error, e.policy is Policy.ENFORCE) for e in self.expectations
        )
        self._fallback_specs = by_mode[Mode.FALLBACK]
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
        self.columns = self._all_columns(loaded.expectations)
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
        decider = build_decider(
            by_mode[Mode.COMPILED],
            max_record_bytes=max_record_bytes,
            needs_records=bool(self._fallback_specs or by_mode[Mode.WINDOW]),
            enabled=native,
        )
        self._decide = decider.decide
        self.native = decider.decide is not None
        """True when raw bytes go to the native decider first (see dqgate.suites.native)."""
        self.native_why = decider.why
        self._native_verdicts: dict[int, Verdict] = {}
        self.windows = Windows(
            by_mode[Mode.WINDOW],
            [
                MostlyCounter(
                    expectation_id=e.expectation_id,
                    type=e.type,
                    mostly=e.mostly,
                    fn=_counted(e.fn, index) if self.native else e.fn,
                )
                for index, e in enumerate(self.expectations)
                if e.mostly < 1.0
            ],
            self.columns,
            window or WindowConfig(),
        )
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

    @staticmethod
    def _all_columns(expectations: Sequence[LoadedExpectation]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for e in expectations:
            for c in reads_of(columns_of(e.gx), getattr(e.gx, "row_condition", None)):
                seen.setdefault(c, None)
        return tuple(seen)

    @property
    def decider(self) -> Decide | None:
        """The native decider of this suite (raw bytes -> decision or None), if it uses one."""
        return self._decide

    @property
    def has_fallback(self) -> bool:
        """True when some expectations run in GX's engine per batch."""
        return bool(self._fallback_specs)

    def decode(self, raw: RawRecord) -> dict[str, Any] | Verdict:
        """Parse raw bytes into a record, or return the decode-stage verdict."""
        if len(raw) > self.max_record_bytes:
            return self._decode_verdict(Reason.TOO_LARGE)
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = _UNDECODABLE
        if record is _UNDECODABLE or _has_huge_float(record):
            record = _decode_slow(raw)
            if record is _UNDECODABLE:
                return self._decode_verdict(Reason.UNDECODABLE)
        if type(record) is not dict:
            return self._decode_verdict(Reason.NOT_AN_OBJECT)
        return record

    def evaluate(self, record: RawRecord | Mapping[str, Any]) -> Verdict:
        """The verdict for one record (raw bytes or a decoded mapping). Never raises.

        Does not feed the windows; with fallback expectations it runs GX on this one record.
        """
        decide = self._decide
        if decide is not None and type(record) is bytes:
            decision = decide(record)
            if decision is not None:
                verdict = self._native_verdicts.get(decision)
                return verdict if verdict is not None else self._native_verdict(decision)
        if self._fallback_specs:
            return self.evaluate_many([record], windows=False)[0]
        decoded = self._as_record(record)
        return decoded if isinstance(decoded, Verdict) else self._check(decoded)

    def evaluate_many(
        self, records: Iterable[RawRecord | Mapping[str, Any]], *, windows: bool = True
    ) -> list[Verdict]:
        """Verdicts for a batch, in order: compiled checks, then the GX fallback on the batch.

        With ``windows`` the decoded records also feed the tumbling windows.
        """
        verdicts: list[Verdict] = []
        decoded: list[Mapping[str, Any]] = []
        positions: list[int] = []
        decide = self._decide
        cache = self._native_verdicts
        feed = windows and self.windows.active
        for record in records:
            if decide is not None and type(record) is bytes:
                decision = decide(record)
                if decision is not None:  # no fallback here: only the windows want a record
                    if feed:
                        decoded.append(_Decided(decision))
                    verdict = cache.get(decision)
                    verdicts.append(
                        verdict if verdict is not None else self._native_verdict(decision)
                    )
                    continue
            item = self._as_record(record)
            if isinstance(item, Verdict):
                verdicts.append(item)
                continue
            positions.append(len(verdicts))
            decoded.append(item)
            verdicts.append(self._check(item))
        if self._fallback_specs and decoded:
            self._merge_fallback(verdicts, decoded, positions)
        if windows and decoded:
            self.windows.add(decoded)
        return verdicts

    def _merge_fallback(
        self, verdicts: list[Verdict], decoded: list[Mapping[str, Any]], positions: list[int]
    ) -> None:
        if self._fallback is None:
            from dqgate.suites.fallback import GxFallback

            self._fallback = GxFallback(self._fallback_specs, self.frame_columns)
        for position, extra in zip(positions, self._fallback.evaluate(decoded), strict=True):
            if not extra:
                continue
            added = [
                self._fallback_failures[key][0 if code == FAIL else 1]
                for key, code in extra.items()
            ]
            verdicts[position] = _combine(verdicts[position].failures + tuple(added))

    def _as_record(self, record: RawRecord | Mapping[str, Any]) -> Mapping[str, Any] | Verdict:
        if isinstance(record, bytes | bytearray | memoryview):
            return self.decode(record)
        if not isinstance(record, Mapping):
            return self._decode_verdict(Reason.NOT_AN_OBJECT)
        return record

    def _check(self, record: Mapping[str, Any]) -> Verdict:
        failures: list[Failure] | None = None
        quarantine = False
        error = False
        for fn, on_fail, on_error, enforce in self._checks:
            try:
                result = fn(record)
            except Exception:  # a bug in a check is a verdict, never a crash
                result = ERROR
            if result > 0:
                if failures is None:
                    failures = []
                if result == FAIL:
                    failures.append(on_fail)
                    quarantine = quarantine or enforce
                else:
                    failures.append(on_error)
                    error = True
        if failures is None:
            return _PASS_VERDICT
        outcome = Outcome.ERROR if error else Outcome.QUARANTINE if quarantine else Outcome.PASS
        return Verdict(outcome=outcome, failures=tuple(failures))

    def _native_verdict(self, decision: int) -> Verdict:
        """The Verdict of a native decision: ``_check``'s, built from the same Failures."""
        failures = tuple(
            on_fail
            for index, (_fn, on_fail, _on_error, _enforce) in enumerate(self._checks)
            if decision >> index & 1
        )
        verdict = _combine(failures) if failures else _PASS_VERDICT
        if len(self._native_verdicts) < _NATIVE_CACHE_SIZE:
            self._native_verdicts[decision] = verdict
        return verdict

    def _decode_verdict(self, reason: Reason) -> Verdict:
        return Verdict(
            outcome=Outcome.QUARANTINE,
            failures=(self._decode_failures[reason],),
            stage=Stage.DECODE,
        )

    def __repr__(self) -> str:
        return (
            f"CompiledSuite(name={self.name!r}, expectations={len(self.loaded.expectations)}, "
            f"native={self.native})"
        )


def _combine(failures: tuple[Failure, ...]) -> Verdict:
    error = any(f.error for f in failures)
    quarantine = any(f.policy is Policy.ENFORCE for f in failures)
    outcome = Outcome.ERROR if error else Outcome.QUARANTINE if quarantine else Outcome.PASS
    return Verdict(outcome=outcome, failures=failures)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _decode_slow(raw: RawRecord) -> Any:
    """Standard-library JSON for what orjson refuses but JSON allows (integers over 64 bits)."""
    try:
        return json.loads(bytes(raw).decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _UNDECODABLE


def compile_suite(
    source: str | Path | Mapping[str, Any] | LoadedSuite,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    suite_parameters: Mapping[str, Any] | None = None,
    window: WindowConfig | None = None,
    native: bool | None = None,
) -> CompiledSuite:
    """Load (if needed) and compile a suite; raises SuiteError naming what to fix.

    ``native``: use the native decider where the suite allows it (None: unless
    ``DQGATE_NATIVE=0``; False: never; True: even when that variable says 0).
    """
    loaded = (
        source
        if isinstance(source, LoadedSuite)
        else load_suite(source, suite_parameters=suite_parameters)
    )
    return CompiledSuite(loaded, max_record_bytes=max_record_bytes, window=window, native=native)
