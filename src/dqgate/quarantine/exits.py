"""Exit codes of ``dqgate quarantine ...`` (documented in ``--help`` and the README)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_DELIVERY_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_SELECTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
]

EXIT_OK: Final = 0
EXIT_NOTHING_SELECTED: Final = 1
"""replay, export: no record matched the selection (the command says so on stderr)."""
EXIT_USAGE: Final = 2
"""Usage or configuration error (unknown topic, bad time, a filter no suite has, ...) or
a Kafka failure."""
EXIT_REFUSED: Final = 3
"""replay: some records were refused (--max-replays reached, unreadable replay count,
no source topic); the others were replayed."""
EXIT_DELIVERY_FAILED: Final = 4
"""replay: a record was not acknowledged by the broker; rerun to resume from the last
checkpoint."""
EXIT_INTERRUPTED: Final = 130

EXIT_CODES_HELP: Final = (
    "exit codes: 0 done; 1 nothing selected (replay, export); 2 usage or configuration "
    "error (unknown topic, bad time, a --expectation/--column that no suite of --config "
    "has) or Kafka failure; 3 replay refused some records (--max-replays, unreadable "
    "replay count, no source topic); 4 replay delivery failed (rerun to resume); "
    "130 interrupted (a replay keeps its last checkpoint)"
)
