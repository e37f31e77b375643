"""The optional native accelerator: a Rust decider that agrees with the Python checks or abstains.

The extension ``dqgate_native`` (the crate in ``native/``) is built once per suite from the
native specs of its compiled checks (each type's native backend, see
:mod:`dqgate.suites.native_specs`) and the suite's columns. For a batch of raw values it
returns, per record, one code per check (pass, fail, error, skip, or *undecided* when it is
not certain of the Python check's result), per column how many records lack a value, and
the spans of the values that Python still has to read. A check without a native form is
always undecided: it runs in Python on the values it reads, the others natively. A record
the decider cannot parse exactly as Python would (invalid UTF-8, anything but strict JSON
objects, duplicate keys that matter, integers beyond 64 bits, ...) is abstained as a whole
and evaluated by Python as before. Verdicts are built from the same prebuilt failures, so
they are identical by construction; the parity tests compare both paths record by record.

It is off when the extension is not installed (one debug log line) or when
``DQGATE_NATIVE=0``.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from dqgate.suites.loader import LoadedExpectation
from dqgate.suites.native_specs import condition
from dqgate.suites.registry import NativeSpec, NoNativeForm, registration

__all__ = [
    "ABSTAINED",
    "DECIDED",
    "ENV_VAR",
    "PARTLY",
    "UNDECIDED",
    "NativeCheck",
    "NativeDecider",
    "build_decider",
    "native_available",
    "native_enabled",
    "native_spec",
    "native_wanted",
]

log = logging.getLogger(__name__)

ENV_VAR: Final = "DQGATE_NATIVE"
DECIDED: Final = 0
PARTLY: Final = 1
ABSTAINED: Final = 2
"""Row states: every check decided; some undecided (Python runs those); the record abstained."""
UNDECIDED: Final = 4
"""A check's code when the decider is not certain of the Python check's result."""
_OFF: Final = frozenset({"0", "false", "no", "off"})


class Decide(Protocol):
    """``decide(raw)``: the row of one record (state, then one code per check)."""

    def __call__(self, raw: bytes, /) -> bytes: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeCheck:
    """Whether one compiled check runs natively, and why (not)."""

    expectation_id: str
    type: str
    native: bool
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeDecider:
    """The native decider of a suite (None when it runs in Python), and what it decides."""

    decider: Any | None
    """A ``dqgate_native.Decider``, or None."""
    why: str
    checks: tuple[NativeCheck, ...]
    columns: tuple[str, ...]
    """The decider's columns: the suite's columns first, in order."""

    @property
    def native_count(self) -> int:
        """How many compiled checks the decider runs (0 when it is off)."""
        return sum(c.native for c in self.checks) if self.decider is not None else 0


_module: Any = None
_missing_logged = False


def native_enabled() -> bool:
    """False when ``DQGATE_NATIVE`` is 0 (or false/no/off)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF


def native_wanted(enabled: bool | None) -> bool:
    """Whether a suite compiled with ``native=enabled`` wants the native code."""
    return enabled is True or (enabled is None and native_enabled())


def native_available() -> bool:
    """True when the extension ``dqgate_native`` is installed."""
    return _native_module() is not None


def _native_module() -> Any | None:
    global _module, _missing_logged
    if _module is None:
        try:
            _module = importlib.import_module("dqgate_native")
        except ImportError:
            if not _missing_logged:
                _missing_logged = True
                log.debug(
                    "dqgate_native is not installed: pure-Python checks evaluate every record"
                )
            return None
    return _module


def native_spec(e: LoadedExpectation) -> tuple[NativeSpec | None, Any, str]:
    """(spec, encoded row condition, why) of one compiled expectation; spec None: no form."""
    entry = registration(e.type)
    if entry is None or entry.native is None:
        return None, None, entry.no_native if entry is not None else "not a registered type"
    try:
        spec = entry.native(e.gx)
        raw_condition = getattr(e.gx, "row_condition", None)
        encoded = condition(raw_condition) if raw_condition is not None else None
    except NoNativeForm as exc:
        return None, None, str(exc)
    except (AttributeError, TypeError, ValueError) as exc:  # an odd configuration
        return None, None, f"no native form for this configuration ({type(exc).__name__})"
    return spec, encoded, "native"


def _index_condition(cond: Any, index: dict[str, int]) -> Any:
    kind = cond[0]
    if kind in ("and", "or"):
        return (kind, [_index_condition(c, index) for c in cond[1]])
    return (kind, index[cond[1]], *cond[2:])


def _columns_of(cond: Any) -> list[str]:
    if cond is None:
        return []
    if cond[0] in ("and", "or"):
        return [c for part in cond[1] for c in _columns_of(part)]
    return [cond[1]]


def _regex_problem(module: Any, spec: NativeSpec) -> str | None:
    if spec[0] != "regex":
        return None
    patterns: Any = spec[2]
    for source, _ascii_only, _newline in patterns[0]:
        problem = module.regex_error(source)
        if problem is not None:
            return (
                f"the pattern is too large for the linear-time engine ({problem.splitlines()[-1]})"
            )
    return None


def build_decider(
    compiled: Sequence[LoadedExpectation],
    columns: Sequence[str],
    *,
    max_record_bytes: int,
    enabled: bool | None = None,
) -> NativeDecider:
    """The native decider of a suite's compiled expectations (in check order), if any runs.

    ``columns``: every column the suite reads (presence is counted for each).
    ``enabled``: None follows ``DQGATE_NATIVE``.
    """
    names = list(dict.fromkeys(columns))

    def off(why: str, checks: tuple[NativeCheck, ...] = ()) -> NativeDecider:
        listed = checks or tuple(
            NativeCheck(expectation_id=e.expectation_id, type=e.type, native=False, why=why)
            for e in compiled
        )
        return NativeDecider(decider=None, why=why, checks=listed, columns=tuple(names))

    if enabled is False:
        return off("turned off by the caller")
    if not native_wanted(enabled):
        return off(f"turned off by {ENV_VAR}=0")
    module = _native_module()
    if module is None:
        return off("dqgate_native is not installed")
    specs: list[tuple[str, list[int], object, Any]] = []
    checks: list[NativeCheck] = []
    for e in compiled:
        spec, cond, why = native_spec(e)
        if spec is not None:
            why = _regex_problem(module, spec) or why
            if why != "native":
                spec = None
        if spec is None:
            specs.append(("python", [], None, None))
            checks.append(
                NativeCheck(expectation_id=e.expectation_id, type=e.type, native=False, why=why)
            )
            continue
        kind, spec_columns, params = spec
        for name in (*spec_columns, *_columns_of(cond)):
            if name not in names:
                names.append(name)
        index = {name: i for i, name in enumerate(names)}
        indexed = _index_condition(cond, index) if cond is not None else None
        specs.append((kind, [index[c] for c in spec_columns], params, indexed))
        checks.append(
            NativeCheck(expectation_id=e.expectation_id, type=e.type, native=True, why="native")
        )
    listed = tuple(checks)
    count = sum(c.native for c in listed)
    if not count:
        return off("no compiled check has a native form", listed)
    try:
        decider = module.Decider(max_record_bytes, names, specs)
    except (ValueError, TypeError, OverflowError) as exc:
        log.debug("native decider not built: %s", exc)
        return off(f"native decider refused the suite: {exc}")
    why = f"{count} of {len(listed)} compiled checks run natively"
    return NativeDecider(decider=decider, why=why, checks=listed, columns=tuple(names))
