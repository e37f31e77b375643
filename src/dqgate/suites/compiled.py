"""CompiledSuite: a suite turned into per-record checks, and ``evaluate(record) -> Verdict``.

Decoding is part of evaluation: bytes over the size limit, invalid UTF-8, non-JSON and
JSON that is not an object are verdicts at the ``decode`` stage, never exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from dqgate.errors import SuiteError, UnsupportedExpectationError
from dqgate.suites import multi as _multi  # noqa: F401  (registers its checks)
from dqgate.suites.checks import ERROR, FAIL, SKIP, CheckFn, build_check, supported_types
from dqgate.suites.conditions import compile_condition, condition_columns
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite
from dqgate.suites.reasons import default_reason
from dqgate.verdict import Failure, Outcome, Policy, Reason, Stage, Verdict

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "CompiledExpectation",
    "CompiledSuite",
    "compile_suite",
]

DEFAULT_MAX_RECORD_BYTES: Final = 1_048_576
_PASS_VERDICT: Final = Verdict(outcome=Outcome.PASS)
DECODE_ID: Final = "dqgate.decode"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledExpectation:
    """One expectation ready to run: its check and its prebuilt failures."""

    expectation_id: str
    type: str
    column: str | tuple[str, ...] | None
    policy: Policy
    reason: Reason
    mostly: float
    reads: tuple[str, ...]
    fn: CheckFn
    on_fail: Failure
    on_error: Failure


class CompiledSuite:
    """A GX suite compiled into per-record checks. Build once, evaluate many times."""

    __slots__ = (
        "_checks",
        "_decode_failures",
        "expectations",
        "hash",
        "loaded",
        "max_record_bytes",
        "name",
        "path",
    )

    def __init__(self, loaded: LoadedSuite, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
        if max_record_bytes <= 0:
            raise SuiteError(f"max_record_bytes must be positive, got {max_record_bytes}")
        self.loaded = loaded
        self.name = loaded.name
        self.path = loaded.path
        self.hash = loaded.hash
        self.max_record_bytes = max_record_bytes
        self.expectations = tuple(
            _compile_one(self.name, e, loaded.path) for e in loaded.expectations
        )
        self._checks = tuple(
            (e.fn, e.on_fail, e.on_error, e.policy is Policy.ENFORCE) for e in self.expectations
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

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the suite references, in first-seen order."""
        seen: dict[str, None] = {}
        for e in self.expectations:
            for c in e.reads:
                seen.setdefault(c, None)
        return tuple(seen)

    def decode(self, raw: bytes | bytearray | memoryview) -> dict[str, Any] | Verdict:
        """Parse raw bytes into a record, or return the decode-stage verdict."""
        if len(raw) > self.max_record_bytes:
            return self._decode_verdict(Reason.TOO_LARGE)
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = _decode_slow(raw)
            if record is _UNDECODABLE:
                return self._decode_verdict(Reason.UNDECODABLE)
        if type(record) is not dict:
            return self._decode_verdict(Reason.NOT_AN_OBJECT)
        return record

    def evaluate(self, record: bytes | bytearray | memoryview | Mapping[str, Any]) -> Verdict:
        """The verdict for one record (raw bytes or an already-decoded mapping). Never raises."""
        if isinstance(record, (bytes, bytearray, memoryview)):
            decoded = self.decode(record)
            if isinstance(decoded, Verdict):
                return decoded
            return self._check(decoded)
        if not isinstance(record, Mapping):
            return self._decode_verdict(Reason.NOT_AN_OBJECT)
        return self._check(record)

    def evaluate_many(self, records: Iterable[bytes | Mapping[str, Any]]) -> list[Verdict]:
        """Verdicts for many records, in order."""
        evaluate = self.evaluate
        return [evaluate(r) for r in records]

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

    def _decode_verdict(self, reason: Reason) -> Verdict:
        return Verdict(
            outcome=Outcome.QUARANTINE,
            failures=(self._decode_failures[reason],),
            stage=Stage.DECODE,
        )

    def __repr__(self) -> str:
        return f"CompiledSuite(name={self.name!r}, expectations={len(self.expectations)})"


_UNDECODABLE: Final = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _decode_slow(raw: bytes | bytearray | memoryview) -> Any:
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
) -> CompiledSuite:
    """Load (if needed) and compile a suite; raises SuiteError naming what to fix."""
    loaded = (
        source
        if isinstance(source, LoadedSuite)
        else load_suite(source, suite_parameters=suite_parameters)
    )
    return CompiledSuite(loaded, max_record_bytes=max_record_bytes)


def _compile_one(suite: str, e: LoadedExpectation, path: str | None) -> CompiledExpectation:
    if e.type not in supported_types():
        raise UnsupportedExpectationError(
            "this expectation type is not supported by dqgate yet; remove it or move it to a "
            f"batch validation (supported: {', '.join(supported_types())})",
            path=path,
            index=e.index,
            expectation_type=e.type,
        )
    gx = e.gx
    try:
        spec = build_check(gx)
        fn = _with_condition(getattr(gx, "row_condition", None), spec.fn)
    except SuiteError as exc:
        raise type(exc)(
            str(exc).split(": ", 1)[-1], path=path, index=e.index, expectation_type=e.type
        ) from exc
    severity = getattr(gx.severity, "value", gx.severity)
    mostly = float(getattr(gx, "mostly", 1.0) or 0.0) if hasattr(gx, "mostly") else 1.0
    policy = Policy.ENFORCE if severity == "critical" and mostly >= 1.0 else Policy.OBSERVE
    meta = e.raw.get("meta") if isinstance(e.raw.get("meta"), Mapping) else {}
    override = (meta or {}).get("dqgate", {}).get("reason")
    reason = Reason(override) if override else default_reason(e.type)

    def failure(message: str, *, error: bool) -> Failure:
        return Failure(
            suite=suite,
            expectation_id=e.expectation_id,
            type=e.type,
            column=spec.column,
            reason=Reason.EVALUATION_ERROR if error else reason,
            message=message,
            policy=policy,
            error=error,
        )

    return CompiledExpectation(
        expectation_id=e.expectation_id,
        type=e.type,
        column=spec.column,
        policy=policy,
        reason=reason,
        mostly=mostly,
        reads=_reads(spec.column, getattr(gx, "row_condition", None)),
        fn=fn,
        on_fail=failure(spec.fail_message, error=False),
        on_error=failure(spec.error_message, error=True),
    )


def _reads(column: str | tuple[str, ...] | None, condition: Any) -> tuple[str, ...]:
    columns = column if isinstance(column, tuple) else (column,) if column else ()
    extra = condition_columns(condition) if condition is not None else ()
    return tuple(dict.fromkeys((*columns, *extra)))


def _with_condition(condition: Any, fn: CheckFn) -> CheckFn:
    """Apply a GX row_condition: records it does not select pass; if it raises, ERROR."""
    if condition is None:
        return fn
    selects = compile_condition(condition)

    def check(record: Mapping[str, Any]) -> int:
        try:
            selected = selects(record)
        except Exception:
            return ERROR
        return fn(record) if selected else SKIP

    return check
