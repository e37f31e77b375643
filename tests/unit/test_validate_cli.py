"""``dqgate validate``: verbatim outputs, the verdicts file, the summary and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dqgate.cli.main import main

SUITE = {
    "name": "people",
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "id"},
            "meta": {"id": "id_required"},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "age", "min_value": 1, "max_value": 120},
            "meta": {"id": "age"},
        },
    ],
}
LINES = [b'{"id": 1, "age": 30}', b'{"age": 0}', b"\xff\x00garbage", b'{"id": 2, "age": "x"}']


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(SUITE))
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"\n".join(LINES) + b"\n")
    return suite, data


def test_outputs_are_verbatim_and_exit_code_is_one(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Clean and quarantined lines are written byte for byte; exit 1 when any was quarantined."""
    suite, data = files
    clean, quarantine = tmp_path / "clean", tmp_path / "q"
    code = main(
        [
            "validate",
            "--suite",
            str(suite),
            str(data),
            "--clean",
            str(clean),
            "--quarantine",
            str(quarantine),
        ]
    )
    assert code == 1
    assert clean.read_bytes() == LINES[0] + b"\n"
    assert quarantine.read_bytes() == b"\n".join(LINES[1:]) + b"\n"
    err = capsys.readouterr().err
    assert "missing_field" in err and "undecodable" in err and "evaluation_error" in err


def test_verdicts_file_format(files: tuple[Path, Path], tmp_path: Path) -> None:
    """--verdicts writes one JSON object per input line, lines counted from 1."""
    suite, data = files
    out = tmp_path / "verdicts.jsonl"
    main(["validate", "--suite", str(suite), str(data), "--verdicts", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert [r["outcome"] for r in rows] == ["pass", "quarantine", "quarantine", "error"]
    failure = rows[1]["failures"][0]
    assert failure == {
        "expectation_id": "id_required",
        "type": "expect_column_values_to_not_be_null",
        "column": "id",
        "reason": "missing_field",
        "policy": "enforce",
        "message": failure["message"],
    }
    assert rows[2]["failures"][0]["reason"] == "undecodable"


def test_all_clean_exits_zero(tmp_path: Path, files: tuple[Path, Path]) -> None:
    """Exit 0 when nothing was quarantined."""
    suite, _ = files
    data = tmp_path / "ok.jsonl"
    data.write_bytes(b'{"id": 1, "age": 5}\n{"id": 2}\n')
    assert main(["validate", "--suite", str(suite), str(data)]) == 0


def test_suite_error_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken suite exits 2 with the loader's message on stderr."""
    suite = tmp_path / "bad.json"
    suite.write_text(json.dumps({"expectation_suite_name": "x", "expectations": []}))
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"{}\n")
    assert main(["validate", "--suite", str(suite), str(data)]) == 2
    assert "0.x key" in capsys.readouterr().err


def test_summary_json_counts(files: tuple[Path, Path], tmp_path: Path) -> None:
    """--summary-json has counts per outcome and per reason."""
    suite, data = files
    out = tmp_path / "summary.json"
    main(["validate", "--suite", str(suite), str(data), "--summary-json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["by_outcome"] == {"pass": 1, "quarantine": 2, "error": 1}
    assert summary["by_reason"] == {
        "evaluation_error": 1,
        "missing_field": 1,
        "out_of_range": 1,
        "undecodable": 1,
    }


PARAMETERISED = {
    "name": "adults",
    "expectations": [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "age", "min_value": {"$PARAMETER": "min_age"}, "max_value": 120},
            "meta": {"id": "adult"},
        }
    ],
}
AGES = b'{"age": 17}\n{"age": 30}\n'


@pytest.fixture
def parameterised(tmp_path: Path) -> tuple[Path, Path]:
    suite = tmp_path / "adults.json"
    suite.write_text(json.dumps(PARAMETERISED))
    data = tmp_path / "ages.jsonl"
    data.write_bytes(AGES)
    return suite, data


def gate_yaml(tmp_path: Path, suite: Path, **route: object) -> Path:
    config = tmp_path / "gate.yaml"
    base = {"source": "in", "suite": str(suite), "clean": "ok", "quarantine": "bad"}
    config.write_text(
        json.dumps({"kafka": {"bootstrap_servers": "127.0.0.1:9092"}, "routes": [base | route]})
    )
    return config


def test_param_resolves_a_suite_parameter(
    parameterised: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--param min_age=18 sets the $PARAMETER (a number): 17 is quarantined, 30 passes."""
    suite, data = parameterised
    verdicts = tmp_path / "v.jsonl"
    argv = ["validate", "--suite", str(suite), str(data), "--verdicts", str(verdicts)]
    assert main([*argv, "--param", "min_age=18"]) == 1
    outcomes = [json.loads(line)["outcome"] for line in verdicts.read_text().splitlines()]
    assert outcomes == ["quarantine", "pass"]
    capsys.readouterr()
    assert main([*argv, "--param", "min_age=10"]) == 0


def test_unset_parameter_is_named(
    parameterised: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --param or --config, the missing parameter stops validation (exit 2)."""
    suite, data = parameterised
    assert main(["validate", "--suite", str(suite), str(data)]) == 2
    assert "'min_age'" in capsys.readouterr().err


def test_config_gives_the_route_parameters_and_param_wins(
    parameterised: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--config: the route's suite_parameters apply; --param overrides them."""
    suite, data = parameterised
    config = gate_yaml(tmp_path, suite, name="adults", suite_parameters={"min_age": 18})
    argv = ["validate", "--suite", str(suite), str(data), "--config", str(config)]
    assert main(argv) == 1
    assert "parameters of route adults" in capsys.readouterr().err
    assert main([*argv, "--param", "min_age=0"]) == 0


def test_route_names_the_parameters_for_a_new_suite_file(
    parameterised: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A suite no route uses yet takes --route's parameters; an unknown route is named."""
    suite, data = parameterised
    deployed = tmp_path / "deployed.json"
    deployed.write_text(json.dumps(PARAMETERISED))
    config = gate_yaml(tmp_path, deployed, name="adults", suite_parameters={"min_age": 18})
    argv = ["validate", "--suite", str(suite), str(data), "--config", str(config)]
    assert main([*argv, "--route", "adults"]) == 1
    assert main([*argv, "--route", "nope"]) == 2
    assert "no route 'nope' (routes: adults)" in capsys.readouterr().err


def test_a_bad_param_is_a_usage_error(
    parameterised: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--param without '=' exits 2 showing the expected form."""
    suite, data = parameterised
    with pytest.raises(SystemExit) as info:
        main(["validate", "--suite", str(suite), str(data), "--param", "min_age"])
    assert info.value.code == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_a_suite_without_expectations_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty suite passes everything: exit 2, unless --allow-empty-suite."""
    suite = tmp_path / "empty.json"
    suite.write_text(json.dumps({"name": "empty", "expectations": []}))
    data = tmp_path / "in.jsonl"
    data.write_bytes(b'{"a": 1}\n')
    assert main(["validate", "--suite", str(suite), str(data)]) == 2
    assert "has no expectations" in capsys.readouterr().err
    assert main(["validate", "--suite", str(suite), str(data), "--allow-empty-suite"]) == 0
