"""What the batch engine may commit, and how much it may hold in flight.

The commit rule, per source partition: batches are registered in fetch order as they are
handed to the producer, and acknowledged in any order as their outputs are (acks=all).
The committable offset is the end of the longest run of acknowledged batches from the
oldest one: a batch acknowledged before an earlier one waits, so the committed offset
never passes a record whose outputs were not all acknowledged.

:class:`InFlight` bounds the records and bytes fetched but not yet acknowledged: the
fetch loop waits for room before it fetches more (back-pressure, bounded memory).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

__all__ = ["InFlight", "PartitionProgress", "Ticket"]


class Ticket:
    """One registered batch of a partition: the offset after its last record, and whether
    its outputs were all acknowledged."""

    __slots__ = ("acked", "next_offset", "records", "size_bytes")

    def __init__(self, next_offset: int, records: int, size_bytes: int) -> None:
        self.next_offset = next_offset
        self.records = records
        self.size_bytes = size_bytes
        self.acked = False


class PartitionProgress:
    """The batches of one source partition between fetch and commit."""

    __slots__ = ("_tickets", "committed", "delivered", "queued", "revoked")

    def __init__(self, committed: int | None = None) -> None:
        self.committed = committed
        """The offset last committed for this partition by this worker (None: none yet)."""
        self.delivered = committed
        """The end of the acknowledged run: every offset below it was delivered."""
        self.revoked = False
        """Set when the partition is being revoked: its batches are no longer routed."""
        self.queued = 0
        """Batches fetched and not yet registered (waiting, or being evaluated)."""
        self._tickets: deque[Ticket] = deque()

    def register(self, next_offset: int, records: int, size_bytes: int) -> Ticket:
        """A batch ending before ``next_offset`` was handed to the producer (fetch order)."""
        if self._tickets and next_offset <= self._tickets[-1].next_offset:
            raise ValueError(
                f"batches must be registered in offset order: {next_offset} after "
                f"{self._tickets[-1].next_offset}"
            )
        ticket = Ticket(next_offset, records, size_bytes)
        self._tickets.append(ticket)
        return ticket

    def ack(self, ticket: Ticket) -> None:
        """Every output of ``ticket``'s batch was acknowledged; advance the delivered run."""
        ticket.acked = True
        tickets = self._tickets
        while tickets and tickets[0].acked:
            self.delivered = tickets.popleft().next_offset

    @property
    def pending(self) -> int:
        """Batches registered and not yet part of the delivered run."""
        return len(self._tickets)

    def to_commit(self) -> int | None:
        """The offset to commit now, or None when nothing new was delivered."""
        delivered = self.delivered
        if delivered is None or (self.committed is not None and delivered <= self.committed):
            return None
        return delivered


_UNBOUNDED: Final = float("inf")


class InFlight:
    """Records and bytes fetched but not yet acknowledged, bounded (back-pressure).

    A batch always gets in when nothing is in flight, so one batch larger than the bounds
    cannot wedge the engine.
    """

    def __init__(self, *, max_records: int, max_bytes: int) -> None:
        if max_records < 1 or max_bytes < 1:
            raise ValueError("in-flight bounds must be positive")
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.records = 0
        self.size_bytes = 0
        self._room = asyncio.Event()
        self._room.set()

    def full(self) -> bool:
        """True when no further batch may be fetched until some are acknowledged."""
        return self.records > 0 and (
            self.records >= self.max_records or self.size_bytes >= self.max_bytes
        )

    async def wait_for_room(self, timeout_s: float = _UNBOUNDED) -> bool:
        """Wait until not :meth:`full` (at most ``timeout_s``); True if there is room."""
        while self.full():
            self._room.clear()
            try:
                if timeout_s == _UNBOUNDED:
                    await self._room.wait()
                else:
                    await asyncio.wait_for(self._room.wait(), timeout_s)
            except TimeoutError:
                return not self.full()
        return True

    def add(self, records: int, size_bytes: int) -> None:
        """A batch was fetched."""
        self.records += records
        self.size_bytes += size_bytes

    def release(self, records: int, size_bytes: int) -> None:
        """A batch was acknowledged (or dropped at a revocation)."""
        self.records -= records
        self.size_bytes -= size_bytes
        if not self.full():
            self._room.set()
