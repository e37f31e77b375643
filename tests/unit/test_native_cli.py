"""``dqgate suites check`` says per suite whether the native decider evaluates it."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from dqgate.cli.main import main

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    importlib.import_module("dqgate_native")
else:
    pytest.importorskip("dqgate_native", reason="the native extension is not built (make install)")

REPO = Path(__file__).resolve().parents[2]


def test_suites_check_names_the_native_suites(capsys: pytest.CaptureFixture[str]) -> None:
    """The example suite is native; the monitoring suite (windows) is not, with the reason."""
    assert main(["suites", "check", "--json", str(REPO / "expectations")]) == 0
    suites = {s["suite"]: s for s in json.loads(capsys.readouterr().out)["suites"]}
    assert suites["incident_reports"]["native"] is True
    assert suites["incident_reports_monitoring"]["native"] is False
    assert "window" in suites["incident_reports_monitoring"]["native_why"]


def test_suites_check_table_has_a_native_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table output ends with one native line per suite; DQGATE_NATIVE=0 says no."""
    suite = REPO / "expectations" / "incident_reports.json"
    assert main(["suites", "check", str(suite)]) == 0
    assert "native: incident_reports: yes" in capsys.readouterr().out
    monkeypatch.setenv("DQGATE_NATIVE", "0")
    assert main(["suites", "check", str(suite)]) == 0
    assert "native: incident_reports: no (turned off by DQGATE_NATIVE=0)" in capsys.readouterr().out
