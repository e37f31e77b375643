"""Suites: load GX 1.x suites and compile them into per-record checks.

The only package that imports great_expectations at run time.
"""

from __future__ import annotations

from dqgate.suites.checks import supported_types
from dqgate.suites.compiled import DEFAULT_MAX_RECORD_BYTES, CompiledSuite, compile_suite
from dqgate.suites.expectation import CompiledExpectation
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite
from dqgate.suites.modes import Mode, ModeDecision, classify
from dqgate.suites.windows import WindowConfig, WindowResult

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "CompiledExpectation",
    "CompiledSuite",
    "LoadedExpectation",
    "LoadedSuite",
    "Mode",
    "ModeDecision",
    "WindowConfig",
    "WindowResult",
    "classify",
    "compile_suite",
    "load_suite",
    "supported_types",
]
