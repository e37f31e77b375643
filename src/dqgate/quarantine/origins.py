"""Which quarantined records are copies of the same original record.

A record the gate quarantined carries the source record's coordinates (the lineage
headers). When ``dqgate quarantine replay`` sends it back and the gate quarantines it
again, the new copy carries ``dqgate.replay.of``: the coordinates of the quarantined
record it was replayed from. So copies form chains back to the original, and the
*origin* of a copy is the source record at the start of its chain. Records with the same
source lineage (the gate may quarantine a record twice after a crash) share an origin.

:class:`Origins` joins records into origins (union-find over their coordinates) as they
are read, in any order, and answers per origin: its latest quarantined copy (most
replays, then the latest ``dqgate.quarantined_at``, then the highest offset), and
whether a copy already reached a clean topic (a clean record whose ``dqgate.replay.of``
names one of its copies, or whose lineage is the origin's source record).

A chain whose first records are outside what was read (an older time window) is still
joined through the ``replay.of`` coordinates its copies name.
"""

from __future__ import annotations

from dataclasses import dataclass

from dqgate.quarantine.envelope import QuarantinedRecord

__all__ = ["CopyInfo", "Origins"]


@dataclass(frozen=True, slots=True)
class CopyInfo:
    """What :class:`Origins` keeps of one quarantined copy (no key, value or header)."""

    at: str
    """``topic/partition/offset`` of the quarantined copy."""
    rank: tuple[int, str, int, int]
    """Later copies rank higher: (replay count, quarantined_at, partition, offset)."""


def coordinates(record: QuarantinedRecord) -> str:
    """``topic/partition/offset`` of a quarantined record (what ``replay.of`` names)."""
    return f"{record.topic}/{record.partition}/{record.offset}"


def _source_node(record: QuarantinedRecord) -> str | None:
    if record.source_topic is None or record.source_partition is None:
        return None
    if record.source_offset is None:
        return None
    return f"s:{record.source_topic}/{record.source_partition}/{record.source_offset}"


class Origins:
    """Copies joined into origins; see the module docstring."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._copies: dict[str, CopyInfo] = {}
        self._clean: set[str] = set()
        self._latest: dict[str, CopyInfo] | None = None
        self._clean_roots: set[str] | None = None

    def _find(self, node: str) -> str:
        parent = self._parent.setdefault(node, node)
        if parent == node:
            return node
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:  # path compression
            self._parent[node], node = root, self._parent[node]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def add(self, record: QuarantinedRecord) -> str:
        """Join one quarantined record (again: no change); returns its coordinates."""
        at = coordinates(record)
        if at in self._copies:
            return at
        node = f"q:{at}"
        self._find(node)
        source = _source_node(record)
        if source is not None:
            self._union(node, source)
        if record.replay_of:
            self._union(node, f"q:{record.replay_of}")
        count = -1 if record.replay_count is None else record.replay_count
        rank = (count, record.quarantined_at or "", record.partition, record.offset)
        self._copies[at] = CopyInfo(at=at, rank=rank)
        self._latest = self._clean_roots = None
        return at

    def add_clean(self, record: QuarantinedRecord) -> None:
        """Note a record of a clean topic: its origin (if known here) reached clean."""
        if record.replay_of:
            self._clean.add(f"q:{record.replay_of}")
        source = _source_node(record)
        if source is not None:
            self._clean.add(source)
        self._clean_roots = None

    def origin_of(self, at: str) -> str:
        """An identity of the origin of the copy at ``at`` (equal for all its copies)."""
        return self._find(f"q:{at}")

    def latest(self, at: str) -> bool:
        """True when the copy at ``at`` is the latest copy of its origin among those added."""
        if self._latest is None:
            latest: dict[str, CopyInfo] = {}
            for info in self._copies.values():
                root = self.origin_of(info.at)
                if root not in latest or info.rank > latest[root].rank:
                    latest[root] = info
            self._latest = latest
        return self._latest[self.origin_of(at)].at == at

    def reached_clean(self, at: str) -> bool:
        """True when a copy (or the source record) of ``at``'s origin is in a clean topic."""
        if self._clean_roots is None:
            self._clean_roots = {self._find(n) for n in self._clean if n in self._parent}
        return self.origin_of(at) in self._clean_roots

    @property
    def copies(self) -> int:
        """Copies added."""
        return len(self._copies)

    def count(self) -> int:
        """Distinct origins of the copies added."""
        return len({self.origin_of(at) for at in self._copies})
