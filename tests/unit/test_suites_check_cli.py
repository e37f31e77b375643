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


PARAMETERISED = {
    "name": "adults",
    "expectations": [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "age", "min_value": {"$PARAMETER": "min_age"}, "max_value": 120},
        }
    ],
}


def test_param_lets_a_parameterised_suite_be_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a value the check fails naming the parameter; --param min_age=18 passes."""
    suite = tmp_path / "adults.json"
    suite.write_text(json.dumps(PARAMETERISED))
    assert main(["suites", "check", str(suite)]) == 2
    assert "'min_age'" in capsys.readouterr().err
    assert main(["suites", "check", str(suite), "--param", "min_age=18", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["expectations"]
    assert row["mode"] == "compiled"


def test_config_checks_its_routes_suites_with_their_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config alone: every route's suite, with the route's suite_parameters."""
    suite = tmp_path / "adults.json"
    suite.write_text(json.dumps(PARAMETERISED))
    route = {"source": "in", "suite": "adults.json", "clean": "ok", "quarantine": "bad"}
    route["suite_parameters"] = {"min_age": 18}
    config = tmp_path / "gate.yaml"
    config.write_text(
        json.dumps({"kafka": {"bootstrap_servers": "127.0.0.1:9092"}, "routes": [route]})
    )
    assert main(["suites", "check", "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["suite"] for s in out["suites"]] == ["adults"] and out["errors"] == []
    assert main(["suites", "check", str(suite), "--config", str(config)]) == 0


def test_no_argument_outside_the_repository_names_the_default_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run where there is no expectations/ folder: exit 2 naming the folder it looked in."""
    monkeypatch.chdir(tmp_path)
    assert main(["suites", "check"]) == 2
    err = capsys.readouterr().err
    assert "default folder expectations/" in err and str(tmp_path / "expectations") in err
