"""``--reveal`` leaves structured audit lines in the configured audit log (no broker)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.errors import ConfigError
from dqgate.quarantine.audit import EVENT, RevealAudit, audited

SELECTION = {"topic": "people.quarantine", "reasons": ["missing_field"], "limit": 5}


def audit(path: Path | None) -> RevealAudit:
    return RevealAudit(
        path=path,
        command="show",
        topic="people.quarantine",
        selection=SELECTION,
        config="gate.yaml",
        kafka_user="dq-operator",
    )


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_reveal_writes_a_start_and_an_end_line(tmp_path: Path) -> None:
    """Who, when, topic, selection and the count of records shown; file mode 0600."""
    path = tmp_path / "audit.jsonl"
    with audited(audit(path)) as tally:
        assert tally is not None
        tally.records += 7
        assert [line["phase"] for line in lines(path)] == ["start"]
    start, end = lines(path)
    assert start["event"] == end["event"] == EVENT
    assert (end["records"], end["outcome"]) == (7, "ok")
    assert end["uid"] == os.getuid() and end["user"] and end["host"] and end["time"]
    assert (end["topic"], end["selection"]) == ("people.quarantine", SELECTION)
    assert (end["command"], end["kafka_user"]) == ("quarantine show", "dq-operator")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_audit_lines_are_appended(tmp_path: Path) -> None:
    """A second reveal appends; nothing earlier is rewritten."""
    path = tmp_path / "audit.jsonl"
    for _ in range(2):
        with audited(audit(path)):
            pass
    assert [line["phase"] for line in lines(path)] == ["start", "end", "start", "end"]


@pytest.mark.parametrize(
    ("error", "outcome"), [(KeyboardInterrupt, "interrupted"), (OSError, "error")]
)
def test_the_end_line_says_how_the_command_ended(
    tmp_path: Path, error: type[BaseException], outcome: str
) -> None:
    """An interrupted or failed command still records how many records it had shown."""
    path = tmp_path / "audit.jsonl"
    with pytest.raises(error), audited(audit(path)) as tally:
        assert tally is not None
        tally.records = 3
        raise error
    assert (lines(path)[-1]["records"], lines(path)[-1]["outcome"]) == (3, outcome)


def test_an_unwritable_audit_log_refuses_the_reveal(tmp_path: Path) -> None:
    """No start line, no reveal: ConfigError before anything runs."""
    ran = False
    with (
        pytest.raises(ConfigError, match="--reveal refused"),
        audited(audit(tmp_path / "missing" / "audit.jsonl")),
    ):
        ran = True
    assert not ran


def test_the_cli_refuses_reveal_when_the_audit_log_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """$DQGATE_AUDIT_LOG unwritable: `show --reveal` exits 2 and never connects."""
    monkeypatch.setenv("DQGATE_AUDIT_LOG", str(tmp_path / "missing" / "audit.jsonl"))
    argv = ["quarantine", "show", "q", "--bootstrap-servers", "127.0.0.1:1", "--reveal"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--reveal refused" in err and "cannot reach Kafka" not in err


def test_the_configured_audit_log_records_a_cli_reveal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """audit_log in gate.yaml: `export --reveal` writes start and end (here: an error)."""
    suite = tmp_path / "suite.json"
    suite.write_text(
        '{"name": "s", "expectations": [{"type": "expect_column_values_to_not_be_null",'
        ' "kwargs": {"column": "id"}}]}'
    )
    config = tmp_path / "gate.yaml"
    route = {"source": "a", "suite": "suite.json", "clean": "b", "quarantine": "q"}
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": "127.0.0.1:1"},
                "routes": [route],
                "audit_log": "reveal.jsonl",
            }
        )
    )
    argv = ["quarantine", "export", "q", str(tmp_path / "out.jsonl"), "--config", str(config)]
    assert main([*argv, "--reveal", "--since", "2h"]) == 2  # no broker there
    start, end = lines(tmp_path / "reveal.jsonl")
    assert start["config"] == str(config) and start["command"] == "quarantine export"
    assert start["selection"]["since"] == "2h"  # type: ignore[index]
    assert (end["outcome"], end["records"]) == ("error", 0)
    assert "recorded in the audit log" in caplog.text
