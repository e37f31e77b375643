"""The commit rule and the in-flight bounds of the batch engine (no broker)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqgate.gate.progress import InFlight, PartitionProgress


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30),
    order=st.randoms(use_true_random=False),
    committed=st.integers(min_value=0, max_value=1_000),
)
def test_committed_offset_never_passes_an_unacknowledged_record(
    sizes: list[int], order: object, committed: int
) -> None:
    """Acks in any order: the offset to commit is always the end of the acked prefix."""
    progress = PartitionProgress(committed)
    tickets, start = [], committed
    for size in sizes:
        tickets.append((start, progress.register(start + size, size, size * 10)))
        start += size
    pending = list(tickets)
    order.shuffle(pending)  # type: ignore[attr-defined]
    acked: set[int] = set()
    for first, ticket in pending:
        progress.ack(ticket)
        acked.add(first)
        # the lowest offset whose batch is not acknowledged bounds the commit
        unacked = [f for f, _ in tickets if f not in acked]
        bound = min(unacked) if unacked else start
        offset = progress.to_commit()
        assert offset is None or offset <= bound
        if offset is not None:
            progress.committed = offset
        assert progress.committed == bound
    assert progress.pending == 0


def test_nothing_to_commit_until_the_oldest_batch_is_acknowledged() -> None:
    """A later batch acknowledged first does not make anything committable."""
    progress = PartitionProgress(None)
    first = progress.register(100, 100, 1)
    second = progress.register(200, 100, 1)
    progress.ack(second)
    assert progress.to_commit() is None and progress.pending == 2
    progress.ack(first)
    assert progress.to_commit() == 200 and progress.pending == 0


def test_batches_must_be_registered_in_offset_order() -> None:
    """Registering an earlier batch after a later one is a bug, refused loudly."""
    progress = PartitionProgress(None)
    progress.register(50, 10, 1)
    with pytest.raises(ValueError, match="offset order"):
        progress.register(40, 10, 1)


def test_in_flight_bounds_records_and_bytes_and_wakes_on_release() -> None:
    """Full at either bound; a waiter resumes as soon as a release makes room."""

    async def scenario() -> list[str]:
        events: list[str] = []
        limit = InFlight(max_records=10, max_bytes=1_000)
        limit.add(10, 100)
        assert limit.full()

        async def fetcher() -> None:
            await limit.wait_for_room()
            events.append("room")

        task = asyncio.create_task(fetcher())
        await asyncio.sleep(0)
        events.append("still waiting" if not task.done() else "too early")
        limit.release(5, 50)
        await task
        limit.add(1, 2_000)  # bytes over the bound
        events.append("full" if limit.full() else "not full")
        return events

    assert asyncio.run(scenario()) == ["still waiting", "room", "full"]


def test_one_oversized_batch_gets_in_when_nothing_is_in_flight() -> None:
    """A single batch above the bounds cannot wedge the engine: empty is never full."""
    limit = InFlight(max_records=1, max_bytes=1)
    assert not limit.full()
    assert asyncio.run(limit.wait_for_room(timeout_s=0.01))
