"""Load GX 1.x ExpectationSuite JSON files through GX itself, refusing anything GX would drop.

``ExpectationSuite(**d)`` logs and silently skips an expectation whose type is unknown or
whose severity is invalid; a gate must not run with fewer checks than its suite lists.
So each expectation is first checked on its own (keys, type, severity, kwargs) and the
loaded count is compared with the file's; then the registry's kwargs rules
(:func:`dqgate.suites.registry.validate_kwargs`) run on what GX loaded. Every error names
the file, the expectation (index and type) and what to change.

An expectation's id (verdicts, headers, metric labels) is the first of ``meta.dqgate.id``,
``meta.id`` (ids people chose), GX's ``id`` (a UUID that GX's Python API generates for
every saved expectation) and its index in the suite.

This module and its siblings are the only ones that import great_expectations.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from dqgate.errors import SuiteError
from dqgate.suites.registry import validate_kwargs

__all__ = ["LoadedExpectation", "LoadedSuite", "load_suite"]

_SUITE_KEYS: Final = frozenset({"name", "id", "expectations", "suite_parameters", "meta", "notes"})
_EXPECTATION_KEYS: Final = frozenset(
    {
        "type",
        "kwargs",
        "meta",
        "notes",
        "description",
        "severity",
        "success_on_last_run",
        "id",
        "expectation_context",
        "rendered_content",
    }
)
_GX0_SUITE_KEYS: Final = {
    "expectation_suite_name": "name",
    "data_asset_type": None,
    "ge_cloud_id": "id",
    "evaluation_parameters": "suite_parameters",
}
_SEVERITIES: Final = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedExpectation:
    """One expectation as GX loaded it, with where it came from."""

    index: int
    expectation_id: str
    type: str
    raw: Mapping[str, Any]
    gx: Any  # great_expectations.expectations.Expectation


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedSuite:
    """A suite file loaded and checked by GX."""

    name: str
    path: str | None
    hash: str
    raw: Mapping[str, Any]
    expectations: tuple[LoadedExpectation, ...]
    gx: Any  # great_expectations.core.expectation_suite.ExpectationSuite


def load_suite(
    source: str | Path | Mapping[str, Any],
    *,
    suite_parameters: Mapping[str, Any] | None = None,
) -> LoadedSuite:
    """Load a suite from a JSON file path or an already-parsed dict; raises SuiteError.

    ``{"$PARAMETER": "name"}`` values are resolved from ``suite_parameters`` (the gate
    configuration), falling back to the suite file's own ``suite_parameters``; a name
    found in neither stops loading with its name.
    """
    if isinstance(source, Mapping):
        raw = source
        where = None
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    else:
        where = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise SuiteError(f"cannot read the suite file: {exc.strerror}", path=where) from exc
        digest = hashlib.sha256(data).hexdigest()
        try:
            raw = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SuiteError(f"not valid JSON ({exc}); fix the file", path=where) from exc
    if not isinstance(raw, Mapping):
        raise SuiteError("a suite must be a JSON object with 'name' and 'expectations'", path=where)
    _check_suite_keys(raw, where)
    expectations = raw.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError("'expectations' must be a list of expectation objects", path=where)
    for index, item in enumerate(expectations):
        _check_expectation(item, index, where)
    raw = _resolve_parameters(raw, suite_parameters or {}, where)
    expectations = raw["expectations"]
    gx_suite = _load_with_gx(raw, where)
    loaded = tuple(
        LoadedExpectation(
            index=i,
            expectation_id=_expectation_id(item, i),
            type=item["type"],
            raw=item,
            gx=exp,
        )
        for i, (item, exp) in enumerate(zip(expectations, gx_suite.expectations, strict=True))
    )
    _check_unique_ids(loaded, where)
    for e in loaded:
        try:
            validate_kwargs(e.gx)
        except SuiteError as exc:
            raise SuiteError(str(exc), path=where, index=e.index, expectation_type=e.type) from exc
    return LoadedSuite(
        name=str(raw["name"]), path=where, hash=digest, raw=raw, expectations=loaded, gx=gx_suite
    )


def _resolve_parameters(
    raw: Mapping[str, Any], given: Mapping[str, Any], where: str | None
) -> dict[str, Any]:
    """A copy of the suite with every ``{"$PARAMETER": name}`` kwarg replaced by its value."""
    defaults = raw.get("suite_parameters") or {}
    values = {**defaults, **given}
    resolved = []
    for index, item in enumerate(raw["expectations"]):
        kwargs = dict(item.get("kwargs") or {})
        for key, value in kwargs.items():
            if isinstance(value, Mapping) and "$PARAMETER" in value:
                name = value["$PARAMETER"]
                if not isinstance(name, str) or name not in values:
                    raise SuiteError(
                        f"kwarg '{key}' needs suite parameter {name!r}, which is not set; add "
                        f"it under suite_parameters in the gate configuration (known: "
                        f"{sorted(values) or 'none'})",
                        path=where,
                        index=index,
                        expectation_type=item.get("type"),
                    )
                kwargs[key] = values[name]
        resolved.append({**item, "kwargs": kwargs} if "kwargs" in item else dict(item))
    out = {k: v for k, v in raw.items() if k != "suite_parameters"}
    out["expectations"] = resolved
    return out


def _check_suite_keys(raw: Mapping[str, Any], where: str | None) -> None:
    for old, new in _GX0_SUITE_KEYS.items():
        if old in raw:
            fix = f"rename it to '{new}'" if new else "remove it"
            raise SuiteError(
                f"'{old}' is a Great Expectations 0.x key; this is a GX 1.x gate: {fix}",
                path=where,
            )
    unknown = sorted(set(raw) - _SUITE_KEYS)
    if unknown:
        raise SuiteError(
            f"unknown top-level key(s) {unknown}; a GX 1.x suite has {sorted(_SUITE_KEYS)}",
            path=where,
        )
    if not isinstance(raw.get("name"), str) or not raw["name"]:
        raise SuiteError("the suite has no 'name'; add a non-empty string 'name'", path=where)


def _check_expectation(item: Any, index: int, where: str | None) -> None:
    if not isinstance(item, Mapping):
        raise SuiteError("an expectation must be a JSON object", path=where, index=index)
    if "expectation_type" in item:
        raise SuiteError(
            "'expectation_type' is a Great Expectations 0.x key; rename it to 'type' (GX 1.x)",
            path=where,
            index=index,
            expectation_type=str(item["expectation_type"]),
        )
    etype = item.get("type")
    if not isinstance(etype, str):
        raise SuiteError("the expectation has no 'type'", path=where, index=index)
    unknown = sorted(set(item) - _EXPECTATION_KEYS)
    if unknown:
        raise SuiteError(
            f"unknown key(s) {unknown}; an expectation has {sorted(_EXPECTATION_KEYS)}",
            path=where,
            index=index,
            expectation_type=etype,
        )
    severity = item.get("severity", "critical")
    if severity not in _SEVERITIES:
        raise SuiteError(
            f"severity {severity!r} is not valid; use one of {', '.join(_SEVERITIES)}",
            path=where,
            index=index,
            expectation_type=etype,
        )
    impl = _expectation_class(etype, index, where)
    kwargs = item.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise SuiteError(
            "'kwargs' must be an object", path=where, index=index, expectation_type=etype
        )
    fields = set(impl.model_fields) if hasattr(impl, "model_fields") else set(impl.__fields__)
    for key in kwargs:
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid kwargs: {sorted(fields)}"
            raise SuiteError(
                f"unknown kwarg '{key}' ({hint})", path=where, index=index, expectation_type=etype
            )
    reason = (
        (item.get("meta") or {}).get("dqgate", {}).get("reason")
        if isinstance(item.get("meta"), Mapping)
        else None
    )
    if reason is not None:
        from dqgate.verdict import Reason

        if reason not in {r.value for r in Reason}:
            raise SuiteError(
                f"meta.dqgate.reason {reason!r} is not a reason class; use one of "
                f"{sorted(r.value for r in Reason)}",
                path=where,
                index=index,
                expectation_type=etype,
            )


def _expectation_class(etype: str, index: int, where: str | None) -> Any:
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        return get_expectation_impl(etype)
    except ExpectationNotFoundError as exc:
        from great_expectations.expectations.registry import (
            list_registered_expectation_implementations,
        )

        close = difflib.get_close_matches(etype, list_registered_expectation_implementations(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "check the spelling against GX 1.x"
        raise SuiteError(
            f"unknown expectation type ({hint})", path=where, index=index, expectation_type=etype
        ) from exc


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load_with_gx(raw: Mapping[str, Any], where: str | None) -> Any:
    from great_expectations.core.expectation_suite import ExpectationSuite

    captured = _Captured()
    gx_logger = logging.getLogger("great_expectations")
    gx_logger.addHandler(captured)
    try:
        suite = ExpectationSuite(**raw)
    except Exception as exc:  # pydantic ValidationError, TypeError, ...
        index, etype = _locate(raw, exc)
        raise SuiteError(
            f"Great Expectations rejected it: {_short(exc)}",
            path=where,
            index=index,
            expectation_type=etype,
        ) from exc
    finally:
        gx_logger.removeHandler(captured)
    expected = len(raw["expectations"])
    if len(suite.expectations) != expected:
        detail = "; ".join(captured.messages[-3:]) or "no reason logged"
        raise SuiteError(
            f"Great Expectations kept {len(suite.expectations)} of {expected} expectations "
            f"and silently dropped the rest ({detail}); fix or remove the dropped ones",
            path=where,
        )
    return suite


def _locate(raw: Mapping[str, Any], exc: Exception) -> tuple[int | None, str | None]:
    """Find which expectation GX choked on by loading each one alone."""
    from great_expectations.core.expectation_suite import ExpectationSuite

    for index, item in enumerate(raw["expectations"]):
        try:
            ExpectationSuite(name="probe", expectations=[item])
        except Exception:  # noqa: BLE001 - whatever GX raises names this expectation
            return index, item.get("type")
    return None, None


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:400]


def _expectation_id(item: Mapping[str, Any], index: int) -> str:
    """A human id (``meta.dqgate.id``, ``meta.id``) first, then GX's generated ``id``."""
    meta = item.get("meta")
    if isinstance(meta, Mapping):
        ours = meta.get("dqgate")
        if isinstance(ours, Mapping) and ours.get("id"):
            return str(ours["id"])
        if meta.get("id"):
            return str(meta["id"])
    if item.get("id"):
        return str(item["id"])
    return str(index)


def _check_unique_ids(loaded: tuple[LoadedExpectation, ...], where: str | None) -> None:
    seen: dict[str, int] = {}
    for exp in loaded:
        if exp.expectation_id in seen:
            raise SuiteError(
                f"expectation id '{exp.expectation_id}' is already used by expectation "
                f"#{seen[exp.expectation_id]}; ids must be unique (they label metrics and headers)",
                path=where,
                index=exp.index,
                expectation_type=exp.type,
            )
        seen[exp.expectation_id] = exp.index
