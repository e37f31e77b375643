"""``dqgate`` with the routing headers left out: the bench's measure of what they cost.

``python bench/_dqgate_no_headers.py [dqgate arguments]`` runs ``dqgate`` (the same
command line) with :meth:`dqgate.routing.RouteHeaders.build` replaced by the least a
router must do: pick the clean or the quarantine topic by the verdict and keep the
record's own headers. No lineage or quarantine header is built or produced; everything
else (evaluation, verdicts, batching, metrics, commits) is the gate's own code. A
benchmark variant only, never a way to run a gate: its outputs cannot be traced back to
their source records.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from dqgate.cli.main import main
from dqgate.routing import Header, RouteHeaders
from dqgate.verdict import Outcome, Verdict


def _route_only(
    self: RouteHeaders,
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int | None,
    original: Sequence[Header],
    verdict: Verdict,
    at: bytes,
    values: bytes | None = None,
) -> tuple[str, list[Header]]:
    target = self.target
    out = target.clean if verdict.outcome is Outcome.PASS else target.quarantine
    return out, list(original)


def patch() -> Any:
    """Replace the header building; returns the original method."""
    original = RouteHeaders.build
    RouteHeaders.build = _route_only  # type: ignore[method-assign]
    return original


if __name__ == "__main__":
    patch()
    sys.exit(main(sys.argv[1:]))
