"""The exit codes of ``dqgate run``: what a supervisor (or an operator's script) can act on.

Every non-zero code is safe to restart from: offsets are committed only after delivery.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

__all__ = ["EXIT_CODES_HELP", "ExitCode"]


class ExitCode(IntEnum):
    """Why a gate worker ended."""

    STOPPED = 0
    """Stopped by SIGTERM / SIGINT after finishing and committing the in-flight batches."""
    ENGINE_FAILED = 1
    """The engine failed (the Kafka client gave up for good, faust crashed)."""
    CONFIG = 2
    """Configuration, suite or connection error at start-up (nothing consumed)."""
    DELIVERY_FAILED = 3
    """A delivery failed for good; nothing of its batch was committed."""
    INTERNAL_ERROR = 4
    """A bug in dqgate; nothing of the batch was committed."""
    SHUTDOWN_TIMEOUT = 5
    """A graceful stop took longer than shutdown_timeout_s; pending offsets uncommitted."""


EXIT_CODES_HELP: Final = """exit codes:
  0  stopped by SIGTERM/SIGINT after finishing and committing the in-flight batches
  1  the engine failed (the Kafka client gave up for good, faust crashed)
  2  configuration, suite or connection error at start-up (nothing was consumed)
  3  a delivery failed for good (nothing of its batch was committed)
  4  internal error (nothing of the batch was committed)
  5  a graceful stop took longer than shutdown_timeout_s (pending offsets uncommitted)
every non-zero exit is safe to restart: offsets are committed only after delivery"""
