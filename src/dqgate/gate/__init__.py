"""The streaming gate: faust workers that route every record to clean or quarantine.

``run_gate(config)`` runs one worker in this process (see :mod:`dqgate.gate.worker` for
the exit codes); ``dqgate run`` is its command line. Importing this package is cheap;
faust is imported when a worker is built.
"""

from __future__ import annotations

from dqgate.gate.worker import EXIT_SHUTDOWN_TIMEOUT, run_gate

__all__ = ["EXIT_SHUTDOWN_TIMEOUT", "run_gate"]
