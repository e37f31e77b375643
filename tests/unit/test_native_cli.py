"""``dqgate suites check`` says per suite how many checks the native decider runs, and which not."""

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


def test_suites_check_reports_every_compiled_expectation_as_native(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Both example suites (one with fallback and window expectations): all compiled, native."""
    assert main(["suites", "check", "--json", str(REPO / "expectations")]) == 0
    out = json.loads(capsys.readouterr().out)
    suites = {s["suite"]: s for s in out["suites"]}
    compiled = {
        name: sum(1 for r in out["expectations"] if r["suite"] == name and r["mode"] == "compiled")
        for name in suites
    }
    assert compiled == {"incident_reports": 14, "incident_reports_monitoring": 1}
    for name, suite in suites.items():
        assert suite["native"] is True
        assert suite["native_checks"] == suite["compiled_checks"] == compiled[name]
        assert suite["not_native"] == []


def test_suites_check_names_each_check_without_native_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check without a native form is listed with why; the suite's others stay native."""
    suite = tmp_path / "s.json"
    cfgs = [
        {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "meta": {"id": "a_exists"}},
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "a", "regex": r"(x)\1"},
            "meta": {"id": "backref"},
        },
    ]
    suite.write_text(json.dumps({"name": "s", "expectations": cfgs}))
    assert main(["suites", "check", str(suite)]) == 0
    out = capsys.readouterr().out
    assert "native: s: yes (1 of 2 compiled checks run natively)" in out
    assert "not native: backref (expect_column_values_to_match_regex): " in out


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
