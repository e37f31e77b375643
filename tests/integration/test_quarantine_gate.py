"""The quarantine commands over what the real gate quarantined from generated data.

One module-scoped run: 3,000 generated incident reports (10% defective, one defect each)
go through a ``dqgate run`` worker; then ``stats`` must equal the generator's injected
counts and ``show``/``export`` must never print a name or an id number unless
``--reveal`` is given.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.demo.generator import GeneratedRecord, generate, summarise
from dqgate.kafka import create_topic, run_sync
from dqgate.testing.audit import OutputReader, end_offsets
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import start_worker

pytestmark = pytest.mark.integration

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
COUNT = 3000
ID_NUMBER = re.compile(r"000-\d{2}-\d{4}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Gated:
    """A finished gate run: its configuration, the generated records, the topics."""

    config: Path
    records: list[GeneratedRecord]
    quarantine: str


def write_config(path: Path, bootstrap: str, source: str, **extra: Any) -> Path:
    route = {
        "name": "incidents",
        "source": source,
        "suite": str(SUITE_PATH),
        "clean": f"{source}.clean",
        "quarantine": f"{source}.quarantine",
    }
    config = {
        "kafka": {"bootstrap_servers": bootstrap},
        "group_id": f"dqgate-test-{uuid.uuid4().hex[:12]}",
        "routes": [route],
        "commit_interval_s": 1.0,
        "session_timeout_s": 6.0,
        **extra,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gated(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gated]:
    """3,000 generated records (3 partitions) routed by one gate worker, then stopped."""
    tmp = tmp_path_factory.mktemp("quarantine-gate")
    source = f"dqgate-test-qgate-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=3))
    records = list(generate(COUNT, seed=11))
    base_ms = int(time.time() * 1000) - 3600 * 1000
    feed = [
        FeedRecord(
            key=r.key,
            value=r.value,
            headers=(("origin", b"generator"),),
            timestamp_ms=base_ms + r.index,
        )
        for r in records
    ]
    options = {"bootstrap_servers": kafka_bootstrap}
    run_sync(produce(options, source, feed))
    config = write_config(tmp / "gate.yaml", kafka_bootstrap, source)
    worker = start_worker(["--config", str(config)], log_path=tmp / "worker.log")
    try:
        worker.wait_ready()

        async def routed() -> bool:
            expected = await end_offsets(options, [source])
            async with OutputReader(options, [f"{source}.clean", f"{source}.quarantine"]) as reader:
                return await reader.wait_for(expected, timeout_s=180)

        assert run_sync(routed()), worker.log_tail()
        assert worker.stop() == 0, worker.log_tail()
        yield Gated(config=config, records=records, quarantine=f"{source}.quarantine")
    finally:
        worker.kill()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["quarantine", *argv])
    return code, capsys.readouterr().out


def test_stats_by_reason_equals_the_injected_counts(
    gated: Gated, capsys: pytest.CaptureFixture[str]
) -> None:
    """stats --by reason --json counts exactly what the generator injected, per reason."""
    code, out = run_cli(
        capsys, "stats", gated.quarantine, "--config", str(gated.config), "--by", "reason", "--json"
    )
    document = json.loads(out)
    injected = summarise(gated.records)
    assert code == 0
    assert document["counts"] == dict(injected.by_reason)
    assert document["records"] == sum(injected.by_reason.values())


def test_ls_counts_the_quarantined_records(
    gated: Gated, capsys: pytest.CaptureFixture[str]
) -> None:
    """ls over the gate's configuration lists its quarantine topic with the record count."""
    code, out = run_cli(capsys, "ls", "--config", str(gated.config), "--json")
    (topic,) = json.loads(out)["topics"]
    assert code == 0 and topic["topic"] == gated.quarantine and topic["routes"] == ["incidents"]
    assert topic["records"] == sum(1 for r in gated.records if r.reason is not None)


def secrets(records: list[GeneratedRecord]) -> set[str]:
    """Every name, surname and id number of the generated JSON records."""
    found: set[str] = set()
    for record in records:
        try:
            value = json.loads(record.value)
        except ValueError:
            continue
        if isinstance(value, dict):
            for field in ("person_name", "id_number"):
                if isinstance(value.get(field), str):
                    found.add(value[field])
                    found.update(value[field].split()[1:])
    return found


@pytest.mark.parametrize(
    "argv",
    [
        ("show",),
        ("show", "--json"),
        ("show", "--reason", "undecodable"),
        ("export", "--format", "jsonl", "-"),
        ("export", "--format", "csv", "-"),
    ],
    ids=["show", "show-json", "show-undecodable", "export-jsonl", "export-csv"],
)
def test_redacted_fields_never_appear_in_show_or_export(
    gated: Gated, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    """With redact person_name,id_number no name, surname or id number is in the output."""
    command, *flags = argv
    code, out = run_cli(
        capsys, command, gated.quarantine, "--config", str(gated.config),
        "--redact", "person_name,id_number", *flags,
    )  # fmt: skip
    assert code == 0 and len(out) > 1000
    leaked = sorted(s for s in secrets(gated.records) if s in out)
    assert leaked == [] and ID_NUMBER.search(out) is None


def test_reveal_shows_names_and_id_numbers(
    gated: Gated, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same export with --reveal does contain them (the search above can find them)."""
    code, out = run_cli(
        capsys, "export", gated.quarantine, "--config", str(gated.config),
        "--redact", "person_name,id_number", "--reveal", "-",
    )  # fmt: skip
    assert code == 0 and ID_NUMBER.search(out) is not None
    assert any(s in out for s in secrets(gated.records))
