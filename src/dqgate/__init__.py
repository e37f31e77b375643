"""dqgate: a streaming data-quality gate for Apache Kafka.

Records are validated one by one against Great Expectations (GX 1.x) suites compiled
into per-record checks; passing records go to a clean topic, failing ones to a
quarantine topic with headers naming the failed expectations.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from dqgate.errors import (
    ConfigError,
    DQGateError,
    SuiteError,
    UnsupportedExpectationError,
)
from dqgate.suites import CompiledSuite, compile_suite, load_suite
from dqgate.verdict import Failure, Outcome, Policy, Reason, Verdict

try:
    __version__ = version("dqgate")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "CompiledSuite",
    "ConfigError",
    "DQGateError",
    "Failure",
    "Outcome",
    "Policy",
    "Reason",
    "SuiteError",
    "UnsupportedExpectationError",
    "Verdict",
    "__version__",
    "compile_suite",
    "load_suite",
]
