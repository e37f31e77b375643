"""A suite mixing compiled, GX-fallback and window expectations through the streaming gate."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import create_topic, run_sync
from dqgate.routing import FAILURES
from dqgate.testing.audit import SourceOffset
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import start_worker

from .test_gate import read_all

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

ALLOWED_TRAFFIC_DISTRICTS = [f"D{n:02d}" for n in range(1, 9)]
SUITE: dict[str, Any] = {
    "name": "incident_modes",
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "record_id"},
            "meta": {"id": "record_id_required"},
        },
        {  # a pandas pass-through condition: only GX's engine can evaluate it
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {
                "column": "district",
                "value_set": ALLOWED_TRAFFIC_DISTRICTS,
                "row_condition": "incident_type.str.upper() == 'TRAFFIC'",
                "condition_parser": "pandas",
            },
            "meta": {"id": "traffic_district_patrolled"},
        },
        {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": "record_id"},
            "meta": {"id": "record_id_unique"},
        },
        {
            "type": "expect_column_mean_to_be_between",
            "kwargs": {"column": "age", "min_value": 1, "max_value": 120},
            "meta": {"id": "age_mean"},
        },
    ],
}
WINDOW_RECORDS = 500


def _expected_fallback_failure(value: bytes) -> bool:
    record = orjson.loads(value)
    traffic = str(record.get("incident_type", "")).upper() == "TRAFFIC"
    district = record.get("district")
    return traffic and district is not None and district not in ALLOWED_TRAFFIC_DISTRICTS


def _metric(text: str, name: str, expectation: str) -> float | None:
    pattern = re.compile(
        rf'^{name}\{{[^}}]*expectation="{re.escape(expectation)}"[^}}]*\}} (\S+)$', re.MULTILINE
    )
    found = pattern.search(text)
    return float(found.group(1)) if found else None


def test_compiled_fallback_and_window_expectations_in_the_stream(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Fallback verdicts quarantine exactly GX's unexpected rows; windows report metrics."""
    suite_path = tmp_path / "suite.json"
    suite_path.write_text(json.dumps(SUITE))
    source = f"dqgate-test-modes-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=2))
    records = list(generate(2_000, seed=11, defect_rate=0.0))
    feed = [FeedRecord(key=r.key, value=r.value) for r in records]
    offsets = run_sync(produce({"bootstrap_servers": kafka_bootstrap}, source, feed))
    expected = {
        offset
        for offset, r in zip(offsets, records, strict=True)
        if _expected_fallback_failure(r.value)
    }
    assert expected, "the generated data must exercise the fallback expectation"
    config = tmp_path / "gate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": kafka_bootstrap},
                "group_id": f"dqgate-test-{uuid.uuid4().hex[:12]}",
                "routes": [
                    {
                        "name": "modes",
                        "source": source,
                        "suite": str(suite_path),
                        "clean": f"{source}.clean",
                        "quarantine": f"{source}.quarantine",
                    }
                ],
                "commit_interval_s": 1.0,
                "window_records": WINDOW_RECORDS,
                "metrics_address": "127.0.0.1:0",
            }
        )
    )
    worker = start_worker(["--config", str(config)], log_path=tmp_path / "worker.log")
    try:
        worker.wait_ready()
        reader = read_all(kafka_bootstrap, source)
        quarantined: set[SourceOffset] = reader.quarantined
        assert quarantined == expected
        for record in reader.records:
            if record.topic.endswith(".quarantine"):
                failures = json.loads(record.header(FAILURES) or b"[]")
                assert [f["expectation_id"] for f in failures] == ["traffic_district_patrolled"]
        deadline = time.monotonic() + 30
        text = worker.metrics()
        while _metric(text, "dqgate_window_observed_value", "age_mean") is None:
            assert time.monotonic() < deadline, "window metrics never appeared"
            time.sleep(0.5)
            text = worker.metrics()
        assert _metric(text, "dqgate_window_expectation_success", "record_id_unique") == 1.0
        mean = _metric(text, "dqgate_window_observed_value", "age_mean")
        assert mean is not None and 18 <= mean <= 99
    finally:
        worker.kill()
