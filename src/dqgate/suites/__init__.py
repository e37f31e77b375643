"""Suites: load GX 1.x suites and compile them into per-record checks.

The only package that imports great_expectations at run time. Every expectation type dqgate
knows is registered once, in :mod:`dqgate.suites.catalog`.
"""

from __future__ import annotations

from dqgate.suites import catalog as _catalog  # noqa: F401  (registers every known type)
from dqgate.suites.compiled import (
    DEFAULT_MAX_RECORD_BYTES,
    BatchEvaluation,
    CompiledSuite,
    compile_suite,
)
from dqgate.suites.expectation import CompiledExpectation
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite
from dqgate.suites.modes import Mode, ModeDecision, classify
from dqgate.suites.native import NativeCheck
from dqgate.suites.regexes import DEFAULT_REGEX_BUDGET_S
from dqgate.suites.registry import Registration, registration, supported_types
from dqgate.suites.windows import WindowAggregator, WindowConfig, WindowInput, WindowResult

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "DEFAULT_REGEX_BUDGET_S",
    "BatchEvaluation",
    "CompiledExpectation",
    "CompiledSuite",
    "LoadedExpectation",
    "LoadedSuite",
    "Mode",
    "ModeDecision",
    "NativeCheck",
    "Registration",
    "WindowAggregator",
    "WindowConfig",
    "WindowInput",
    "WindowResult",
    "classify",
    "compile_suite",
    "load_suite",
    "registration",
    "supported_types",
]
