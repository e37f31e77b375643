"""No record value reaches /metrics: labels come from configuration only (no broker)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from dqgate.demo.generator import generate
from dqgate.gate.circuit import CircuitBreaker
from dqgate.gate.processor import RouteProcessor
from dqgate.metrics import GateMetrics
from dqgate.routing import RouteTarget, SourceRecord
from dqgate.suites import CompiledSuite, WindowConfig, compile_suite
from dqgate.verdict import Outcome, Policy, Reason

SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
MARKER = "QZXV"


@pytest.fixture(scope="module")
def suite() -> CompiledSuite:
    """The mission-story suite with small tumbling windows, so that windows close."""
    return compile_suite(SUITE_PATH, window=WindowConfig(window_records=200))


def distinctive(count: int) -> list[bytes]:
    """Generated records whose every string carries MARKER and a serial; garbage too."""
    values: list[bytes] = []
    for n, generated in enumerate(generate(count, seed=5, defect_rate=0.3)):
        try:
            record = orjson.loads(generated.value)
        except orjson.JSONDecodeError:
            values.append(generated.value + f"{MARKER}-garbage-{n}".encode())
            continue
        if not isinstance(record, dict):
            values.append(orjson.dumps([f"{MARKER}-array-{n}"]))
            continue
        for key, field in record.items():
            if isinstance(field, str):
                record[key] = f"{field}{MARKER}{n}"
        record[f"{MARKER}_extra_field_{n}"] = 987_654_321_000 + n
        values.append(orjson.dumps(record))
    return values


async def route_all(processor: RouteProcessor, values: list[bytes]) -> None:
    """Route ``values`` through the processor in batches of 250."""
    for start in range(0, len(values), 250):
        chunk = [
            SourceRecord(
                topic="incidents.raw", partition=start % 3, offset=start + i, key=None,
                value=v, headers=(), timestamp=1_700_000_000_000 + i,
            )
            for i, v in enumerate(values[start : start + 250])
        ]  # fmt: skip
        processor.delivered(await processor.prepare(chunk))
    processor.tick()


def allowed_label_values(suite: CompiledSuite) -> set[str]:
    """Every label value the configuration can produce (plus versions and buckets)."""
    from importlib.metadata import version

    allowed = {"incidents", "", suite.name, suite.hash, version("dqgate"), "0", "1", "2"}
    allowed |= {str(o) for o in Outcome} | {str(r) for r in Reason} | {str(p) for p in Policy}
    allowed |= set(suite.columns) | set(suite.modes) | {"dqgate.decode", "dqgate.internal"}
    for e in suite.expectations:
        allowed.add(e.type)
        allowed.add(",".join(e.column) if isinstance(e.column, tuple) else e.column or "")
    return allowed


def test_no_record_value_appears_in_the_metrics_output(suite: CompiledSuite) -> None:
    """After a workload of distinctive values, /metrics holds no trace of them."""
    metrics = GateMetrics(CollectorRegistry(), window_records=500)
    target = RouteTarget(
        clean="incidents.clean", quarantine="incidents.quarantine",
        suite_name=suite.name, suite_hash=suite.hash,
    )  # fmt: skip
    processor = RouteProcessor(
        route_name="incidents", suite=suite, target=target,
        metrics=metrics, breaker=CircuitBreaker(None), windows=suite.windows,
    )  # fmt: skip
    metrics.watch_partitions(lambda: [("incidents", p, 2_000, None) for p in range(3)])
    asyncio.run(route_all(processor, distinctive(1_500)))
    text = metrics.render().decode()
    assert "dqgate_window_observed_value{" in text
    assert "dqgate_field_missing_ratio{" in text
    assert MARKER not in text
    assert MARKER.lower() not in text.lower()
    assert "987654321" not in text
    allowed = allowed_label_values(suite)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, label in sample.labels.items():
                if name != "le":
                    assert label in allowed, (sample.name, name, label)
