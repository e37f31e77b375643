"""Exports that cannot attack the reader, the --reveal audit line, and empty selections
(issue 16.6 and 17.2), on the real broker."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from pathlib import Path

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.kafka import create_topic, run_sync
from dqgate.quarantine.export import FORMULA_PREFIXES
from dqgate.routing import RouteTarget, SourceRecord, route
from dqgate.testing.feed import FeedRecord, produce
from dqgate.verdict import Failure, Outcome, Reason, Verdict

pytestmark = pytest.mark.integration

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)")
SECRET = "Nikolai Fakenbury"


def fill(bootstrap: str, topic: str) -> None:
    """One quarantined record per formula: its key, a field and a header start with it."""
    target = RouteTarget(clean="c", quarantine=topic, suite_name="s", suite_hash="0" * 64)
    failure = Failure(
        suite="s", expectation_id="e", type="t", column="note",
        reason=Reason.PATTERN_MISMATCH, message="-",
    )  # fmt: skip
    verdict = Verdict(outcome=Outcome.QUARANTINE, failures=(failure,))
    feed = []
    for i, formula in enumerate(FORMULAS):
        value = {"note": formula, "person_name": SECRET, "nested": {"x": formula}}
        source = SourceRecord(
            topic="incidents", partition=0, offset=i, timestamp=int(time.time() * 1000),
            key=formula.encode(), value=json.dumps(value).encode(),
            headers=((formula, formula.encode()),),
        )  # fmt: skip
        out = route(source, verdict, target)
        feed.append(
            FeedRecord(
                key=out.key, value=out.value, headers=out.headers, timestamp_ms=out.timestamp_ms
            )
        )
    run_sync(produce({"bootstrap_servers": bootstrap}, topic, feed))


@pytest.fixture(scope="module")
def quarantine(kafka_bootstrap: str) -> str:
    topic = f"dqgate-test-export-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, topic, partitions=1))
    fill(kafka_bootstrap, topic)
    return topic


def gate_yaml(tmp_path: Path, bootstrap: str, topic: str) -> Path:
    route_config = {"source": "incidents", "suite": str(SUITE_PATH), "clean": "ok"}
    route_config["quarantine"] = topic
    config = tmp_path / "gate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": bootstrap},
                "routes": [route_config],
                "redact": ["person_name"],
                "audit_log": "audit.jsonl",
            }
        )
    )
    return config


def test_a_csv_export_contains_no_live_formula(
    quarantine: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Keys, fields (flattened with --fields), header names and texts: none starts like a
    formula; the values are all there, behind a leading quote."""
    out = tmp_path / "export.csv"
    argv = ["quarantine", "export", quarantine, "--bootstrap-servers", kafka_bootstrap]
    assert main([*argv, "--format", "csv", "--fields", "note,nested.x", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    live = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not c.lstrip("-").isdigit()]
    assert live == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["key"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert sorted(r["value.note"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert sorted(r["value.nested.x"] for r in rows) == sorted("'" + f for f in FORMULAS)
    raw = tmp_path / "raw.csv"
    assert main([*argv, "--format", "csv", "--raw-csv", str(raw)]) == 0
    raw_rows = list(csv.DictReader(io.StringIO(raw.read_text(encoding="utf-8"))))
    assert sorted(r["key"] for r in raw_rows) == sorted(FORMULAS)


def test_reveal_leaves_an_audit_line_in_the_configured_log(
    quarantine: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """export --reveal with audit_log in gate.yaml: start and end lines, 4 records shown."""
    config = gate_yaml(tmp_path, kafka_bootstrap, quarantine)
    out = tmp_path / "revealed.jsonl"
    argv = ["quarantine", "export", quarantine, "--config", str(config), str(out)]
    assert main([*argv, "--reveal", "--reason", "pattern_mismatch"]) == 0
    assert SECRET in out.read_text(encoding="utf-8")
    start, end = (json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines())
    assert (start["phase"], end["phase"]) == ("start", "end")
    assert end["topic"] == quarantine and end["command"] == "quarantine export"
    assert end["selection"]["reasons"] == ["pattern_mismatch"]
    assert (end["records"], end["outcome"]) == (len(FORMULAS), "ok")
    assert end["user"] and end["time"] and SECRET not in json.dumps(end)
    assert main([*argv]) == 0  # without --reveal: no audit line, the value masked
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 2
    assert SECRET not in out.read_text(encoding="utf-8")


def test_an_export_or_replay_selecting_nothing_says_so(
    quarantine: str, kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A window with no record: exit 1 and 'nothing selected' (not a silent 0)."""
    common = [
        "--bootstrap-servers",
        kafka_bootstrap,
        "--since",
        "2001-01-01",
        "--until",
        "2001-01-02",
    ]
    out = tmp_path / "none.jsonl"
    assert main(["quarantine", "export", quarantine, *common, str(out)]) == 1
    assert "nothing selected" in capsys.readouterr().err
    state = ["--state-dir", str(tmp_path / "state")]
    assert main(["quarantine", "replay", quarantine, *common, *state, "--to", "nowhere"]) == 1
    assert "nothing selected" in capsys.readouterr().err
