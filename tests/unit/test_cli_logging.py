"""``--log-level``: dqgate's own lines at the chosen level, GX's import-time noise kept out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_gx_import_lines_stay_out_of_the_log(tmp_path: Path, level: str) -> None:
    """`dqgate --log-level INFO|DEBUG validate` prints no great_expectations log line."""
    records = tmp_path / "in.jsonl"
    records.write_text('{"person_id": 1}\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "dqgate.cli.main", "--log-level", level,
         "validate", "--suite", str(SUITE), str(records)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    gx_lines = [line for line in result.stderr.splitlines() if " great_expectations" in line]
    assert gx_lines == [], gx_lines[:3]
    assert "ephemeral docs site" not in result.stderr
    assert "suite incident_reports" in result.stderr  # the summary is still there


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_dqgate_own_lines_still_show_at_the_chosen_level(level: str) -> None:
    """configure_logging keeps dqgate.* at the level while GX, imported after it, is quiet."""
    code = (
        "import logging; from dqgate.cli.main import configure_logging; "
        f"configure_logging({level!r}); import great_expectations; "
        f"logging.getLogger('dqgate.quarantine.reader').log(logging.{level}, 'mine-%s', 1); "
        "logging.getLogger('great_expectations.x').info('theirs')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert f"{level} dqgate.quarantine.reader: mine-1" in result.stderr
    assert "great_expectations" not in result.stderr
