"""The streaming demo end to end, with a small record count (its own broker)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dqgate.gate.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_routes_every_record_and_prints_the_summary(kafka_jars: Path, tmp_path: Path) -> None:
    """run_demo starts everything, matches injected defects, prints the summary, stops."""
    out = io.StringIO()
    assert run_demo(3000, 7, False, data_dir=tmp_path / "demo", out=out) == 0
    text = out.getvalue()
    assert "routed 3,000 records" in text
    assert "quarantined by reason" in text and "differs" not in text
    assert "ethnicity_completeness" in text
    assert "/metrics" in text and "incidents.quarantine" in text
    assert text.rstrip().endswith("broker stopped")
