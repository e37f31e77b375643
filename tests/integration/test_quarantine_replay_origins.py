"""Replay never injects duplicates downstream (issue 17.1, 17.2, 17.11), on the real broker.

The story (one module-scoped run): 5 incident reports with a misspelled ethnicity and
3 good ones, stamped two hours ago, go through a gate whose suite refuses the spelling.

1. three replays (default: one copy per origin) under the strict suite: each round sends
   back only the latest copy of each record, which is quarantined again, so the
   quarantine holds 4 copies of each of the 5 records (replay counts 0..3);
2. the suite is fixed, the gate restarted on the same group; a replay refuses all 5 (the
   latest copies were replayed 3 times, the default --max-replays): exit code 3;
3. a dry run, then a replay with --max-replays 4 from the start (--ignore-checkpoint):
   of the 20 copies only the 5 latest are replayed, the 15 older ones skipped; each
   record reaches the clean topic exactly once, keeping its original timestamp;
4. the same replay again: every origin already reached clean, nothing is produced.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dqgate.cli.main import main
from dqgate.demo.generator import generate
from dqgate.kafka import create_topic, run_sync
from dqgate.quarantine import REPLAY_OF
from dqgate.quarantine.envelope import REPLAY_AT
from dqgate.quarantine.selection import format_ms
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import start_worker

from .test_quarantine_replay import MISSPELLED, configs, count, read_topic, wait_for_count

pytestmark = pytest.mark.integration

BAD, GOOD, ROUNDS = 5, 3, 3


def cli(*argv: str) -> tuple[int, dict[str, Any], str]:
    """`dqgate quarantine ... --json` in process: exit code, JSON document, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["quarantine", *argv, "--json"])
    return code, json.loads(out.getvalue() or "{}"), err.getvalue()


@dataclass(slots=True, kw_only=True)
class Story:
    source: str
    quarantine: str
    clean: str
    base_ms: int
    strict: Path
    bad_keys: set[bytes] = field(default_factory=set)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    refused: tuple[int, dict[str, Any]] = (0, {})
    dry_run: dict[str, Any] = field(default_factory=dict)
    fixed: tuple[int, dict[str, Any]] = (0, {})
    again: tuple[int, dict[str, Any]] = (0, {})
    source_before_again: int = 0
    source_after_again: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    stats_distinct: dict[str, Any] = field(default_factory=dict)
    ls_distinct: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def story(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Run the module docstring's story once."""
    tmp = tmp_path_factory.mktemp("replay-origins")
    source = f"dqgate-test-origins-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=2))
    strict, fixed = configs(tmp, kafka_bootstrap, source)
    base_ms = int(time.time() * 1000) - 2 * 3600 * 1000
    s = Story(
        source=source,
        quarantine=f"{source}.quarantine",
        clean=f"{source}.clean",
        base_ms=base_ms,
        strict=strict,
    )
    feed = []
    for record in generate(BAD + GOOD, seed=11, defect_rate=0.0, missing_ethnicity_rate=0.0):
        value = json.loads(record.value)
        if record.index < BAD:
            value["ethnicity"] = MISSPELLED
            s.bad_keys.add(record.key)
        feed.append(
            FeedRecord(
                key=record.key,
                value=json.dumps(value).encode(),
                timestamp_ms=base_ms + record.index * 1000,
            )
        )
    run_sync(produce({"bootstrap_servers": kafka_bootstrap}, source, feed))
    state = ["--state-dir", str(tmp / "state")]
    worker = start_worker(["--config", str(strict)], log_path=tmp / "strict.log")
    try:
        worker.wait_ready()
        wait_for_count(kafka_bootstrap, s.quarantine, BAD, worker)
        for n in range(1, ROUNDS + 1):
            code, report, err = cli("replay", s.quarantine, "--config", str(strict), *state)
            assert code == 0, err
            s.rounds.append(report)
            wait_for_count(kafka_bootstrap, s.quarantine, (n + 1) * BAD, worker)
        assert worker.stop() == 0, worker.log_tail()
        worker = start_worker(["--config", str(fixed)], log_path=tmp / "fixed.log")
        worker.wait_ready()
        common = ["replay", s.quarantine, "--config", str(fixed), *state]
        code, report, _ = cli(*common)
        s.refused = (code, report)
        fresh = [*common, "--ignore-checkpoint", "--max-replays", "4"]
        s.dry_run = cli(*fresh, "--dry-run")[1]
        code, report, _ = cli(*fresh)
        s.fixed = (code, report)
        wait_for_count(kafka_bootstrap, s.clean, GOOD + BAD, worker)
        s.source_before_again = count(kafka_bootstrap, source)
        code, report, _ = cli(*fresh, "--max-replays", "9")
        s.again = (code, report)
        s.source_after_again = count(kafka_bootstrap, source)
        time.sleep(3)  # anything produced by mistake would reach clean by now
        assert worker.stop() == 0, worker.log_tail()
        window = [
            "--since", format_ms(base_ms - 1000), "--until", format_ms(base_ms + 60_000),
        ]  # fmt: skip
        s.stats = cli("stats", s.quarantine, "--bootstrap-servers", kafka_bootstrap, *window)[1]
        s.stats_distinct = cli(
            "stats", s.quarantine, "--bootstrap-servers", kafka_bootstrap, *window, "--distinct"
        )[1]
        s.ls_distinct = cli(
            "ls", s.quarantine, "--bootstrap-servers", kafka_bootstrap, "--distinct"
        )[1]
        yield s
    finally:
        worker.kill()


def test_each_round_replays_only_the_latest_copy_of_each_record(story: Story) -> None:
    """Rounds 1-3 replay 5 records each (5 origins), never an older copy twice."""
    assert [r["replayed"] for r in story.rounds] == [BAD] * ROUNDS
    assert [r["replayed_origins"] for r in story.rounds] == [BAD] * ROUNDS
    assert all(r["refused"] == 0 for r in story.rounds)


def test_stats_distinct_counts_each_record_once(story: Story) -> None:
    """20 copies of 5 records in the original time window read as 5 with --distinct."""
    assert story.stats["records"] == (ROUNDS + 1) * BAD
    assert story.stats_distinct["origins"] == BAD
    assert story.stats_distinct["counts"] == {"not_in_set": BAD}


def test_ls_distinct_counts_origins_beside_records(story: Story) -> None:
    """ls --distinct: 20 records, 5 origins."""
    (topic,) = story.ls_distinct["topics"]
    assert (topic["records"], topic["origins"]) == ((ROUNDS + 1) * BAD, BAD)


def test_records_at_max_replays_are_refused_with_exit_code_3(story: Story) -> None:
    """Under the fixed suite the latest copies (3 replays) are refused: exit 3, 0 replayed."""
    code, report = story.refused
    assert code == 3
    assert report["replayed"] == 0 and report["refused_by_cause"] == {"max_replays": BAD}
    assert report["refused_origins"] == BAD


def test_the_dry_run_counts_origins_and_copies(story: Story) -> None:
    """The dry run selects 20 copies of 5 origins and would replay 5, skipping 15."""
    report = story.dry_run
    assert report["dry_run"] and report["selected"] == (ROUNDS + 1) * BAD
    assert report["origins"] == BAD and report["replayed"] == BAD
    assert report["skipped_by_cause"] == {"older_copy": ROUNDS * BAD}
    assert report["clean_topics"] == [story.clean]


def test_after_the_fix_each_record_reaches_clean_exactly_once(
    story: Story, kafka_bootstrap: str
) -> None:
    """5 latest copies replayed; the clean topic holds every record exactly once."""
    code, report = story.fixed
    assert code == 0 and report["replayed"] == BAD and report["replayed_origins"] == BAD
    assert report["skipped_by_cause"] == {"older_copy": ROUNDS * BAD}
    clean = read_topic(kafka_bootstrap, story.clean)
    keys = Counter(r.key for r in clean)
    assert len(keys) == BAD + GOOD and set(keys.values()) == {1}
    replayed = [r for r in clean if r.header(REPLAY_OF)]
    assert {r.key for r in replayed} == story.bad_keys
    assert {r.replay_count for r in replayed} == {ROUNDS + 1}


def test_an_origin_that_reached_clean_is_not_replayed_again(story: Story) -> None:
    """The same replay again skips every origin as reached_clean and produces nothing."""
    code, report = story.again
    assert code == 0 and report["replayed"] == 0
    assert report["skipped_by_cause"] == {"reached_clean": (ROUNDS + 1) * BAD}
    assert story.source_after_again == story.source_before_again


def test_replayed_records_keep_their_original_timestamp(story: Story, kafka_bootstrap: str) -> None:
    """Copies in quarantine and the clean record keep the producer's timestamp; the
    replay time is in dqgate.replay.at, after it."""
    stamps = {story.base_ms + i * 1000 for i in range(BAD + GOOD)}
    quarantined = read_topic(kafka_bootstrap, story.quarantine)
    assert {r.timestamp_ms for r in quarantined} <= stamps
    replayed = [r for r in read_topic(kafka_bootstrap, story.clean) if r.header(REPLAY_OF)]
    for record in replayed:
        assert record.timestamp_ms in stamps
        at = (record.header(REPLAY_AT) or b"").decode()
        assert at > format_ms(record.timestamp_ms), at
