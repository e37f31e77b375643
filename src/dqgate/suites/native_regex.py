"""Python regexes re-emitted for the native decider's linear-time engine (Rust ``regex``).

The translation starts from Python's own parse tree (``re._parser``), so it reads a pattern
exactly as ``re`` does, and it gives ``re.search``'s answer by construction on the texts it
is used for:

- character classes (``\\d \\s \\w``, their negations, inside and outside ``[...]``) are
  spelled out as the code point ranges Python's ``re`` itself matches (computed from ``re``
  on every code point, once per process), so Unicode versions and definitions never differ;
- ``^``, ``\\A``, ``\\Z`` and multi-line anchors map one to one. A plain ``$`` (end, or
  before a final newline) that ends the pattern becomes ``\\z``, and the engine also tries
  the text without its final newline (``newline`` 2); a plain ``$`` elsewhere maps to a
  multi-line ``$``, the same as long as the text has no newline before its last
  character (``newline`` 1; other texts are left to the budgeted evaluation);
- ``\\b``/``\\B`` under Unicode rules and ``(?i)`` are emitted in ASCII mode, used only on
  ASCII text (``ascii_only``), where Python's and Rust's definitions agree;
- what an automaton cannot express (backreferences, lookarounds, conditionals, atomic groups,
  possessive repeats, scoped flags) has no translation: :class:`NoNativeForm` says why.

Only whether a match exists is needed (GX's ``str.contains``), so greedy and lazy repeats
are the same. The module also finds nested quantifiers, the shape of patterns whose
backtracking can explode in Python's engine (``(a+)+``), for the start-up warnings.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dqgate.suites.registry import NoNativeForm

__all__ = ["RustPattern", "nested_quantifiers", "repeats", "translate"]

_C: Any = importlib.import_module("re._constants")
_PARSER: Any = importlib.import_module("re._parser")

_MAX_CODE: Final = 0x10FFFF
_SURROGATES: Final = (0xD800, 0xDFFF)
_CATEGORY_SOURCE: Final = {
    _C.CATEGORY_DIGIT: (r"\d", False),
    _C.CATEGORY_NOT_DIGIT: (r"\d", True),
    _C.CATEGORY_SPACE: (r"\s", False),
    _C.CATEGORY_NOT_SPACE: (r"\s", True),
    _C.CATEGORY_WORD: (r"\w", False),
    _C.CATEGORY_NOT_WORD: (r"\w", True),
}
_KNOWN_FLAGS: Final = (
    _C.SRE_FLAG_IGNORECASE
    | _C.SRE_FLAG_MULTILINE
    | _C.SRE_FLAG_DOTALL
    | _C.SRE_FLAG_UNICODE
    | _C.SRE_FLAG_VERBOSE
    | _C.SRE_FLAG_ASCII
)

Ranges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RustPattern:
    """A pattern for the native engine and the texts it may be used on."""

    source: str
    ascii_only: bool
    """Only for ASCII texts (``(?i)``, or ``\\b`` under Unicode rules)."""
    newline: int
    """0: any text; 1 (a plain ``$`` inside): texts without a newline before their last
    character; 2 (a plain ``$`` ending it, emitted as ``\\z``): any text, searched also
    without its final newline."""


@functools.cache
def _all_code_points() -> str:
    """Every code point but the surrogates, in order (index -> code point: see _code_point)."""
    return "".join(map(chr, range(_SURROGATES[0]))) + "".join(
        map(chr, range(_SURROGATES[1] + 1, _MAX_CODE + 1))
    )


def _code_point(index: int) -> int:
    return index if index < _SURROGATES[0] else index + (_SURROGATES[1] - _SURROGATES[0] + 1)


@functools.cache
def _python_ranges(source: str, ascii_flag: bool) -> Ranges:
    """The code points ``re`` matches with ``source`` (e.g. ``\\d``), as sorted ranges."""
    flags = re.ASCII if ascii_flag else 0
    found = []
    for m in re.finditer(source + "+", _all_code_points(), flags):
        found.append((_code_point(m.start()), _code_point(m.end() - 1)))
    return _merge(found)


def _merge(ranges: Sequence[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= _MAX_CODE:
        out.append((start, _MAX_CODE))
    return _without_surrogates(out)


def _without_surrogates(ranges: Sequence[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for low, high in ranges:
        if high < _SURROGATES[0] or low > _SURROGATES[1]:
            out.append((low, high))
            continue
        if low < _SURROGATES[0]:
            out.append((low, _SURROGATES[0] - 1))
        if high > _SURROGATES[1]:
            out.append((_SURROGATES[1] + 1, high))
    return tuple(out)


def _category(code: Any, ascii_flag: bool) -> Ranges:
    source, negate = _CATEGORY_SOURCE[code]
    ranges = _python_ranges(source, ascii_flag)
    return _complement(ranges) if negate else ranges


class _Emitter:
    """Re-emits a parsed pattern; ``ascii`` mode keeps only the ASCII part of every class."""

    def __init__(self, flags: int, *, ascii_mode: bool) -> None:
        self.ascii_flag = bool(flags & _C.SRE_FLAG_ASCII)
        self.multiline = bool(flags & _C.SRE_FLAG_MULTILINE)
        self.dotall = bool(flags & _C.SRE_FLAG_DOTALL)
        self.ignorecase = bool(flags & _C.SRE_FLAG_IGNORECASE)
        self.ascii_mode = ascii_mode
        self.dollar = False

    def char(self, code: int) -> str:
        if _SURROGATES[0] <= code <= _SURROGATES[1]:
            raise NoNativeForm("a surrogate in the pattern")
        if self.ascii_mode and code > 0x7F:
            raise NoNativeForm("a non-ASCII character in a case-insensitive pattern")
        return f"\\x{{{code:X}}}"

    def ranges(self, ranges: Ranges) -> str:
        parts = []
        for low, high in ranges:
            if self.ascii_mode:
                if low > 0x7F:
                    continue
                high = min(high, 0x7F)
            parts.append(self.char(low) if low == high else f"{self.char(low)}-{self.char(high)}")
        return "".join(parts)

    def klass(self, items: Sequence[tuple[Any, Any]]) -> str:
        negate = False
        collected: list[tuple[int, int]] = []
        for op, av in items:
            if op == _C.NEGATE:
                negate = True
            elif op == _C.LITERAL:
                collected.append((av, av))
            elif op == _C.RANGE:
                collected.append((av[0], av[1]))
            elif op == _C.CATEGORY and av in _CATEGORY_SOURCE:
                collected.extend(_category(av, self.ascii_flag))
            else:
                raise NoNativeForm(f"class item {op}")
        # Surrogates never occur in the texts the engine gets; in ASCII mode nothing above
        # 0x7F does: dropping them from a class changes nothing on those texts.
        body = self.ranges(_without_surrogates(_merge(collected)))
        if not body:
            return "(?s:.)" if negate else "[a&&b]"  # any character / no character
        return "[" + ("^" if negate else "") + body + "]"

    def emit(self, pattern: Any) -> str:
        return "".join(self.item(op, av) for op, av in pattern)

    def item(self, op: Any, av: Any) -> str:
        if op == _C.LITERAL:
            return self.char(av)
        if op == _C.NOT_LITERAL:
            return "[^" + self.char(av) + "]"
        if op == _C.ANY:
            return "(?s:.)" if self.dotall else "."
        if op == _C.IN:
            return self.klass(av)
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):  # laziness does not change whether it matches
            low, high, sub = av
            count = f"{{{low},}}" if high == _C.MAXREPEAT else f"{{{low},{high}}}"
            return f"(?:{self.emit(sub)}){count}"
        if op == _C.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise NoNativeForm("scoped inline flags")
            return f"(?:{self.emit(sub)})"
        if op == _C.BRANCH:
            return "(?:" + "|".join(self.emit(alt) for alt in av[1]) + ")"
        if op == _C.AT:
            return self.anchor(av)
        raise NoNativeForm(f"the construct {op} (backreference, lookaround, ...)")

    def anchor(self, at: Any) -> str:
        if at == _C.AT_BEGINNING:
            return "(?m:^)" if self.multiline else r"\A"
        if at == _C.AT_BEGINNING_STRING:
            return r"\A"
        if at == _C.AT_END:
            self.dollar = self.dollar or not self.multiline
            return "(?m:$)"
        if at == _C.AT_END_STRING:
            return r"\z"
        if at == _C.AT_BOUNDARY:
            return r"(?-u:\b)"
        if at == _C.AT_NON_BOUNDARY:
            return r"(?-u:\B)"
        raise NoNativeForm(f"the anchor {at}")


def _walk(pattern: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    for op, av in pattern:
        yield op, av
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            yield from _walk(av[2])
        elif op in (_C.SUBPATTERN, _C.ATOMIC_GROUP):
            yield from _walk(av[-1])
        elif op == _C.BRANCH:
            for alt in av[1]:
                yield from _walk(alt)
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            yield from _walk(av[1])


@functools.lru_cache(maxsize=1024)
def translate(pattern: str) -> RustPattern:
    """The native form of ``re.search(pattern)``; raises NoNativeForm (why) when there is none."""
    try:
        parsed = _PARSER.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise NoNativeForm(f"the pattern does not parse ({exc})") from exc
    flags = parsed.state.flags
    if flags & ~_KNOWN_FLAGS:
        raise NoNativeForm("regex flags other than i, m, s, x, a, u")
    boundary = any(
        op == _C.AT and av in (_C.AT_BOUNDARY, _C.AT_NON_BOUNDARY) for op, av in _walk(parsed)
    )
    ascii_only = bool(flags & _C.SRE_FLAG_IGNORECASE) or (
        boundary and not flags & _C.SRE_FLAG_ASCII
    )
    emitter = _Emitter(flags, ascii_mode=ascii_only)
    items = list(parsed)
    final = _final_dollar(items, flags)
    try:
        body = emitter.emit(items[:-1] if final else items)
    except RecursionError as exc:
        raise NoNativeForm("the pattern is nested too deeply") from exc
    if final:
        body += r"\z"
    if ascii_only:
        body = f"(?{'i' if emitter.ignorecase else ''}-u:{body})"
    newline = 2 if final else 1 if emitter.dollar else 0
    return RustPattern(source=body, ascii_only=ascii_only, newline=newline)


def _final_dollar(items: list[tuple[Any, Any]], flags: int) -> bool:
    """True when a plain ``$`` ends the pattern and is its only end anchor.

    Then ``re.search`` matches exactly when the pattern with ``\\z`` instead matches the
    text, or the text without its final newline: the ``$`` stood at one of those two ends,
    and nothing after it could tell them apart.
    """
    if flags & _C.SRE_FLAG_MULTILINE or not items or items[-1] != (_C.AT, _C.AT_END):
        return False
    ends = [av for op, av in _walk(items) if op == _C.AT and av in (_C.AT_END, _C.AT_END_STRING)]
    return ends == [_C.AT_END]


def _can_repeat(pattern: Any) -> bool:
    """True when some part of ``pattern`` repeats an unbounded or large number of times."""
    return any(
        op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT) and av[1] > 1
        for op, av in _walk(pattern)
    )


def repeats(pattern: str) -> bool:
    """True when the pattern repeats something more than once (``+ * {2,}``...): without a
    repeat, Python's engine takes time linear in the text."""
    try:
        return _can_repeat(_PARSER.parse(pattern))
    except (re.error, RecursionError, OverflowError):
        return True


def nested_quantifiers(pattern: str) -> bool:
    """True when a repeated group holds a repeat itself (``(a+)+``, ``(a|ab)*c*``...).

    Such patterns can take exponential time in Python's backtracking engine on a crafted
    value; dqgate warns about them (``dqgate suites check``, the gate's start-up log).
    """
    try:
        parsed = _PARSER.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    for op, av in _walk(parsed):
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT) and av[1] > 1 and _can_repeat(av[2]):
            return True
    return False
