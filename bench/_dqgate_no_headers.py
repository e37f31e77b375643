"""``dqgate`` with the routing headers left out: the bench's measure of what they cost.

``python bench/_dqgate_no_headers.py [dqgate arguments]`` runs ``dqgate`` (the same
command line) with :meth:`dqgate.routing.RouteHeaders.route_batch` replaced by the least
a router must do: pick the clean or the quarantine topic by the verdict and keep the
record's key, value, timestamp and own headers. No lineage or quarantine header is built
or produced; everything else (evaluation, verdicts, batching, metrics, commits) is the
gate's own code. A benchmark variant only, never a way to run a gate: its outputs cannot
be traced back to their source records. When dqgate's routing changes shape, :func:`patch`
refuses, naming what it expected (and bench_compare.py checks that the variant's outputs
really carry no lineage).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from dqgate.cli.main import main
from dqgate.routing import RouteHeaders
from dqgate.verdict import Outcome, Verdict

_PATCHED = "route_batch"


def _route_only(
    self: RouteHeaders,
    records: Sequence[Any],
    verdicts: Sequence[Verdict],
    at: bytes,
    values: Callable[[bytes | None, Verdict], bytes | None] | None = None,
) -> list[tuple[str, bytes | None, bytes | None, list[Any], int | None]]:
    clean, quarantine = self.target.clean, self.target.quarantine
    passed = Outcome.PASS
    return [
        (
            clean if verdict.outcome is passed else quarantine,
            record.key,
            record.value,
            list(record.headers),
            record.timestamp,
        )
        for record, verdict in zip(records, verdicts, strict=True)
    ]


def patch() -> Any:
    """Replace the header building; returns the original method."""
    original = getattr(RouteHeaders, _PATCHED, None)
    if original is None:
        raise SystemExit(
            f"dqgate.routing.RouteHeaders has no {_PATCHED} any more: update "
            "bench/_dqgate_no_headers.py to dqgate's routing"
        )
    setattr(RouteHeaders, _PATCHED, _route_only)
    return original


def unpatch(original: Any) -> None:
    """Undo :func:`patch`."""
    setattr(RouteHeaders, _PATCHED, original)


if __name__ == "__main__":
    patch()
    sys.exit(main(sys.argv[1:]))
