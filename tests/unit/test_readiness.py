"""/readyz: ready means assigned, consuming what waits and committing what was routed."""

from __future__ import annotations

from collections.abc import Collection

from prometheus_client import CollectorRegistry

from dqgate.gate.readiness import MIN_STALL_S, Readiness, assess, stall_limit_s
from dqgate.metrics import GateMetrics, Progress
from dqgate.routing import SourceRecord
from dqgate.verdict import PASS

STALL_S = 30.0


def progress(
    *,
    routed: dict[tuple[str, int], int] | None = None,
    commit_age_s: float = 1.0,
    routed_age_s: dict[str, float] | None = None,
    started_age_s: float = 100.0,
) -> Progress:
    """A progress snapshot with the given positions and ages."""
    return Progress(
        routed_next=routed or {},
        last_commit_age_s=commit_age_s,
        last_routed_age_s=routed_age_s or {},
        started_age_s=started_age_s,
    )


def judge(
    partitions: list[tuple[str, int, int | None, int | None]],
    p: Progress,
    paused: Collection[str] = (),
) -> Readiness:
    """assess() on an assigned worker with no rebalance."""
    return assess(
        assigned=True, rebalancing=False, partitions=partitions, progress=p,
        paused_routes=set(paused), stall_s=STALL_S,
    )  # fmt: skip


def test_not_ready_before_assignment_or_during_a_rebalance() -> None:
    """No assignment yet, or a rebalance running: not ready, with the reason."""
    for assigned, rebalancing, reason in ((False, False, "assigned"), (True, True, "rebalance")):
        verdict = assess(
            assigned=assigned, rebalancing=rebalancing, partitions=[], progress=progress(),
            paused_routes=set(), stall_s=STALL_S,
        )  # fmt: skip
        assert not verdict.ready and reason in verdict.reasons[0]


def test_caught_up_and_committed_is_ready_even_when_idle_for_long() -> None:
    """Nothing waiting and everything committed: ready, however long ago the last commit."""
    p = progress(routed={("r", 0): 50}, commit_age_s=3600, routed_age_s={"r": 3600})
    verdict = judge([("r", 0, 50, 50)], p)
    assert verdict.ready and verdict.reasons == ()


def test_routed_but_uncommitted_for_too_long_is_not_ready() -> None:
    """Records routed beyond the committed offset and no commit within the limit."""
    p = progress(routed={("r", 0): 80}, commit_age_s=STALL_S + 5, routed_age_s={"r": 1})
    verdict = judge([("r", 0, 80, 50)], p)
    assert not verdict.ready and "not committed" in verdict.reasons[0]
    assert judge([("r", 0, 80, 50)], progress(routed={("r", 0): 80}, commit_age_s=2)).ready


def test_records_waiting_without_progress_is_not_ready_unless_paused() -> None:
    """Lag with no routed batch for longer than the limit: not consuming; a paused route is."""
    p = progress(routed={("r", 1): 10}, routed_age_s={"r": STALL_S + 1})
    verdict = judge([("r", 1, 500, 10)], p)
    assert not verdict.ready
    assert verdict.reasons == (
        "route r: partition 1 has 490 records waiting but nothing was routed for 31 s",
    )
    assert judge([("r", 1, 500, 10)], p, paused=["r"]).ready
    assert judge([("r", 1, 500, 10)], progress(routed_age_s={"r": 2})).ready


def test_a_route_that_never_routed_is_judged_from_the_start() -> None:
    """With no batch ever routed, the idle time is the time since the worker started."""
    assert judge([("r", 0, 5, None)], progress(started_age_s=5)).ready
    assert not judge([("r", 0, 5, None)], progress(started_age_s=STALL_S * 2)).ready


def test_the_stall_limit_follows_the_commit_interval() -> None:
    """At least MIN_STALL_S, else ten commit intervals."""
    assert stall_limit_s(1.0) == MIN_STALL_S
    assert stall_limit_s(10.0) == 100.0


def test_metrics_report_progress_per_route() -> None:
    """GateMetrics records routed positions, commits and batch times for /readyz."""
    metrics = GateMetrics(CollectorRegistry())
    before = metrics.progress()
    assert before.routed_next == {} and before.last_routed_age_s == {}
    metrics.declare_route("r")
    record = SourceRecord(topic="in", partition=2, offset=41, timestamp=None, key=None, value=b"{}")
    metrics.observe("r", [PASS], [record])
    after = metrics.progress()
    assert after.routed_next == {("r", 2): 42}
    assert after.last_routed_age_s["r"] < 1.0
    metrics.record_commit()
    assert metrics.progress().last_commit_age_s <= after.last_commit_age_s
