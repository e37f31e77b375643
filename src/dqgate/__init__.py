"""dqgate: a streaming data-quality gate for Apache Kafka.

Records are validated one by one against Great Expectations (GX 1.x) suites compiled
into per-record checks; passing records go to a clean topic, failing ones to a
quarantine topic with headers naming the failed expectations.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from dqgate.errors import (
    BrokerError,
    ConfigError,
    DeliveryError,
    DQGateError,
    GateError,
    SuiteError,
    UnsupportedExpectationError,
)
from dqgate.verdict import Failure, Outcome, Policy, Reason, Verdict

if TYPE_CHECKING:
    from dqgate.suites import CompiledSuite, compile_suite, load_suite

_SUITES = frozenset({"CompiledSuite", "compile_suite", "load_suite"})

try:
    __version__ = version("dqgate")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "BrokerError",
    "CompiledSuite",
    "ConfigError",
    "DQGateError",
    "DeliveryError",
    "Failure",
    "GateError",
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


def __getattr__(name: str) -> Any:
    """The suite API on first use: loading suites imports Great Expectations (and pandas),
    which ``import dqgate`` and ``dqgate --help`` do not need."""
    if name in _SUITES:
        import dqgate.suites

        return getattr(dqgate.suites, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
