"""Copies of one record joined into its origin: latest copy, reached clean, distinct counts."""

from __future__ import annotations

from dqgate.quarantine.envelope import (
    REPLAY_COUNT,
    REPLAY_OF,
    QuarantinedRecord,
    decode_record,
)
from dqgate.quarantine.origins import Origins, coordinates
from dqgate.quarantine.replay import OLDER_COPY, REACHED_CLEAN, ReplayOptions, skip_cause
from dqgate.quarantine.stats import GroupBy, Tally
from dqgate.routing import (
    QUARANTINED_AT,
    REASONS,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
    Header,
)

Q = "people.quarantine"


def copy(
    offset: int,
    source_offset: int,
    *,
    of: int | None = None,
    count: int = 0,
    at: str = "2025-01-01T00:00:00.000Z",
    topic: str = Q,
    partition: int = 0,
    reason: bytes = b"not_in_set",
) -> QuarantinedRecord:
    """A quarantined record of source people[0]@source_offset, replayed from Q/0/of."""
    headers: list[Header] = [
        (SOURCE_TOPIC, b"people"),
        (SOURCE_PARTITION, b"0"),
        (SOURCE_OFFSET, str(source_offset).encode()),
        (REASONS, reason),
        (QUARANTINED_AT, at.encode()),
    ]
    if of is not None:
        headers += [(REPLAY_COUNT, str(count).encode()), (REPLAY_OF, f"{Q}/0/{of}".encode())]
    return decode_record(
        topic=topic, partition=partition, offset=offset, timestamp_ms=0,
        key=b"k", value=b"{}", headers=tuple(headers),
    )  # fmt: skip


def chain() -> list[QuarantinedRecord]:
    """Source record 100 quarantined (Q@0), replayed three times: copies Q@1, Q@2, Q@3."""
    return [
        copy(0, 100),
        copy(1, 200, of=0, count=1, at="2025-01-01T01:00:00.000Z"),
        copy(2, 201, of=1, count=2, at="2025-01-01T02:00:00.000Z"),
        copy(3, 202, of=2, count=3, at="2025-01-01T03:00:00.000Z"),
    ]


def test_a_chain_of_replays_is_one_origin_whose_latest_copy_is_the_last() -> None:
    """Q@0 <- Q@1 <- Q@2 <- Q@3 joined through replay.of: one origin, Q@3 latest."""
    origins = Origins()
    records = chain()
    for record in reversed(records):  # order of reading does not matter
        origins.add(record)
    assert origins.count() == 1 and origins.copies == 4
    assert [origins.latest(coordinates(r)) for r in records] == [False, False, False, True]


def test_distinct_source_records_are_distinct_origins() -> None:
    """Two originals and a copy of the first: two origins."""
    origins = Origins()
    for record in (copy(0, 100), copy(1, 101), copy(2, 300, of=0, count=1)):
        origins.add(record)
    assert origins.count() == 2


def test_the_gate_quarantining_a_record_twice_is_one_origin() -> None:
    """Duplicates after a gate crash have the same lineage: one origin, the later one latest."""
    origins = Origins()
    first, second = copy(0, 100), copy(5, 100, at="2025-01-01T00:00:01.000Z")
    origins.add(first)
    origins.add(second)
    assert origins.count() == 1
    assert not origins.latest(coordinates(first)) and origins.latest(coordinates(second))


def test_a_chain_whose_start_was_not_read_is_joined_through_replay_of() -> None:
    """Copies 2 and 3 without Q@0 and Q@1 (an older window): still one origin."""
    origins = Origins()
    for record in chain()[2:]:
        origins.add(record)
    assert origins.count() == 1


def test_a_clean_record_replayed_from_any_copy_marks_the_origin() -> None:
    """A clean record whose replay.of is Q@1: every copy of that origin reached clean."""
    origins = Origins()
    for record in chain():
        origins.add(record)
    other = copy(9, 999)
    origins.add(other)
    passed = copy(0, 500, of=1, count=2, topic="people.clean")
    origins.add_clean(passed)
    assert all(origins.reached_clean(coordinates(r)) for r in chain())
    assert not origins.reached_clean(coordinates(other))


def test_skip_cause_keeps_only_the_latest_copy_unless_all_copies() -> None:
    """Older copies are skipped; the latest is not; --all-copies skips none."""
    origins = Origins()
    records = chain()
    for record in records:
        origins.add(record)
    options = ReplayOptions(clean_topics=("people.clean",))
    assert [skip_cause(r, origins, options) for r in records] == [OLDER_COPY] * 3 + [None]
    everything = ReplayOptions(all_copies=True)
    assert [skip_cause(r, origins, everything) for r in records] == [None] * 4
    origins.add_clean(copy(0, 600, of=3, count=4, topic="people.clean"))
    assert skip_cause(records[3], origins, options) == REACHED_CLEAN


def test_stats_distinct_counts_origins_not_copies() -> None:
    """560 copies of 140 records read as 140: here 4 copies of 1 plus 1 other read as 2."""
    plain, distinct = Tally(by=GroupBy.REASON), Tally(by=GroupBy.REASON, distinct=True)
    records = [*chain(), copy(7, 700, reason=b"missing_field")]
    for record in records:
        plain.add(record)
        distinct.add(record)
    assert plain.to_dict()["counts"] == {"not_in_set": 4, "missing_field": 1}
    document = distinct.to_dict()
    assert document["counts"] == {"not_in_set": 1, "missing_field": 1}
    assert (document["records"], document["origins"]) == (5, 2)
    assert document["shares"] == {"not_in_set": 0.5, "missing_field": 0.5}
