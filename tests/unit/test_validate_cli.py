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
