"""``dqgate quarantine``: parsers, usage errors and configuration errors (no broker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dqgate.cli.main import main
from dqgate.config import load_config
from dqgate.redact import configured_fields

SUBCOMMANDS = ("ls", "show", "stats", "export", "replay", "tail")


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`dqgate quarantine --help` names ls, show, stats, export, replay and tail."""
    with pytest.raises(SystemExit) as exit_info:
        main(["quarantine", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SUBCOMMANDS)


def test_building_the_parser_imports_no_kafka_client() -> None:
    """The quarantine commands keep `dqgate --help` free of aiokafka, faust and GX."""
    code = (
        "import sys; from dqgate.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('aiokafka', 'faust', 'great_expectations') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_bad_time_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--since yesterday exits 2 and says which forms are accepted."""
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "quarantine",
                "show",
                "q",
                "--bootstrap-servers",
                "127.0.0.1:1",
                "--since",
                "yesterday",
            ]
        )
    assert exit_info.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_an_unknown_reason_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--reason only takes the closed set of reason classes."""
    with pytest.raises(SystemExit) as exit_info:
        main(["quarantine", "stats", "q", "--bootstrap-servers", "127.0.0.1:1", "--reason", "bad"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_connection_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, --bootstrap-servers or the environment: exit 2 naming all three."""
    monkeypatch.delenv("DQGATE_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert main(["quarantine", "show", "q"]) == 2
    err = capsys.readouterr().err
    assert "--config" in err and "--bootstrap-servers" in err


def test_since_after_until_is_a_configuration_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A reversed window is refused before connecting."""
    argv = ["quarantine", "show", "q", "--bootstrap-servers", "127.0.0.1:1"]
    assert main([*argv, "--since", "1h", "--until", "2h"]) == 2
    assert "is after --until" in capsys.readouterr().err


def test_replaying_a_topic_into_itself_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--to the quarantine topic being replayed is a configuration error."""
    argv = ["quarantine", "replay", "q", "--to", "q", "--bootstrap-servers", "127.0.0.1:1"]
    assert main(argv) == 2
    assert "is the quarantine topic being replayed" in capsys.readouterr().err


def test_ls_without_routes_or_topics_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ls needs a configuration with routes or topic names."""
    assert main(["quarantine", "ls", "--bootstrap-servers", "127.0.0.1:1"]) == 2
    assert "no quarantine topics" in capsys.readouterr().err


def test_the_gate_configuration_redact_list_is_used(tmp_path: Path) -> None:
    """`redact:` in gate.yaml is the list the quarantine commands mask."""
    suite = tmp_path / "suite.json"
    suite.write_text('{"name": "s", "expectations": []}')
    config = tmp_path / "gate.yaml"
    route = {"source": "a", "suite": str(suite), "clean": "b", "quarantine": "c"}
    route["allow_empty_suite"] = True
    config.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap_servers": "127.0.0.1:1"},
                "routes": [route],
                "redact": ["person_name", "id_number"],
            }
        )
    )
    assert configured_fields(load_config(config, environ={})) == ("person_name", "id_number")


def test_fields_and_raw_csv_need_the_csv_format(capsys: pytest.CaptureFixture[str]) -> None:
    """--fields / --raw-csv with JSON lines is a usage error, before connecting."""
    argv = ["quarantine", "export", "q", "-", "--bootstrap-servers", "127.0.0.1:1"]
    assert main([*argv, "--fields", "a,b.c"]) == 2
    assert "--format csv" in capsys.readouterr().err


def test_a_bad_field_list_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--fields 'a,,b' exits 2 with the expected form."""
    argv = ["quarantine", "export", "q", "-", "--bootstrap-servers", "127.0.0.1:1"]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--format", "csv", "--fields", "a,,b"])
    assert info.value.code == 2
    assert "dotted paths" in capsys.readouterr().err


SUITE_PATH = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"


def incident_config(tmp_path: Path) -> Path:
    config = tmp_path / "gate.yaml"
    route = {"source": "incidents", "suite": str(SUITE_PATH), "clean": "ok", "quarantine": "q"}
    config.write_text(
        yaml.safe_dump({"kafka": {"bootstrap_servers": "127.0.0.1:1"}, "routes": [route]})
    )
    return config


@pytest.mark.parametrize(
    ("flag", "value", "known"),
    [
        ("--expectation", "ethnicity_canonical", "ethnicity_canonical_code"),
        ("--column", "agee", "age"),
    ],
)
def test_a_filter_no_suite_has_is_an_error_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, known: str
) -> None:
    """--expectation/--column unknown to every suite of --config: exit 2, not 0 records."""
    config = incident_config(tmp_path)
    assert main(["quarantine", "stats", "q", "--config", str(config), flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value!r}: no suite of {config}" in err
    assert f"did you mean {known!r}" in err and "Known: " in err
    assert "cannot reach Kafka" not in err  # refused before connecting


def test_a_known_filter_passes_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A filter that a suite has goes on to connect (here: no broker, a different error)."""
    config = incident_config(tmp_path)
    argv = ["quarantine", "stats", "q", "--config", str(config)]
    assert main([*argv, "--expectation", "ethnicity_canonical_code", "--column", "age"]) == 2
    assert "cannot reach Kafka" in capsys.readouterr().err


def test_exit_codes_are_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`quarantine replay --help` documents 1 nothing selected, 3 refused, 4 delivery failed."""
    with pytest.raises(SystemExit):
        main(["quarantine", "replay", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "1 nothing selected" in out and "3 replay refused some records" in out
    assert "4 replay delivery failed" in out and "--all-copies" in out
