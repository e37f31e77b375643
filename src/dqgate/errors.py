"""The whole dqgate exception tree.

::

    DQGateError                      root: every error dqgate raises on purpose
    ├── ConfigError                  gate.yaml / environment is wrong (names key and fix)
    ├── SuiteError                   a suite file cannot be used (names file, expectation, fix)
    │   └── UnsupportedExpectationError
    ├── BrokerError                  the local Kafka broker could not be fetched/started/stopped
    └── GateError                    the streaming gate cannot continue (retriable flag)
        └── DeliveryError            a produce failed for good; the batch is not committed

A failed expectation is never an exception: it is a :class:`dqgate.verdict.Verdict`.
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "ConfigError",
    "DQGateError",
    "DeliveryError",
    "GateError",
    "SuiteError",
    "UnsupportedExpectationError",
]


class DQGateError(Exception):
    """Root of every error dqgate raises on purpose."""

    retriable: bool = False


class ConfigError(DQGateError):
    """The gate configuration is invalid; the message names the key and the fix."""


class SuiteError(DQGateError):
    """A suite cannot be loaded or compiled.

    The message names the file, the expectation (index and type) and what to change.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        index: int | None = None,
        expectation_type: str | None = None,
    ) -> None:
        self.path = path
        self.index = index
        self.expectation_type = expectation_type
        where = []
        if path is not None:
            where.append(path)
        if index is not None:
            where.append(f"expectation #{index}")
        if expectation_type is not None:
            where.append(f"({expectation_type})")
        prefix = " ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class UnsupportedExpectationError(SuiteError):
    """The expectation type exists but dqgate cannot evaluate it per record (yet)."""


class BrokerError(DQGateError):
    """The project-managed Kafka broker could not be fetched, started or stopped."""


class GateError(DQGateError):
    """The streaming gate cannot continue."""

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class DeliveryError(GateError):
    """An output record was not acknowledged by the broker; its source is not committed."""
