"""Suites: load GX 1.x suites and compile them into per-record checks.

The only package that imports great_expectations at run time.
"""

from __future__ import annotations

from dqgate.suites.checks import supported_types
from dqgate.suites.compiled import (
    DEFAULT_MAX_RECORD_BYTES,
    CompiledExpectation,
    CompiledSuite,
    compile_suite,
)
from dqgate.suites.loader import LoadedExpectation, LoadedSuite, load_suite

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "CompiledExpectation",
    "CompiledSuite",
    "LoadedExpectation",
    "LoadedSuite",
    "compile_suite",
    "load_suite",
    "supported_types",
]
