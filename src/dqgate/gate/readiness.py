"""What ``/readyz`` means: the worker consumes its sources and commits what it routed.

Ready requires all of:

- **assigned**: the consumer group gave this worker its partitions, and no rebalance runs;
- **committing**: no routed record has waited longer than the stall limit for its offset
  to be committed (a commit that keeps failing, a coordinator that is gone);
- **consuming**: no source partition with records waiting (highwater beyond the
  position) has gone without a routed batch for longer than the stall limit, unless its
  route is paused by the circuit breaker (a configured, visible state: see
  ``dqgate_circuit_open``).

The stall limit is ``max(30 s, 10 x commit_interval_s)``: well beyond a normal commit
interval and a GX fallback batch, short enough for a probe to notice. Each failed rule
gives a reason in the ``/readyz`` body (no record values: routes, partitions, seconds).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from dqgate.metrics import Progress

__all__ = ["MIN_STALL_S", "Readiness", "assess", "stall_limit_s"]

MIN_STALL_S = 30.0

PartitionOffset = tuple[str, int, int | None, int | None]
"""(route, partition, highwater, committed offset), as the engines' partition_offsets."""


def stall_limit_s(commit_interval_s: float) -> float:
    """Seconds without a commit (or a routed batch) after which the worker is not ready."""
    return max(MIN_STALL_S, 10.0 * commit_interval_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    """The verdict for ``/readyz``: ready, or the reasons why not."""

    ready: bool
    reasons: tuple[str, ...] = ()


def assess(
    *,
    assigned: bool,
    rebalancing: bool,
    partitions: Iterable[PartitionOffset],
    progress: Progress,
    paused_routes: Collection[str],
    stall_s: float,
) -> Readiness:
    """Apply the rules of the module docstring."""
    if not assigned:
        return Readiness(ready=False, reasons=("no partitions assigned yet",))
    if rebalancing:
        return Readiness(ready=False, reasons=("consumer group rebalance in progress",))
    reasons: list[str] = []
    uncommitted = False
    for route, partition, highwater, committed in partitions:
        routed = progress.routed_next.get((route, partition), 0)
        uncommitted = uncommitted or routed > (committed or 0)
        position = max(routed, committed or 0)
        if route in paused_routes or highwater is None or highwater <= position:
            continue
        idle_s = progress.last_routed_age_s.get(route, progress.started_age_s)
        if idle_s > stall_s:
            reasons.append(
                f"route {route}: partition {partition} has {highwater - position} records "
                f"waiting but nothing was routed for {idle_s:.0f} s"
            )
    if uncommitted and progress.last_commit_age_s > stall_s:
        reasons.insert(
            0,
            f"routed records not committed: last commit {progress.last_commit_age_s:.0f} s ago",
        )
    return Readiness(ready=not reasons, reasons=tuple(reasons))
