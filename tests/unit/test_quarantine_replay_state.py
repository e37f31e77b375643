"""Replay decisions, replay headers, checkpoints on disk and the progress bar (no broker)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from dqgate.errors import ConfigError
from dqgate.provenance import REPLAY_SIG, ReplaySeal, own_headers
from dqgate.quarantine.checkpoint import SOURCE_TARGET, Checkpoint
from dqgate.quarantine.envelope import (
    REPLAY_AT,
    REPLAY_COUNT,
    REPLAY_OF,
    QuarantinedRecord,
    decode_record,
)
from dqgate.quarantine.progress import Progress
from dqgate.quarantine.replay import ReplayOptions, decide, replay_headers
from dqgate.quarantine.selection import Selection, parse_instant
from dqgate.routing import SOURCE_TOPIC, STAGE, Header


def record(*headers: Header, offset: int = 9) -> QuarantinedRecord:
    return decode_record(
        topic="people.quarantine",
        partition=1,
        offset=offset,
        timestamp_ms=0,
        key=b"k",
        value=b"v",
        headers=headers,
    )


def test_a_record_goes_back_to_its_source_topic() -> None:
    """Without --to the target is dqgate.source.topic."""
    assert decide(record((SOURCE_TOPIC, b"people")), ReplayOptions()) == ("people", None)


def test_to_overrides_the_source_topic() -> None:
    """--to wins over the record's own source, also when it has none."""
    assert decide(record(), ReplayOptions(target="other")) == ("other", None)


def test_records_replayed_max_times_are_refused() -> None:
    """A record at --max-replays K replays is refused; below K it is replayed."""
    options = ReplayOptions(max_replays=2)
    assert decide(record((SOURCE_TOPIC, b"s"), (REPLAY_COUNT, b"2")), options) == (
        None,
        "max_replays",
    )
    assert decide(record((SOURCE_TOPIC, b"s"), (REPLAY_COUNT, b"1")), options) == ("s", None)


def test_unreadable_replay_counts_and_missing_sources_are_refused() -> None:
    """A garbled replay count could hide a loop; no source and no --to has no target."""
    assert decide(record((SOURCE_TOPIC, b"s"), (REPLAY_COUNT, b"x")), ReplayOptions()) == (
        None,
        "unreadable_replay_count",
    )
    assert decide(record(), ReplayOptions()) == (None, "no_source_topic")


def test_replay_headers_keep_user_headers_and_add_count_lineage_and_time() -> None:
    """Non-dqgate headers in order, old dqgate headers dropped, count incremented, and
    the time of the replay in dqgate.replay.at (the timestamp stays the original)."""
    headers = replay_headers(
        record(
            ("origin", b"x"),
            (STAGE, b"validate"),
            (REPLAY_COUNT, b"1"),
            ("trace", None),
            offset=41,
        ),
        now_ms=1_750_000_000_123,
    )
    assert headers == [
        ("origin", b"x"),
        ("trace", None),
        (REPLAY_COUNT, b"2"),
        (REPLAY_OF, b"people.quarantine/1/41"),
        (REPLAY_AT, b"2025-06-15T15:06:40.123Z"),
    ]


def test_sealed_replay_headers_are_what_the_gate_trusts() -> None:
    """With the shared key the replay headers carry a seal that the gate accepts for this
    record (and only for it); a producer's headers kept as dqgate.original.* go along."""
    seal = ReplaySeal(b"s" * 32)
    source = record(("origin", b"x"), ("dqgate.original.source.offset", b"3"), offset=41)
    headers = replay_headers(source, now_ms=1_750_000_000_123, seal=seal)
    assert headers[:2] == [("origin", b"x"), ("dqgate.original.source.offset", b"3")]
    assert [name for name, _ in headers[2:]] == [REPLAY_COUNT, REPLAY_OF, REPLAY_AT, REPLAY_SIG]
    assert seal.verify(headers, b"k", b"v")
    assert not seal.verify(headers, b"k", b"another value")
    kept = own_headers(headers, [], seal=seal, key=b"k", value=b"v")
    assert kept == headers


def test_a_missing_checkpoint_loads_empty(tmp_path: Path) -> None:
    """No file yet: no offsets, nothing replayed."""
    ckpt = Checkpoint.load(tmp_path, Selection(topic="q"), SOURCE_TARGET)
    assert ckpt.offsets == {} and ckpt.replayed == 0 and not ckpt.path.exists()


def test_a_saved_checkpoint_loads_back(tmp_path: Path) -> None:
    """Offsets and totals survive a save/load round trip; the file is replaced, not appended."""
    selection = Selection(topic="q", reasons=("missing_field",))
    ckpt = Checkpoint.load(tmp_path / "state", selection, "target")
    ckpt.offsets = {0: 41, 3: 7}
    ckpt.replayed, ckpt.refused = 40, 2
    ckpt.save()
    ckpt.offsets[0] = 50
    ckpt.save()
    again = Checkpoint.load(tmp_path / "state", selection, "target")
    assert (again.offsets, again.replayed, again.refused) == ({0: 50, 3: 7}, 40, 2)
    assert [p.name for p in (tmp_path / "state").iterdir()] == [ckpt.path.name]


def test_checkpoints_are_per_topic_target_and_selection(tmp_path: Path) -> None:
    """Another target or filter is another file; relative times hash as written."""
    base = Selection(topic="q", since=parse_instant("2h", now_ms=0))
    same = Selection(topic="q", since=parse_instant("2h", now_ms=10_000))
    paths = {
        Checkpoint.path_for(tmp_path, base, SOURCE_TARGET),
        Checkpoint.path_for(tmp_path, same, SOURCE_TARGET),
    }
    assert len(paths) == 1
    assert Checkpoint.path_for(tmp_path, base, "other") not in paths
    assert Checkpoint.path_for(tmp_path, Selection(topic="q"), SOURCE_TARGET) not in paths
    assert next(iter(paths)).name.startswith("q__source__")


def test_a_corrupt_checkpoint_is_a_config_error_naming_the_way_out(tmp_path: Path) -> None:
    """A garbled file is never silently ignored (that would repeat the replay)."""
    path = Checkpoint.path_for(tmp_path, Selection(topic="q"), SOURCE_TARGET)
    path.write_text("{half")
    with pytest.raises(ConfigError, match="--ignore-checkpoint"):
        Checkpoint.load(tmp_path, Selection(topic="q"), SOURCE_TARGET)


def test_checkpoint_files_are_complete_json_after_save(tmp_path: Path) -> None:
    """The saved file parses and no temporary file is left behind."""
    ckpt = Checkpoint.load(tmp_path, Selection(topic="q"), SOURCE_TARGET)
    ckpt.offsets = {0: 1}
    ckpt.save()
    assert json.loads(ckpt.path.read_text())["offsets"] == {"0": 1}
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")] == []


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal() -> None:
    """A pipe gets nothing; a terminal gets carriage-return redraws and a final newline."""
    pipe, tty = io.StringIO(), FakeTty()
    for stream in (pipe, tty):
        bar = Progress(4, stream=stream)
        bar.advance(2, note="replayed 2")
        bar.close()
    assert pipe.getvalue() == ""
    assert tty.getvalue().startswith("\r[") and tty.getvalue().endswith("\n")
    assert "4/4" not in tty.getvalue() and "2/4  50%  replayed 2" in tty.getvalue()
