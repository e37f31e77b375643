"""``dqgate validate`` on 100,000 generated records reports exactly the injected defects."""

from __future__ import annotations

import json
from pathlib import Path

from dqgate.cli.main import main
from dqgate.demo.generator import generate, summarise

SUITE = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
COUNT = 100_000


def test_counts_per_reason_equal_the_injected_defects(tmp_path: Path) -> None:
    """Per-reason quarantine counts of the CLI summary equal the generator's report."""
    records = list(generate(COUNT, seed=2024))
    data = tmp_path / "records.jsonl"
    data.write_bytes(b"".join(r.value + b"\n" for r in records))
    summary_path = tmp_path / "summary.json"
    code = main(["validate", "--suite", str(SUITE), str(data), "--summary-json", str(summary_path)])
    summary = json.loads(summary_path.read_text())
    report = summarise(records)
    injected = {str(reason): n for reason, n in report.by_reason.items() if n}
    assert code == 1
    assert summary["total"] == COUNT
    assert summary["by_reason"] == injected
    assert summary["by_outcome"]["quarantine"] + summary["by_outcome"]["error"] == sum(
        injected.values()
    )
