"""``dqgate quarantine ls|show|export|tail`` against the real broker.

Quarantine topics are filled with records built by the gate's own ``route()`` (so they
carry the real dqgate headers) with known timestamps, recent ones: the broker's default
retention of 7 days would delete older records while a test runs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.kafka import run_sync
from dqgate.quarantine import QuarantineReader, Selection, parse_instant
from dqgate.routing import RouteTarget, SourceRecord, route
from dqgate.testing.feed import FeedRecord, produce
from dqgate.verdict import Failure, Outcome, Reason, Verdict

pytestmark = pytest.mark.integration

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
PARTITIONS = 3
COUNT = 900
STEP_MS = 1000
WINDOW = range(300, 450)
SECRET_NAMES = ("Nikolai Fakenbury", "Tara Stubworth")
SECRET_IDS = ("000-53-8310", "000-07-0042")


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def verdict(index: int) -> Verdict:
    reason = (Reason.MISSING_FIELD, Reason.OUT_OF_RANGE, Reason.NOT_IN_SET)[index % 3]
    failure = Failure(
        suite="incident_reports",
        expectation_id=f"exp_{reason}",
        type="expect_column_values_to_not_be_null",
        column="age" if reason is Reason.OUT_OF_RANGE else "person_id",
        reason=reason,
        message="-",
    )
    return Verdict(outcome=Outcome.QUARANTINE, failures=(failure,))


def value_of(index: int) -> bytes:
    if index % 10 == 9:  # not JSON: the whole value must be masked
        return f"R{index};{SECRET_NAMES[1]};{SECRET_IDS[1]}".encode()
    record = {"record_id": f"R{index:07d}", "person_name": SECRET_NAMES[0], "age": index}
    record["nested"] = {"id_number": SECRET_IDS[0]}
    return json.dumps(record).encode()


def fill(bootstrap: str, topic: str, base_ms: int, count: int = COUNT) -> None:
    """``count`` quarantined records, record i in partition i % 3 stamped base + i s."""
    target = RouteTarget(
        clean="c", quarantine=topic, suite_name="incident_reports", suite_hash="0" * 64
    )
    feed: dict[int, list[FeedRecord]] = {p: [] for p in range(PARTITIONS)}
    for i in range(count):
        source = SourceRecord(
            topic="incidents",
            partition=i % PARTITIONS,
            offset=i,
            timestamp=base_ms + i * STEP_MS,
            key=f"K{i:05d}".encode(),
            value=value_of(i),
            headers=(("origin", b"test"),),
        )
        out = route(source, verdict(i), target)
        feed[i % PARTITIONS].append(
            FeedRecord(
                key=out.key, value=out.value, headers=out.headers, timestamp_ms=out.timestamp_ms
            )
        )
    for partition, records in feed.items():
        run_sync(produce({"bootstrap_servers": bootstrap}, topic, records, partition=partition))


@pytest.fixture(scope="module")
def filled(kafka_bootstrap: str) -> tuple[str, int]:
    """A 3-partition quarantine topic with 900 records stamped one second apart."""
    from dqgate.kafka import create_topic

    topic = f"dqgate-test-q-read-{time.time_ns()}"
    run_sync(create_topic(kafka_bootstrap, topic, partitions=PARTITIONS))
    base_ms = int(time.time() * 1000) - 2 * 3600 * 1000
    fill(kafka_bootstrap, topic, base_ms)
    return topic, base_ms


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["quarantine", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_show_returns_exactly_the_records_of_the_window(
    filled: tuple[str, int], kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--since/--until select exactly the records stamped inside, and fetch fewer than 2x."""
    topic, base = filled
    since, until = base + WINDOW.start * STEP_MS, base + (WINDOW.stop - 1) * STEP_MS
    code, out, err = cli(
        capsys, "show", topic, "--bootstrap-servers", kafka_bootstrap,
        "--since", iso(since), "--until", iso(until), "--json",
    )  # fmt: skip
    assert code == 0
    keys = sorted(json.loads(line)["key"] for line in out.splitlines())
    assert keys == [f"K{i:05d}" for i in WINDOW]
    fetched = int(re.search(r"fetched (\d+)", err).group(1))  # type: ignore[union-attr]
    assert fetched < 2 * len(WINDOW)


def test_the_reader_fetches_fewer_than_twice_the_window(
    filled: tuple[str, int], kafka_bootstrap: str
) -> None:
    """offsets_for_times start and stop: what the broker delivers is about the window."""
    topic, base = filled
    selection = Selection(
        topic=topic,
        since=parse_instant(iso(base + WINDOW.start * STEP_MS)),
        until=parse_instant(iso(base + (WINDOW.stop - 1) * STEP_MS)),
    )

    async def read() -> tuple[int, int, int]:
        async with QuarantineReader({"bootstrap_servers": kafka_bootstrap}, selection) as reader:
            matched = [r async for r in reader.records()]
            return len(matched), reader.stats.fetched, reader.stats.planned

    matched, fetched, planned = run_sync(read())
    assert matched == len(WINDOW)
    assert fetched < 2 * len(WINDOW) and planned < 2 * len(WINDOW)
    assert fetched < COUNT / 3


def test_show_filters_by_reason_partition_and_limit(
    filled: tuple[str, int], kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--reason, --partition and --limit narrow the records shown."""
    topic, _ = filled
    code, out, _ = cli(
        capsys, "show", topic, "--bootstrap-servers", kafka_bootstrap, "--json",
        "--reason", "out_of_range", "--partition", "1", "--limit", "5",
    )  # fmt: skip
    documents = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(documents) == 5
    assert all(d["reasons"] == ["out_of_range"] and d["partition"] == 1 for d in documents)


def test_ls_reports_counts_timestamps_and_size(
    filled: tuple[str, int],
    kafka_bootstrap: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """ls over the configured routes: records, oldest/newest timestamps, size on disk."""
    topic, base = filled
    config = tmp_path / "gate.yaml"
    route_config = {"name": "incidents", "source": "incidents", "suite": str(SUITE_PATH)}
    route_config |= {"clean": "incidents.clean", "quarantine": topic}
    config.write_text(
        yaml.safe_dump({"kafka": {"bootstrap_servers": kafka_bootstrap}, "routes": [route_config]})
    )
    code, out, _ = cli(capsys, "ls", "--config", str(config), "--json")
    (summary,) = json.loads(out)["topics"]
    assert code == 0
    assert summary["routes"] == ["incidents"] and summary["partitions"] == PARTITIONS
    assert summary["records"] == COUNT
    assert (summary["oldest_ms"], summary["newest_ms"]) == (base, base + (COUNT - 1) * STEP_MS)
    assert summary["size_bytes"] > COUNT * 100


def test_ls_marks_a_missing_topic(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A topic the gate has not created yet is listed as missing, and not created by reading."""
    missing = f"dqgate-test-missing-{time.time_ns()}"
    code, out, _ = cli(capsys, "ls", "--bootstrap-servers", kafka_bootstrap, "--json", missing)
    assert code == 0 and json.loads(out)["topics"][0]["exists"] is False
    code, _, err = cli(capsys, "show", missing, "--bootstrap-servers", kafka_bootstrap)
    assert code == 2 and "does not exist" in err
    code, out, _ = cli(capsys, "ls", "--bootstrap-servers", kafka_bootstrap, "--json", missing)
    assert json.loads(out)["topics"][0]["exists"] is False  # reading did not create it


def secrets_in(text: str) -> list[str]:
    return [s for s in (*SECRET_NAMES, *SECRET_IDS) if s in text]


@pytest.mark.parametrize("command", ["show-human", "show-json", "export-jsonl", "export-csv"])
def test_redacted_fields_never_appear_without_reveal(
    filled: tuple[str, int],
    kafka_bootstrap: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
) -> None:
    """With person_name and id_number redacted, no name or id number is in the output."""
    topic, _ = filled
    common = ["--bootstrap-servers", kafka_bootstrap, "--redact", "person_name,id_number"]
    out_file = tmp_path / "out"
    match command:
        case "show-human" | "show-json":
            flags = ["--json"] if command == "show-json" else []
            code, out, _ = cli(capsys, "show", topic, *common, *flags, "--limit", "100")
        case _:
            fmt = command.removeprefix("export-")
            code, _, _ = cli(capsys, "export", topic, *common, "--format", fmt, str(out_file))
            out = out_file.read_text()
            rows = (
                len(list(csv.DictReader(io.StringIO(out))))
                if fmt == "csv"
                else len(out.splitlines())
            )
            assert rows == COUNT
    assert code == 0 and "K00009" in out
    assert secrets_in(out) == []


def test_reveal_shows_the_values_and_is_logged(
    filled: tuple[str, int],
    kafka_bootstrap: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """--reveal prints the values unmasked and logs a WARNING naming the topic."""
    topic, _ = filled
    code, out, _ = cli(
        capsys, "show", topic, "--bootstrap-servers", kafka_bootstrap, "--json",
        "--redact", "person_name,id_number", "--reveal", "--limit", "10", "--partition", "0",
    )  # fmt: skip
    assert code == 0 and sorted(secrets_in(out)) == sorted((*SECRET_NAMES, *SECRET_IDS))
    warnings = [r for r in caplog.records if r.name == "dqgate.quarantine.audit"]
    assert len(warnings) == 1 and topic in warnings[0].getMessage()
    assert not secrets_in(warnings[0].getMessage())


def test_tail_follows_newly_quarantined_records(
    kafka_bootstrap: str, new_topic: Callable[..., str]
) -> None:
    """tail prints records produced after it started, then stops at --limit."""
    topic = new_topic(partitions=PARTITIONS)
    command = [
        sys.executable, "-m", "dqgate.cli.main", "quarantine", "tail", topic,
        "--bootstrap-servers", kafka_bootstrap, "--json", "--limit", "3",
    ]  # fmt: skip
    tail = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        base = int(time.time() * 1000)
        while tail.poll() is None and time.monotonic() < deadline:
            fill(kafka_bootstrap, topic, base, count=3)
            time.sleep(0.5)
        out, err = tail.communicate(timeout=10)
    finally:
        tail.kill()
    assert tail.returncode == 0, err.decode()
    documents = [json.loads(line) for line in out.splitlines()]
    assert len(documents) == 3 and all(d["topic"] == topic for d in documents)
