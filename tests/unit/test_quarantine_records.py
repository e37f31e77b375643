"""Quarantine envelopes, selections and stats: decoding the gate's headers, windows, filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dqgate.provenance import REPLAY_SIG, ReplaySeal
from dqgate.quarantine.envelope import (
    REPLAY_AT,
    REPLAY_COUNT,
    REPLAY_OF,
    QuarantinedRecord,
    decode_record,
)
from dqgate.quarantine.selection import Instant, Selection, parse_instant, parse_rate
from dqgate.quarantine.stats import NONE, GroupBy, Tally, group_keys
from dqgate.routing import FAILURES, REASONS, RouteTarget, SourceRecord, route
from dqgate.verdict import Failure, Outcome, Reason, Stage, Verdict

NOW_MS = 1_750_000_000_000
TARGET = RouteTarget(clean="c", quarantine="q", suite_name="people", suite_hash="ab" * 32)


def failure(expectation_id: str, column: str | tuple[str, ...] | None, reason: Reason) -> Failure:
    return Failure(
        suite="people",
        expectation_id=expectation_id,
        type="expect_x",
        column=column,
        reason=reason,
        message="no values here",
    )


def quarantined(
    *failures: Failure,
    offset: int = 7,
    timestamp_ms: int | None = NOW_MS,
    headers: tuple[tuple[str, bytes | None], ...] = (("origin", b"test"),),
    stage: Stage = Stage.VALIDATE,
    seal: ReplaySeal | None = None,
) -> QuarantinedRecord:
    """A record as the gate would quarantine it, decoded back from its headers."""
    source = SourceRecord(
        topic="people",
        partition=2,
        offset=offset,
        timestamp=timestamp_ms,
        key=b"k",
        value=b'{"name": "x"}',
        headers=headers,
    )
    verdict = Verdict(outcome=Outcome.QUARANTINE, failures=failures, stage=stage)
    out = route(source, verdict, TARGET, now_ms=NOW_MS, seal=seal)
    return decode_record(
        topic="q",
        partition=0,
        offset=offset,
        timestamp_ms=out.timestamp_ms,
        key=out.key,
        value=out.value,
        headers=out.headers,
    )


def test_gate_headers_decode_into_lineage_suite_and_failures() -> None:
    """Every header the gate writes comes back as a field of the envelope."""
    record = quarantined(
        failure("age_range", "age", Reason.OUT_OF_RANGE),
        failure("pair", ("a", "b"), Reason.WRONG_TYPE),
    )
    assert record.source_where == "people[2]@7"
    assert record.source_timestamp_ms == NOW_MS
    assert (record.suite, record.suite_hash, record.stage) == ("people", "ab" * 32, "validate")
    assert record.reasons == ("out_of_range", "wrong_type")
    assert record.expectation_ids == ("age_range", "pair")
    assert record.columns == ("age", "a", "b")
    assert record.failures[1].column == ("a", "b")
    assert record.quarantined_at == "2025-06-15T15:06:40.000Z"
    assert record.replay_count == 0 and record.problems == ()


def test_user_headers_exclude_dqgate_headers_and_keep_order() -> None:
    """user_headers are the original, non-dqgate headers in their order."""
    record = quarantined(
        failure("x", None, Reason.MISSING_FIELD),
        headers=(("b", b"2"), ("a", None), ("dqgate.mine", b"x")),
    )
    assert record.user_headers == (("b", b"2"), ("a", None))


def test_malformed_headers_are_named_not_raised() -> None:
    """A bad failures JSON, a non-numeric partition and a bad replay count are problems."""
    record = decode_record(
        topic="q",
        partition=0,
        offset=1,
        timestamp_ms=None,
        key=None,
        value=None,
        headers=(
            (FAILURES, b"{not json"),
            ("dqgate.source.partition", b"two"),
            (REPLAY_COUNT, b"-1"),
            (REASONS, b"\xff"),
        ),
    )
    assert record.failures == () and record.source_partition is None
    assert record.replay_count is None
    assert set(record.problems) == {FAILURES, "dqgate.source.partition", REPLAY_COUNT, REASONS}


def test_replay_headers_are_decoded() -> None:
    """dqgate.replay.count and dqgate.replay.of are read from a replayed record (sealed by
    the replay tool, so the gate kept them)."""
    seal = ReplaySeal(b"r" * 32)
    replay = [(REPLAY_COUNT, b"2"), (REPLAY_OF, b"q/0/5"), (REPLAY_AT, b"2026-01-01T00:00:00.000Z")]
    signature = (REPLAY_SIG, seal.sign(replay, b"k", b'{"name": "x"}'))
    record = quarantined(
        failure("x", None, Reason.MISSING_FIELD), headers=(*replay, signature), seal=seal
    )
    assert (record.replay_count, record.replay_of) == (2, "q/0/5")


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [
        ("2h", NOW_MS - 2 * 3_600_000),
        ("7d", NOW_MS - 7 * 86_400_000),
        ("30m", NOW_MS - 30 * 60_000),
        ("1.5s", NOW_MS - 1500),
        ("now", NOW_MS),
        ("2024-05-01T10:00:00Z", int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp() * 1000)),
        ("2024-05-01T12:00:00+02:00", int(datetime(2024, 5, 1, 10, tzinfo=UTC).timestamp() * 1000)),
        ("2024-05-01", int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1000)),
    ],
)
def test_instants_accept_iso_and_relative_durations(text: str, expected_ms: int) -> None:
    """ISO 8601 (naive means UTC) and durations back from now resolve to epoch ms."""
    assert parse_instant(text, now_ms=NOW_MS) == Instant(text, expected_ms)


def test_an_unknown_time_is_refused_with_the_accepted_forms() -> None:
    """A time that is neither ISO nor a duration raises a ValueError naming both forms."""
    with pytest.raises(ValueError, match=r"ISO 8601.*30m, 2h, 7d"):
        parse_instant("yesterday", now_ms=NOW_MS)


@pytest.mark.parametrize(("text", "rate"), [("50/s", 50.0), ("0.5/s", 0.5), ("20", 20.0)])
def test_rates_are_records_per_second(text: str, rate: float) -> None:
    """``N/s`` and a bare number are rates in records per second."""
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "fast", "-3/s", "5/m"])
def test_bad_rates_are_refused(text: str) -> None:
    """Zero, negative, per-minute and non-numeric rates raise ValueError."""
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(text)


def test_the_window_is_inclusive_at_both_ends() -> None:
    """since <= timestamp <= until; a record without a timestamp is outside any window."""
    selection = Selection(topic="q", since=Instant("a", 100), until=Instant("b", 200))
    assert [selection.in_window(t) for t in (99, 100, 200, 201, None)] == [
        False,
        True,
        True,
        False,
        False,
    ]


def test_since_after_until_is_refused() -> None:
    """A window whose start is after its end is an error naming both times as written."""
    with pytest.raises(ValueError, match=r"--since 2h .* is after --until 3h"):
        Selection(topic="q", since=Instant("2h", 300), until=Instant("3h", 200))


def test_filters_of_one_kind_or_and_different_kinds_and() -> None:
    """Two reasons match either; a reason plus a column must both match."""
    age = quarantined(failure("age_range", "age", Reason.OUT_OF_RANGE))
    name = quarantined(failure("name_set", "name", Reason.NOT_IN_SET))
    either = Selection(topic="q", reasons=("out_of_range", "not_in_set"))
    both = Selection(topic="q", reasons=("out_of_range",), columns=("name",))
    assert either.matches(age) and either.matches(name)
    assert not both.matches(age) and not both.matches(name)
    assert Selection(topic="q", expectations=("name_set",)).matches(name)
    assert not Selection(topic="q", partitions=(1,)).matches(name)


def test_fingerprint_keeps_relative_times_as_written() -> None:
    """The same command line gives the same fingerprint although 'now' moved."""
    first = Selection(topic="q", since=parse_instant("2h", now_ms=NOW_MS))
    later = Selection(topic="q", since=parse_instant("2h", now_ms=NOW_MS + 60_000))
    other = Selection(topic="q", since=parse_instant("3h", now_ms=NOW_MS))
    assert first.fingerprint() == later.fingerprint() != other.fingerprint()


def test_stats_count_a_record_in_each_of_its_groups() -> None:
    """A record failing two expectations counts for both; shares divide by records."""
    tally = Tally(by=GroupBy.EXPECTATION)
    tally.add(
        quarantined(
            failure("a", "x", Reason.MISSING_FIELD), failure("b", "y", Reason.MISSING_FIELD)
        )
    )
    tally.add(quarantined(failure("a", "x", Reason.MISSING_FIELD)))
    document = tally.to_dict()
    assert document["records"] == 2
    assert document["counts"] == {"a": 2, "b": 1}
    assert document["shares"] == {"a": 1.0, "b": 0.5}


def test_stats_group_by_source_partition_and_hour() -> None:
    """Source partitions are topic[partition]; hours are UTC, missing ones are (none)."""
    record = quarantined(failure("a", None, Reason.UNDECODABLE), stage=Stage.DECODE)
    assert group_keys(record, GroupBy.SOURCE_PARTITION) == ("people[2]",)
    assert group_keys(record, GroupBy.HOUR) == ("2025-06-15T15:00Z",)
    assert group_keys(record, GroupBy.COLUMN) == (NONE,)
    undated = quarantined(failure("a", None, Reason.UNDECODABLE), timestamp_ms=None)
    assert group_keys(undated, GroupBy.HOUR) == (NONE,)


def test_hours_are_listed_in_time_order() -> None:
    """stats --by hour lists hours chronologically, not by count."""
    tally = Tally(by=GroupBy.HOUR)
    for offset, ts in enumerate((NOW_MS + 3_600_000, NOW_MS, NOW_MS + 3_600_000)):
        tally.add(
            quarantined(failure("a", None, Reason.MISSING_FIELD), offset=offset, timestamp_ms=ts)
        )
    assert [key for key, _, _ in tally.rows()] == ["2025-06-15T15:00Z", "2025-06-15T16:00Z"]
