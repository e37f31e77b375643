"""The expectation type registry: everything dqgate knows about a type, registered in one place.

The shape of pandera's check registry: a :class:`Registration` joins a type's definition
(its kwargs rules, default reason class, message template and mode) to its backends (the
Python check and the native spec, or why there is none). The loader, ``dqgate suites
check``, the compiler and the native builder read only this registry; the registrations
themselves live in :mod:`dqgate.suites.catalog`. Adding a type is one :func:`register` call.

Kwargs rules run once, when a suite is loaded (never per record). One rule applies to every
type, registered or not: bounds (``min_value`` / ``max_value``) must be literal, comparable
and in order, since a suite with inverted bounds would fail every record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from dqgate.errors import SuiteError
from dqgate.verdict import Column, Reason

__all__ = [
    "DEFAULT_ERROR_MESSAGE",
    "CheckFn",
    "CheckOptions",
    "CheckSpec",
    "Mode",
    "NativeSpec",
    "NoNativeForm",
    "Registration",
    "check_bounds",
    "format_message",
    "register",
    "registered",
    "registration",
    "supported_types",
    "unregistered",
    "validate_kwargs",
]

DEFAULT_ERROR_MESSAGE: Final = "value could not be evaluated by this expectation"

CheckFn = Callable[[Mapping[str, Any]], int]
NativeSpec = tuple[str, tuple[str, ...], object]
"""``(kind, columns, params)``: one check as the native decider takes it (see native_specs)."""


class Mode(StrEnum):
    """Where an expectation is evaluated."""

    COMPILED = "compiled"
    FALLBACK = "fallback"
    WINDOW = "window"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    """How a suite's Python checks are built (from ``compile_suite``'s arguments)."""

    regex_budget_s: float = 0.1
    """Seconds one regex evaluation may take outside the linear-time engine."""
    linear_regex: bool = True
    """Use the native linear-time regex engine where it is exact (the decider is on)."""


class NoNativeForm(Exception):
    """A native backend cannot express this expectation's configuration; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """A Python check: the function, the column(s) it is about, and its message's fields."""

    fn: CheckFn
    column: Column
    fields: Mapping[str, Any] = field(default_factory=dict)


Message = str | Callable[[Any], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """One expectation type: its definition and its backends.

    - ``mode``: compiled (per record), window (aggregate, over tumbling windows) or
      unsupported (refused at start-up, ``why`` says why). Unregistered types are classified
      by their GX class (map types run in GX's engine as the fallback).
    - ``reason``: the default reason class of a failure (``meta.dqgate.reason`` overrides it).
    - ``message`` / ``error_message``: templates over the GX expectation's fields and the
      check's own ``CheckSpec.fields`` (or a function of the GX expectation); never values.
    - ``whole_record``: the check reads the record's keys (table level), not only its columns.
    - ``validate``: kwargs rules of this type, beyond the shared bounds rule; raise SuiteError.
    - ``check``: the Python backend, (GX expectation, CheckOptions) -> CheckSpec (kwargs
      already valid).
    - ``native``: the native backend, GX expectation -> NativeSpec, or None with ``no_native``
      saying why; it raises NoNativeForm for configurations it cannot express.
    """

    type: str
    mode: Mode = Mode.COMPILED
    why: str = "per-record check"
    reason: Reason = Reason.EVALUATION_ERROR
    message: Message = ""
    error_message: Message = DEFAULT_ERROR_MESSAGE
    whole_record: bool = False
    validate: Callable[[Any], None] | None = None
    check: Callable[[Any, CheckOptions], CheckSpec] | None = None
    native: Callable[[Any], NativeSpec] | None = None
    no_native: str = "no native form"

    def __post_init__(self) -> None:
        if self.mode is Mode.COMPILED and self.check is None:
            raise ValueError(f"{self.type}: a compiled type needs its Python check")
        if self.mode is not Mode.COMPILED and (self.check or self.native):
            raise ValueError(f"{self.type}: only compiled types have backends")


_REGISTRY: dict[str, Registration] = {}


def register(registration: Registration) -> Registration:
    """Add a type; registering a type twice is a programming error."""
    if registration.type in _REGISTRY:
        raise ValueError(f"expectation type {registration.type!r} is already registered")
    _REGISTRY[registration.type] = registration
    return registration


@contextlib.contextmanager
def registered(registration: Registration) -> Iterator[Registration]:
    """Register (or replace) a type for the duration of a ``with`` block (tests, plugins)."""
    previous = _REGISTRY.get(registration.type)
    _REGISTRY[registration.type] = registration
    try:
        yield registration
    finally:
        if previous is None:
            del _REGISTRY[registration.type]
        else:
            _REGISTRY[registration.type] = previous


@contextlib.contextmanager
def unregistered(type_name: str) -> Iterator[None]:
    """Forget a type for the duration of a ``with`` block (tests)."""
    previous = _REGISTRY.pop(type_name)
    try:
        yield
    finally:
        _REGISTRY[type_name] = previous


def registration(type_name: str) -> Registration | None:
    """The registration of a type, or None when dqgate does not know it."""
    return _REGISTRY.get(type_name)


def supported_types() -> tuple[str, ...]:
    """Every expectation type compiled into a per-record check, sorted."""
    return tuple(sorted(t for t, r in _REGISTRY.items() if r.mode is Mode.COMPILED))


def validate_kwargs(gx: Any) -> None:
    """Every kwargs rule of one GX expectation: the shared bounds rule, then its type's own.

    Raises SuiteError (the caller adds file, index and type).
    """
    check_bounds(gx)
    entry = _REGISTRY.get(str(gx.expectation_type))
    if entry is not None and entry.validate is not None:
        entry.validate(gx)


def check_bounds(gx: Any) -> None:
    """``min_value`` / ``max_value``, where the type has them: literal, comparable, in order."""
    if not (hasattr(gx, "min_value") and hasattr(gx, "max_value")):
        return
    low, high = gx.min_value, gx.max_value
    if isinstance(low, dict) or isinstance(high, dict):
        raise SuiteError(
            "suite parameters ($PARAMETER bounds) must be resolved; give literal bounds "
            "or set the parameter"
        )
    if low is None or high is None:
        return
    try:
        inverted = bool(low > high)
    except TypeError as exc:
        raise SuiteError(
            "min_value and max_value cannot be compared; give bounds of one type"
        ) from exc
    if inverted:
        raise SuiteError(
            f"min_value {low!r} is greater than max_value {high!r}: every value would fail; "
            "swap them"
        )


class _Fields(Mapping[str, Any]):
    """A template's fields: the check's own first, then the GX expectation's attributes."""

    __slots__ = ("_extra", "_gx")

    def __init__(self, gx: Any, extra: Mapping[str, Any]) -> None:
        self._gx = gx
        self._extra = extra

    def __getitem__(self, key: str) -> Any:
        if key in self._extra:
            return self._extra[key]
        try:
            return getattr(self._gx, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._extra)

    def __len__(self) -> int:
        return len(self._extra)


def format_message(message: Message, gx: Any, fields: Mapping[str, Any]) -> str:
    """A registration's message for one expectation (a template or a function)."""
    if callable(message):
        return message(gx)
    return message.format_map(_Fields(gx, fields))
