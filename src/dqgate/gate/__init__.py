"""The streaming gate: workers that route every record to clean or quarantine.

``run_gate(config)`` runs one worker in this process (its exit codes:
:class:`~dqgate.gate.exits.ExitCode`); ``dqgate run`` is its command line. The engines
(``engine: batch`` on aiokafka, ``engine: faust``) are imported when a worker is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dqgate.gate.exits import ExitCode

if TYPE_CHECKING:
    from dqgate.gate.worker import run_gate

__all__ = ["ExitCode", "run_gate"]


def __getattr__(name: str) -> Any:
    """``run_gate`` on first use: the worker imports the Kafka clients and the web server."""
    if name == "run_gate":
        from dqgate.gate.worker import run_gate

        return run_gate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
