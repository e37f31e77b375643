"""The opt-in ``dqgate.values`` header: failing values only, redacted, bounded (no broker)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from dqgate.config import build_config
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.processor import RouteProcessor
from dqgate.gate.values import ValuesHeader
from dqgate.metrics import GateMetrics
from dqgate.redact import MASK, Redactor
from dqgate.routing import VALUES, RouteTarget, SourceRecord
from dqgate.suites import compile_suite

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
SUITE = compile_suite(SUITE_PATH)
TARGET = RouteTarget(clean="in.clean", quarantine="in.quarantine", suite_name="s", suite_hash="h")
GOOD: dict[str, Any] = {
    "record_id": "R0000001",
    "reported_at": "2024-01-02T03:04:05+00:00",
    "person_id": "P000001",
    "birth_date": "1980-05-06",
    "age": 44,
    "ethnicity": "WHITE",
    "incident_type": "THEFT",
    "district": "D01",
    "id_number": "123-45-6789",
}


def record(**changes: Any) -> bytes:
    """A valid incident report with ``changes`` applied (None removes the field)."""
    doc = {**GOOD, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def header(raw: bytes, *fields: str, max_value_bytes: int = 256) -> Any:
    """The decoded dqgate.values header for ``raw`` (None when there is none)."""
    values = ValuesHeader(redactor=Redactor.of(fields), max_value_bytes=max_value_bytes)
    encoded = values.encode(raw, SUITE.evaluate(raw))
    return None if encoded is None else json.loads(encoded)


def test_the_header_holds_exactly_the_failing_columns_values() -> None:
    """Only the columns of enforced failures appear, with the record's values."""
    raw = record(age=150, district="north")
    assert header(raw) == {"age": 150, "district": "north"}


def test_a_redacted_failing_column_is_masked() -> None:
    """A failing column listed under redact shows the mask, not the value."""
    raw = record(id_number="123456789", age=0)
    assert header(raw, "ID_Number") == {"id_number": MASK, "age": 0}


def test_redacted_members_inside_a_failing_value_are_masked() -> None:
    """A nested failing value keeps its shape with redacted members masked."""
    raw = record(district={"name": "north", "id_number": "123-45-6789"})
    assert header(raw, "id_number") == {"district": {"name": "north", "id_number": MASK}}


def test_missing_columns_are_left_out_and_long_values_truncated() -> None:
    """A missing field has no entry; a value over the limit is replaced by its size."""
    raw = record(person_id=None, district="D" * 100)
    assert header(raw, max_value_bytes=32) == {"district": "[truncated: 102 bytes]"}


def test_decode_stage_and_observed_only_failures_get_no_header() -> None:
    """Undecodable bytes have no fields to show; a passing record has no header."""
    assert header(b"\xff{not json") is None
    observed_only = record(ethnicity=None)
    assert SUITE.evaluate(observed_only).failures  # ethnicity completeness is observed
    processor = processor_with(ValuesHeader(redactor=Redactor.of(())))
    batch = asyncio.run(processor.prepare([source(observed_only)]))
    assert not batch.outputs[0][0].endswith("quarantine")
    assert VALUES not in dict(batch.outputs[0][3])


def source(value: bytes, offset: int = 0) -> SourceRecord:
    """A consumed record on in[0]@offset (no timestamp)."""
    return SourceRecord(
        topic="in", partition=0, offset=offset, timestamp=None, key=None, value=value
    )


def processor_with(values: ValuesHeader | None) -> RouteProcessor:
    """A route processor over the mission-story suite."""
    return RouteProcessor(
        route_name="r", suite=SUITE, target=TARGET,
        metrics=GateMetrics(CollectorRegistry()), breaker=CircuitBreaker(None), values=values,
    )  # fmt: skip


@pytest.mark.parametrize("enabled", [False, True])
def test_the_processor_adds_the_header_only_when_enabled(enabled: bool) -> None:
    """Off by default: no quarantine header holds a value; on: the quarantined one has it."""
    values = ValuesHeader(redactor=Redactor.of(())) if enabled else None
    batch = asyncio.run(
        processor_with(values).prepare([source(record(age=999)), source(record(), 1)])
    )
    (q_topic, _, _, q_headers, _), (c_topic, _, _, c_headers, _) = batch.outputs
    assert q_topic == TARGET.quarantine and c_topic == TARGET.clean
    names = [name for name, _ in q_headers]
    assert (VALUES in names) is enabled
    assert VALUES not in [name for name, _ in c_headers]
    if enabled:
        assert dict(q_headers)[VALUES] == b'{"age":999}'
    else:
        assert all(b"999" not in (v or b"") for _, v in q_headers)


def test_config_keeps_values_out_unless_opted_in() -> None:
    """quarantine_values defaults to false and reads true from YAML or DQGATE_ env."""
    raw = {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "routes": [
            {"name": "r", "source": "in", "suite": str(SUITE_PATH), "clean": "c", "quarantine": "q"}
        ],
    }
    assert build_config(raw, environ={}).quarantine_values is False
    assert build_config({**raw, "quarantine_values": True}, environ={}).quarantine_values
    env = {"DQGATE_QUARANTINE_VALUES": "true", "DQGATE_QUARANTINE_VALUES_MAX_BYTES": "64"}
    config = build_config(raw, environ=env)
    assert config.quarantine_values and config.quarantine_values_max_bytes == 64
