"""``dqgate suites check``: every expectation with its mode and policy; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dqgate.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_lists_every_expectation_of_the_shipped_suites(capsys: pytest.CaptureFixture[str]) -> None:
    """All expectations of expectations/ are listed with a mode; nothing is unsupported."""
    assert main(["suites", "check", "--json", str(REPO / "expectations")]) == 0
    rows = json.loads(capsys.readouterr().out)["expectations"]
    expected = sum(
        len(json.loads(p.read_text())["expectations"])
        for p in (REPO / "expectations").glob("*.json")
    )
    assert len(rows) == expected
    modes = {r["mode"] for r in rows}
    assert modes == {"compiled", "fallback", "window"}
    assert {r["policy"] for r in rows} == {"enforce", "observe"}


def test_unsupported_expectation_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unsupported type is listed as such, with the reason, and the exit code is 1."""
    suite = tmp_path / "s.json"
    suite.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {
                        "type": "expect_column_values_to_match_like_pattern",
                        "kwargs": {"column": "a", "like_pattern": "x%"},
                    }
                ],
            }
        )
    )
    assert main(["suites", "check", str(suite)]) == 1
    captured = capsys.readouterr()
    assert "unsupported" in captured.out
    assert "SQL LIKE" in captured.err


def test_broken_suite_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A suite that cannot load is reported with the loader's message and exit 2."""
    suite = tmp_path / "s.json"
    suite.write_text(json.dumps({"expectation_suite_name": "s", "expectations": []}))
    assert main(["suites", "check", str(suite)]) == 2
    assert "0.x key" in capsys.readouterr().err
