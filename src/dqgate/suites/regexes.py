"""Regex evaluation with a bounded time per value, for the Python checks.

``re.search`` backtracks: ``^(a+)+$`` on ``"a" * 40 + "b"`` takes minutes, and a worker
that runs it stops answering health checks and heartbeats. A :func:`searcher` evaluates a
pattern, for each text, in the first of:

1. the native linear-time engine (``dqgate_native.Regex``: the pattern translated from
   Python's parse tree, see :mod:`dqgate.suites.native_regex`), when the suite uses the
   native decider and the translation is exact for that text;
2. Python's ``re`` in process, when the pattern repeats nothing (its time is linear), or
   when the suite runs pure Python and the pattern has no nested quantifiers;
3. Python's ``re`` in the sandbox (:mod:`dqgate.suites.sandbox`) with the time budget:
   past it the evaluation is abandoned and the check's result is an error, so the record is
   quarantined with ``evaluation_error`` and the worker carries on.

The answer is ``re.search``'s in every case that finishes.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from dqgate.suites.loader import LoadedExpectation
from dqgate.suites.native_regex import nested_quantifiers, repeats, translate
from dqgate.suites.registry import Mode, NoNativeForm
from dqgate.suites.sandbox import SandboxUnavailable, shared_sandbox

__all__ = ["DEFAULT_REGEX_BUDGET_S", "RegexBudgetExceeded", "regex_warnings", "searcher"]

log = logging.getLogger(__name__)

DEFAULT_REGEX_BUDGET_S: Final = 0.1
"""Seconds one regex evaluation may take outside the linear-time engine."""

Search = Callable[[str], bool]


class RegexBudgetExceeded(Exception):
    """A regex evaluation ran past its time budget (the check's result is an error)."""


@functools.lru_cache(maxsize=1024)
def _linear(pattern: str) -> Any | None:
    """The native engine's compiled form of ``pattern``, or None (none, or not built)."""
    try:
        module = importlib.import_module("dqgate_native")
    except ImportError:
        return None
    try:
        found = translate(pattern)
        return module.Regex(found.source, found.ascii_only, found.newline)
    except (NoNativeForm, ValueError):
        return None


_unavailable_logged = False


def searcher(pattern: str, *, linear: bool, budget_s: float) -> Search:
    """``text -> bool``, equal to ``re.search(pattern, text) is not None``; raises
    RegexBudgetExceeded when the evaluation would take longer than ``budget_s``.

    ``linear``: use the native linear-time engine (the suite runs the native decider).
    """
    search = re.compile(pattern).search
    engine = _linear(pattern) if linear else None
    budgeted = repeats(pattern) and (linear or nested_quantifiers(pattern))

    def matches(text: str) -> bool:
        global _unavailable_logged
        if engine is not None:
            found: bool | None = engine.search(text)
            if found is not None:
                return found
        if budgeted:
            try:
                found = shared_sandbox().search(pattern, text, budget_s)
            except SandboxUnavailable as exc:
                if not _unavailable_logged:
                    _unavailable_logged = True
                    log.error("%s: regexes run without a time budget", exc)
            else:
                if found is None:
                    raise RegexBudgetExceeded(
                        f"the regex took longer than {budget_s:g} s on a value"
                    )
                return found
        return search(text) is not None

    return matches


def _patterns(e: LoadedExpectation) -> list[str]:
    found: list[str] = []
    regex = getattr(e.gx, "regex", None)
    if isinstance(regex, str):
        found.append(regex)
    found.extend(p for p in getattr(e.gx, "regex_list", None) or () if isinstance(p, str))
    return found


def regex_warnings(
    expectations: Sequence[LoadedExpectation],
    modes: Mapping[str, Any],
    *,
    linear: bool,
    budget_s: float,
) -> tuple[str, ...]:
    """One line per pattern with nested quantifiers, naming the expectation and what
    bounds its time (for ``dqgate suites check`` and the gate's start-up log)."""
    lines = []
    for e in expectations:
        mode = getattr(modes.get(e.expectation_id), "mode", None)
        for pattern in _patterns(e):
            if not nested_quantifiers(pattern):
                continue
            if mode is Mode.COMPILED:
                bound = (
                    f"dqgate evaluates it in linear time where it can and gives it at most "
                    f"{budget_s:g} s per value otherwise (then an evaluation_error verdict)"
                    if linear
                    else f"dqgate gives it at most {budget_s:g} s per value (then an "
                    "evaluation_error verdict); the native engine is off, so every value "
                    "pays a round trip to the regex sandbox"
                )
            else:
                bound = "GX's engine evaluates it without a time bound; rewrite the pattern"
            lines.append(
                f"expectation #{e.index} {e.expectation_id} ({e.type}): pattern {pattern!r} "
                f"has nested quantifiers, on which Python's backtracking engine can take "
                f"exponential time with a crafted value; {bound}"
            )
    return tuple(lines)
