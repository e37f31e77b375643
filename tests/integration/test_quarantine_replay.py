"""``dqgate quarantine replay`` against the real broker and the real gate.

The story (one module-scoped run): 30 incident reports, 20 of them with a misspelled
ethnicity, go through a gate whose suite refuses it; the 20 land in quarantine.

1. replay with ``--max-replays 1`` before the suite is fixed: the 20 go back to the source
   and are quarantined again, now carrying ``dqgate.replay.count: 1``;
2. the same replay again: it resumes after its checkpoint, finds only the 20 copies and
   refuses them all (the loop guard); nothing is produced;
3. the suite is fixed (the spelling is accepted), the gate restarted on the same group,
   and the replay rerun with ``--ignore-checkpoint --all-copies`` (every copy, as before
   replays took one copy per origin): the 20 originals are replayed, pass, and land in
   clean with their replay lineage; the 20 copies are refused again (exit code 3).

The SIGKILL test replays 300 records slowly, kills the replay after some checkpoints,
restarts it, and checks every record reached the target once, except records after the
last checkpoint written before the kill, which may be there twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.demo.generator import generate
from dqgate.kafka import create_topic, run_sync
from dqgate.quarantine import (
    REPLAY_COUNT,
    REPLAY_OF,
    QuarantinedRecord,
    QuarantineReader,
    Selection,
)
from dqgate.quarantine.checkpoint import SOURCE_TARGET, Checkpoint
from dqgate.quarantine.envelope import REPLAY_AT
from dqgate.quarantine.selection import format_ms
from dqgate.routing import RouteTarget, SourceRecord, route
from dqgate.testing.audit import end_offsets
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import WorkerProcess, start_worker
from dqgate.verdict import Failure, Outcome, Reason, Verdict

pytestmark = pytest.mark.integration

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
BAD, GOOD = 20, 10
MISSPELLED = "Caucasian"


def read_topic(bootstrap: str, topic: str) -> list[QuarantinedRecord]:
    """Every record of ``topic`` (up to its current end), headers decoded."""

    async def read() -> list[QuarantinedRecord]:
        async with QuarantineReader(
            {"bootstrap_servers": bootstrap}, Selection(topic=topic)
        ) as reader:
            return [r async for r in reader.records()]

    return run_sync(read())


def count(bootstrap: str, topic: str) -> int:
    return sum(run_sync(end_offsets({"bootstrap_servers": bootstrap}, [topic])).values())


def wait_for_count(bootstrap: str, topic: str, expected: int, worker: WorkerProcess) -> None:
    deadline = time.monotonic() + 120
    while count(bootstrap, topic) < expected:
        assert worker.alive(), worker.log_tail()
        assert time.monotonic() < deadline, f"{topic} never reached {expected}: {worker.log_tail()}"
        time.sleep(0.5)
    assert count(bootstrap, topic) == expected


@dataclass(slots=True, kw_only=True)
class Story:
    """What the three replays reported and where everything went."""

    source: str
    quarantine: str
    clean: str
    values: dict[bytes, bytes] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    source_count_before_refusal: int = 0
    source_count_after_refusal: int = 0


def replay_cli(*argv: str, code: int = 0) -> dict[str, Any]:
    """Run `dqgate quarantine replay ... --json` in process; returns its report."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exit_code = main(["quarantine", "replay", *argv, "--json"])
    assert exit_code == code, buffer.getvalue()
    report: dict[str, Any] = json.loads(buffer.getvalue())
    return report


def configs(tmp: Path, bootstrap: str, source: str) -> tuple[Path, Path]:
    """gate.yaml with the strict suite and with the fixed one, on the same group."""
    suite = json.loads(SUITE_PATH.read_text())
    for expectation in suite["expectations"]:
        if expectation["meta"]["id"] == "ethnicity_canonical_code":
            expectation["kwargs"]["value_set"].append(MISSPELLED)
    fixed_suite = tmp / "incident_reports_fixed.json"
    fixed_suite.write_text(json.dumps(suite))
    paths = []
    group = f"dqgate-test-{uuid.uuid4().hex[:12]}"
    key = tmp / "replay.key"  # shared by the gate and the replay: sealed replay counts
    key.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
    key.chmod(0o600)
    for name, suite_path in (("strict", SUITE_PATH), ("fixed", fixed_suite)):
        route_config = {"name": "incidents", "source": source, "suite": str(suite_path)}
        route_config |= {"clean": f"{source}.clean", "quarantine": f"{source}.quarantine"}
        config = {
            "kafka": {"bootstrap_servers": bootstrap},
            "group_id": group,
            "routes": [route_config],
            "commit_interval_s": 1.0,
            "session_timeout_s": 6.0,
            "replay": {"key_file": str(key)},
        }
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def story(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """Run the three replays of the module docstring around a strict, then a fixed gate."""
    tmp = tmp_path_factory.mktemp("replay-story")
    source = f"dqgate-test-replay-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=2))
    s = Story(source=source, quarantine=f"{source}.quarantine", clean=f"{source}.clean")
    feed = []
    for record in generate(BAD + GOOD, seed=5, defect_rate=0.0, missing_ethnicity_rate=0.0):
        value = json.loads(record.value)
        if record.index < BAD:
            value["ethnicity"] = MISSPELLED
        raw = json.dumps(value).encode()
        s.values[record.key] = raw
        feed.append(FeedRecord(key=record.key, value=raw, headers=(("origin", b"story"),)))
    run_sync(produce({"bootstrap_servers": kafka_bootstrap}, source, feed))
    strict, fixed = configs(tmp, kafka_bootstrap, source)
    common = ["--config", str(strict), "--max-replays", "1", "--state-dir", str(tmp / "state")]
    worker = start_worker(["--config", str(strict)], log_path=tmp / "strict.log")
    try:
        worker.wait_ready()
        wait_for_count(kafka_bootstrap, s.quarantine, BAD, worker)
        s.reports.append(replay_cli(s.quarantine, *common))
        wait_for_count(kafka_bootstrap, s.quarantine, 2 * BAD, worker)
        s.source_count_before_refusal = count(kafka_bootstrap, source)
        s.reports.append(replay_cli(s.quarantine, *common, code=3))
        s.source_count_after_refusal = count(kafka_bootstrap, source)
        assert worker.stop() == 0, worker.log_tail()
        worker = start_worker(["--config", str(fixed)], log_path=tmp / "fixed.log")
        worker.wait_ready()
        again = [*common, "--ignore-checkpoint", "--all-copies"]
        s.reports.append(replay_cli(s.quarantine, *again, code=3))
        wait_for_count(kafka_bootstrap, s.clean, GOOD + BAD, worker)
        assert worker.stop() == 0, worker.log_tail()
        yield s
    finally:
        worker.kill()


def test_first_replay_sends_every_quarantined_record_back_to_its_source(story: Story) -> None:
    """Replay #1 produces the 20 quarantined records to their source topic."""
    first = story.reports[0]
    assert first["replayed"] == BAD and first["refused"] == 0
    assert first["by_target"] == {story.source: BAD}


def test_records_that_fail_again_come_back_with_their_replay_count(
    story: Story, kafka_bootstrap: str
) -> None:
    """The strict gate quarantines the replayed records again, replay count 1 and lineage."""
    records = read_topic(kafka_bootstrap, story.quarantine)
    originals = [r for r in records if r.replay_count == 0]
    copies = [r for r in records if r.replay_count == 1]
    assert len(originals) == len(copies) == BAD
    assert {c.replay_of for c in copies} == {
        f"{r.topic}/{r.partition}/{r.offset}" for r in originals
    }


def test_replaying_beyond_max_replays_is_refused(story: Story) -> None:
    """Replay #2 resumes after its checkpoint, refuses the 20 copies and produces nothing."""
    second = story.reports[1]
    assert second["replayed"] == 0 and second["selected"] == BAD
    assert second["refused_by_cause"] == {"max_replays": BAD}
    assert story.source_count_after_refusal == story.source_count_before_refusal


def test_after_the_fix_replayed_records_land_in_clean_with_lineage(
    story: Story, kafka_bootstrap: str
) -> None:
    """The originals pass the fixed suite: in clean, same key/value/header, replay lineage."""
    third = story.reports[2]
    assert third["replayed"] == BAD and third["refused_by_cause"] == {"max_replays": BAD}
    quarantined = read_topic(kafka_bootstrap, story.quarantine)
    originals = {
        f"{r.topic}/{r.partition}/{r.offset}": r for r in quarantined if r.replay_count == 0
    }
    replayed = [r for r in read_topic(kafka_bootstrap, story.clean) if r.header(REPLAY_OF)]
    assert len(replayed) == BAD
    assert {r.replay_of for r in replayed} == set(originals)
    for record in replayed:
        original = originals[record.replay_of or ""]
        assert (record.key, record.value) == (original.key, original.value)
        assert record.value == story.values[record.key or b""]
        assert record.header(REPLAY_COUNT) == b"1"
        assert record.headers[0] == ("origin", b"story")
        assert record.source_topic == story.source and record.suite is None


def quarantine_feed(source: str, count_: int) -> list[FeedRecord]:
    target = RouteTarget(clean="c", quarantine="q", suite_name="s", suite_hash="0" * 64)
    failure = Failure(
        suite="s",
        expectation_id="e",
        type="t",
        column="c",
        reason=Reason.MISSING_FIELD,
        message="-",
    )
    verdict = Verdict(outcome=Outcome.QUARANTINE, failures=(failure,))
    feed = []
    for i in range(count_):
        source_record = SourceRecord(
            topic=source, partition=0, offset=i, timestamp=None,
            key=f"k{i}".encode(), value=f'{{"i": {i}}}'.encode(),
        )  # fmt: skip
        out = route(source_record, verdict, target)
        feed.append(FeedRecord(key=out.key, value=out.value, headers=out.headers))
    return feed


def test_a_killed_replay_resumes_without_duplicates_before_its_checkpoint(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """SIGKILL mid-replay, restart: each record once, except those after the last checkpoint.

    Records up to the checkpoint written before the kill are in the target exactly once,
    from the killed run. Records after it are there once from the restart, and perhaps once
    more from the killed run (which may have produced them before its death).
    """
    quarantine = f"dqgate-test-kill-q-{uuid.uuid4().hex}"
    target = f"dqgate-test-kill-t-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, quarantine, partitions=2))
    run_sync(create_topic(kafka_bootstrap, target, partitions=1))
    total = 300
    feed = quarantine_feed(target, total)
    for partition in (0, 1):
        run_sync(
            produce(
                {"bootstrap_servers": kafka_bootstrap},
                quarantine,
                feed[partition::2],
                partition=partition,
            )
        )
    state = tmp_path / "state"
    command = [
        sys.executable, "-m", "dqgate.cli.main", "quarantine", "replay", quarantine,
        "--bootstrap-servers", kafka_bootstrap, "--state-dir", str(state), "--json",
    ]  # fmt: skip
    slow = [*command, "--rate", "40/s", "--checkpoint-interval-s", "0.3", "--chunk-size", "10"]
    ckpt_path = Checkpoint.path_for(state, Selection(topic=quarantine), SOURCE_TARGET)
    log = tmp_path / "killed.log"
    with log.open("wb") as log_file:
        killed = subprocess.Popen(slow, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 60
        while not (ckpt_path.exists() and json.loads(ckpt_path.read_text())["replayed"] >= 60):
            assert killed.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        killed.kill()
        killed.wait()
    # Produce requests of the killed run may still land after its death: the copies are
    # told apart by their dqgate.replay.at (the killed run stamped its own before the kill,
    # the restart, a new process started after this line, later), not by counting the
    # target at some moment.
    killed_at = format_ms(time.time_ns() // 1_000_000)
    at_kill = {int(p): o for p, o in json.loads(ckpt_path.read_text())["offsets"].items()}
    handled = sum(offset + 1 for offset in at_kill.values())
    assert 60 <= handled < total  # the kill really happened mid-way, after checkpoints
    resumed = subprocess.run(command, capture_output=True, timeout=120, check=True)
    report = json.loads(resumed.stdout)
    assert report["resumed_after"] == {str(p): o for p, o in at_kill.items()}
    assert report["replayed"] == total - handled
    replayed = read_topic(kafka_bootstrap, target)
    stamps = [(r.header(REPLAY_AT) or b"").decode() for r in replayed]
    assert all(stamps)
    by_killed = Counter(
        r.replay_of for r, at in zip(replayed, stamps, strict=True) if at <= killed_at
    )
    by_restart = Counter(
        r.replay_of for r, at in zip(replayed, stamps, strict=True) if at > killed_at
    )
    coordinates = [f"{quarantine}/{p}/{o}" for p in (0, 1) for o in range(total // 2)]
    assert set(by_killed) | set(by_restart) == set(coordinates)
    assert sum(by_restart.values()) == total - handled
    for coordinate in coordinates:
        partition, offset = (int(x) for x in coordinate.rsplit("/", 2)[1:])
        if offset <= at_kill.get(partition, -1):  # checkpointed: once, by the killed run
            assert (by_killed[coordinate], by_restart[coordinate]) == (1, 0), coordinate
        else:  # after the checkpoint: once by the restart, and perhaps by the killed run
            assert by_restart[coordinate] == 1 and by_killed[coordinate] in (0, 1), coordinate
