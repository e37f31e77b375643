"""The optional native accelerator: a Rust decider that agrees with the Python checks or abstains.

The extension ``dqgate_native`` (the crate in ``native/``) is built once per suite from a
spec of the suite's compiled checks. For one record's raw bytes it returns which checks
fail and which skip the record, or ``None`` when it is not *certain* that the Python checks
in :mod:`dqgate.suites.checks` give exactly that: the record is then evaluated by Python as
before. The Python checks stay the reference and the fallback; the decider only answers on
a strict subset (plain JSON objects, ASCII text for regexes, canonical dates, i64 integers).

A suite uses it only when every compiled check has a native form (see :func:`spec_of`) and
nothing needs the decoded record (no GX fallback, no window expectations). It is off when
the extension is not installed (one debug log line) or when ``DQGATE_NATIVE=0``.
"""

from __future__ import annotations

import _strptime  # CPython's strptime: the format regex the Python path relies on
import importlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

# The Python path's own helpers, so the decider takes exactly the formats it decides by shape.
from dqgate.suites.dates import _DIRECTIVE, _FAST_DIRECTIVES, _canonical
from dqgate.suites.loader import LoadedExpectation

__all__ = [
    "ENV_VAR",
    "SKIP_SHIFT",
    "Decide",
    "NativeDecider",
    "build_decider",
    "native_enabled",
    "rust_regex",
    "spec_of",
]

log = logging.getLogger(__name__)

ENV_VAR: Final = "DQGATE_NATIVE"
SKIP_SHIFT: Final = 64
"""A decision is ``fail_bits | skip_bits << SKIP_SHIFT``, bit i for the suite's i-th check."""
_OFF: Final = frozenset({"0", "false", "no", "off"})
_P: Final = "expect_column_values_to_"
_DATE_NAMES: Final = (
    ("Y", "m", "d"),
    ("Y", "m", "d", "H"),
    ("Y", "m", "d", "H", "M"),
    ("Y", "m", "d", "H", "M", "S"),
)

Spec = tuple[str, str, object]


class Decide(Protocol):
    """``decide(raw)``: the decision for one record's bytes, or None (undecided)."""

    def __call__(self, raw: bytes, /) -> int | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeDecider:
    """Whether a suite uses the native decider, why (not), and the decide function."""

    decide: Decide | None
    why: str


_module: Any = None
_missing_logged = False


def native_enabled() -> bool:
    """False when ``DQGATE_NATIVE`` is 0 (or false/no/off)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in _OFF


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


# --- regexes: Python's own parse tree, re-emitted for Rust's byte regexes ------------------


class _Unsupported(Exception):
    """A pattern construct the native side does not take."""


_C: Any = importlib.import_module("re._constants")
_PARSER: Any = importlib.import_module("re._parser")
_CATEGORIES: Final = {
    _C.CATEGORY_DIGIT: r"\d",
    _C.CATEGORY_NOT_DIGIT: r"\D",
    _C.CATEGORY_SPACE: r"\s",
    _C.CATEGORY_NOT_SPACE: r"\S",
    _C.CATEGORY_WORD: r"\w",
    _C.CATEGORY_NOT_WORD: r"\W",
}
_ANCHORS: Final = {
    _C.AT_BEGINNING: "^",
    _C.AT_BEGINNING_STRING: r"\A",
    _C.AT_END: "$",  # the decider only matches text without a newline
    _C.AT_END_STRING: r"\z",
    _C.AT_BOUNDARY: r"\b",  # ASCII text only: Python's word characters are Rust's
    _C.AT_NON_BOUNDARY: r"\B",
}


def _byte(code: int) -> str:
    if code > 0x7F:
        raise _Unsupported("non-ASCII literal")
    return f"\\x{code:02X}"


def _klass(items: Sequence[tuple[Any, Any]]) -> str:
    negate = False
    parts: list[str] = []
    for op, av in items:
        if op == _C.NEGATE:
            negate = True
        elif op == _C.LITERAL:
            if av <= 0x7F:  # a non-ASCII member never meets the decider's ASCII text
                parts.append(_byte(av))
        elif op == _C.RANGE:
            low, high = av
            if low <= 0x7F:
                parts.append(f"{_byte(low)}-{_byte(min(high, 0x7F))}")
        elif op == _C.CATEGORY and av in _CATEGORIES:
            parts.append(_CATEGORIES[av])
        else:
            raise _Unsupported(f"class item {op}")
    if not parts:
        raise _Unsupported("class without ASCII members")
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _emit(pattern: Any) -> str:
    out: list[str] = []
    for op, av in pattern:
        if op == _C.LITERAL:
            out.append(_byte(av))
        elif op == _C.NOT_LITERAL:
            out.append(f"[^{_byte(av)}]")
        elif op == _C.ANY:
            out.append(".")
        elif op == _C.IN:
            out.append(_klass(av))
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):  # laziness does not change whether it matches
            low, high, sub = av
            count = f"{{{low},}}" if high == _C.MAXREPEAT else f"{{{low},{high}}}"
            out.append(f"(?:{_emit(sub)}){count}")
        elif op == _C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise _Unsupported("inline flags")
            out.append(f"(?:{_emit(sub)})")
        elif op == _C.BRANCH:
            out.append("(?:" + "|".join(_emit(alt) for alt in av[1]) + ")")
        elif op == _C.AT and av in _ANCHORS:
            out.append(_ANCHORS[av])
        else:
            raise _Unsupported(f"regex construct {op}")
    return "".join(out)


def rust_regex(pattern: str) -> str | None:
    """The Rust byte-regex equal to ``re.search(pattern)`` on printable ASCII text, or None."""
    try:
        parsed = _PARSER.parse(pattern)
        if parsed.state.flags & ~(_C.SRE_FLAG_UNICODE | _C.SRE_FLAG_ASCII):
            return None
        return _emit(parsed)
    except (_Unsupported, re.error, RecursionError, AttributeError, TypeError, ValueError):
        return None


# --- strftime: only formats whose Python check decides by the canonical shape --------------


def _strftime_supported(fmt: str) -> bool:
    """True when :func:`dqgate.suites.dates.strptime_matcher` uses ``_canonical`` for ``fmt``."""
    if not fmt.isascii():
        return False
    directives = set(_DIRECTIVE.findall(fmt))
    if not directives <= _FAST_DIRECTIVES or not {"Y", "m", "d"} <= directives:
        return False
    try:
        _strptime._TimeRE_cache.compile(fmt)
    except (AttributeError, KeyError, IndexError, re.error):
        return False
    names = tuple(n for n in ("Y", "m", "d", "H", "M", "S") if n in directives)
    return names in _DATE_NAMES and _canonical(fmt) is not None


# --- the spec of one compiled expectation ---------------------------------------------------


def _bound(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is float and value == value:
        return value
    if type(value) is int and -(2**53) <= value <= 2**53:
        return float(value)
    raise _Unsupported("bound")


def _spec(e: LoadedExpectation) -> Spec:
    gx = e.gx
    if getattr(gx, "row_condition", None) is not None:
        raise _Unsupported("row condition")
    column = getattr(gx, "column", None)
    if type(column) is not str:
        raise _Unsupported("column")
    kind = e.type
    if kind == f"{_P}not_be_null":
        return ("not_null", column, None)
    if kind == f"{_P}be_null":
        return ("be_null", column, None)
    if kind in (f"{_P}match_regex", f"{_P}not_match_regex"):
        translated = rust_regex(gx.regex) if type(gx.regex) is str else None
        if translated is None:
            raise _Unsupported("regex")
        return ("regex", column, (translated, kind == f"{_P}not_match_regex"))
    if kind == f"{_P}match_strftime_format":
        fmt = gx.strftime_format
        if type(fmt) is not str or not _strftime_supported(fmt):
            raise _Unsupported("strftime format")
        return ("strftime", column, fmt)
    if kind == f"{_P}be_between":
        bounds = (_bound(gx.min_value), _bound(gx.max_value))
        return ("between", column, (*bounds, bool(gx.strict_min), bool(gx.strict_max)))
    if kind == f"{_P}be_in_set":
        if gx.value_set is None:
            return ("in_set", column, None)
        members = [v for v in gx.value_set if v is not None]
        if not all(type(v) is str for v in members):
            raise _Unsupported("non-string set member")
        return ("in_set", column, members)
    raise _Unsupported(kind)


def spec_of(e: LoadedExpectation) -> Spec | None:
    """The native spec of one compiled expectation, or None when it has no native form."""
    try:
        return _spec(e)
    except (_Unsupported, AttributeError, TypeError):
        return None


def build_decider(
    compiled: Sequence[LoadedExpectation],
    *,
    max_record_bytes: int,
    needs_records: bool,
    enabled: bool | None = None,
) -> NativeDecider:
    """The native decider of a suite's compiled expectations (in check order), if it can be used.

    ``needs_records``: the suite has GX fallback or window expectations, which read decoded
    records. ``enabled``: None follows ``DQGATE_NATIVE``.
    """
    if enabled is False:
        return NativeDecider(decide=None, why="turned off by the caller")
    if enabled is None and not native_enabled():
        return NativeDecider(decide=None, why=f"turned off by {ENV_VAR}=0")
    if needs_records:
        return NativeDecider(decide=None, why="fallback or window expectations need records")
    if not compiled:
        return NativeDecider(decide=None, why="no compiled expectations")
    module = _native_module()
    if module is None:
        return NativeDecider(decide=None, why="dqgate_native is not installed")
    specs: list[Spec] = []
    for e in compiled:
        spec = spec_of(e)
        if spec is None:
            return NativeDecider(decide=None, why=f"no native form for {e.expectation_id}")
        specs.append(spec)
    try:
        decider = module.Decider(max_record_bytes, specs)
    except (ValueError, TypeError, OverflowError) as exc:
        log.debug("native decider not built: %s", exc)
        return NativeDecider(decide=None, why=f"native decider refused the suite: {exc}")
    return NativeDecider(decide=decider.decide, why="every compiled check has a native form")
