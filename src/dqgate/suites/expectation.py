"""One loaded GX expectation turned into a CompiledExpectation: check, policy, failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dqgate.errors import SuiteError
from dqgate.suites.checks import ERROR, SKIP, CheckFn
from dqgate.suites.conditions import compile_condition, condition_columns
from dqgate.suites.loader import LoadedExpectation
from dqgate.suites.modes import default_reason, policy_of
from dqgate.suites.registry import CheckOptions, format_message, registration
from dqgate.verdict import Column, Failure, Policy, Reason

__all__ = ["CompiledExpectation", "columns_of", "compile_expectation", "failures_for", "reads_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledExpectation:
    """One expectation ready to run: its check and its prebuilt failures."""

    expectation_id: str
    type: str
    column: Column
    policy: Policy
    reason: Reason
    mostly: float
    reads: tuple[str, ...]
    fn: CheckFn
    on_fail: Failure
    on_error: Failure
    loaded: LoadedExpectation


def columns_of(gx: Any) -> Column:
    """The column(s) an expectation is about, from its GX object."""
    if getattr(gx, "column_A", None) is not None:
        return (gx.column_A, gx.column_B)
    if getattr(gx, "column_list", None) is not None:
        return tuple(gx.column_list)
    column = getattr(gx, "column", None)
    return str(column) if column is not None else None


def reads_of(column: Column, condition: Any) -> tuple[str, ...]:
    """Every column the expectation reads: its own and its row condition's."""
    columns = column if isinstance(column, tuple) else (column,) if column else ()
    extra = condition_columns(condition) if condition is not None else ()
    return tuple(dict.fromkeys((*columns, *extra)))


def failures_for(
    suite: str, e: LoadedExpectation, column: Column, fail_message: str, error_message: str
) -> tuple[Failure, Failure]:
    """The (fail, error) Failure values of an expectation, built once."""
    policy, _ = policy_of(e.gx)
    meta = e.raw.get("meta") if isinstance(e.raw.get("meta"), Mapping) else None
    override = (meta or {}).get("dqgate", {}).get("reason")
    reason = Reason(override) if override else default_reason(e.type)

    def failure(message: str, *, error: bool) -> Failure:
        return Failure(
            suite=suite,
            expectation_id=e.expectation_id,
            type=e.type,
            column=column,
            reason=Reason.EVALUATION_ERROR if error else reason,
            message=message,
            policy=policy,
            error=error,
        )

    return failure(fail_message, error=False), failure(error_message, error=True)


def compile_expectation(
    suite: str, e: LoadedExpectation, path: str | None, options: CheckOptions
) -> CompiledExpectation:
    """Build the per-record check of a registered type; SuiteError names file, index and type."""
    gx = e.gx
    entry = registration(e.type)
    if entry is None or entry.check is None:
        raise SuiteError(
            "no per-record check is registered for this type", path=path, index=e.index,
            expectation_type=e.type,
        )  # fmt: skip
    condition = getattr(gx, "row_condition", None)
    try:
        spec = entry.check(gx, options)
        fn = _with_condition(condition, spec.fn)
        fail_message = format_message(entry.message, gx, spec.fields)
        error_message = format_message(entry.error_message, gx, spec.fields)
    except SuiteError as exc:
        raise type(exc)(
            str(exc).split(": ", 1)[-1], path=path, index=e.index, expectation_type=e.type
        ) from exc
    policy, mostly = policy_of(gx)
    on_fail, on_error = failures_for(suite, e, spec.column, fail_message, error_message)
    return CompiledExpectation(
        expectation_id=e.expectation_id,
        type=e.type,
        column=spec.column,
        policy=policy,
        reason=on_fail.reason,
        mostly=mostly,
        reads=reads_of(spec.column, condition),
        fn=fn,
        on_fail=on_fail,
        on_error=on_error,
        loaded=e,
    )


def _with_condition(condition: Any, fn: CheckFn) -> CheckFn:
    """Apply a GX row_condition: records it does not select are skipped; if it raises, ERROR."""
    if condition is None:
        return fn
    selects = compile_condition(condition)

    def check(record: Mapping[str, Any]) -> int:
        try:
            selected = selects(record)
        except Exception:  # noqa: BLE001 - a row condition that raises: an error verdict
            return ERROR
        return fn(record) if selected else SKIP

    return check
