"""The demo shows redaction: its gate.yaml masks the personal fields, its closing lines
show how to --reveal them deliberately (no broker)."""

from __future__ import annotations

from pathlib import Path

from dqgate.config import load_config
from dqgate.demo.run import _write_config, closing_lines
from dqgate.redact import Redactor, configured_fields

SUITE = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
RECORD = b'{"person_name": "Tara Stubworth", "id_number": "000-07-0042", "age": 41}'


def test_the_demo_configuration_redacts_names_and_id_numbers(tmp_path: Path) -> None:
    """gate.yaml of the demo: redact person_name and id_number; an audit log beside it."""
    path = _write_config(tmp_path / "gate.yaml", {"bootstrap_servers": "127.0.0.1:9092"}, SUITE)
    config = load_config(path, environ={})
    assert configured_fields(config) == ("person_name", "id_number")
    assert config.audit_log == str(tmp_path / "reveal-audit.jsonl")
    shown = Redactor.of(configured_fields(config)).value(RECORD)
    assert shown.data is not None and b"Stubworth" not in shown.data
    assert b"000-07-0042" not in shown.data and b'"age":41' in shown.data


def test_the_closing_lines_show_a_deliberate_reveal(tmp_path: Path) -> None:
    """The last lines name --reveal and where it is recorded, after the masked show."""
    operator = tmp_path / "gate.yaml"
    lines = closing_lines("dqgate", operator, keep_running=True)
    reveal = [line for line in lines if line.rstrip().endswith("--reveal")]
    assert reveal == [
        f"  dqgate quarantine show incidents.quarantine --config {operator} --limit 1 --reveal"
    ]
    assert any("person_name and id_number are redacted" in line for line in lines)
    assert any(str(tmp_path / "reveal-audit.jsonl") in line for line in lines)
    assert not any("everything stops now" in line for line in lines)
    assert "everything stops now" in closing_lines("dqgate", operator, keep_running=False)[-1]
