"""`dqgate config check`: what deployment pipelines run on a gate.yaml before rolling it out."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deploy.tools import ROOT, dqgate

SUITE = ROOT / "expectations" / "incident_reports.json"


def write_gate(folder: Path, **extra: object) -> Path:
    """A one-route gate.yaml in ``folder`` (suite path relative to it)."""
    (folder / "suites").mkdir(exist_ok=True)
    (folder / "suites" / SUITE.name).write_bytes(SUITE.read_bytes())
    config = {
        "kafka": {"bootstrap_servers": "kafka.invalid:9092"},
        "group_id": "dqgate-check",
        "routes": [
            {
                "source": "incidents",
                "suite": f"suites/{SUITE.name}",
                "clean": "incidents.clean",
                "quarantine": "incidents.quarantine",
            }
        ],
        **extra,
    }
    path = folder / "gate.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_valid_configuration_passes_without_a_broker(tmp_path: Path) -> None:
    """Exit 0 and the routes listed, though the bootstrap server does not resolve."""
    result = dqgate("config", "check", "--config", write_gate(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["group_id"] == "dqgate-check"
    assert summary["bootstrap_servers"] == ["kafka.invalid:9092"]
    (route,) = summary["routes"]
    assert (route["route"], route["suite"]) == ("incidents", "incident_reports")
    assert route["expectations"] > 0


def test_an_unknown_key_fails_with_exit_2(tmp_path: Path) -> None:
    """A misspelt key is the same start-up error `dqgate run` gives: exit 2, named."""
    result = dqgate("config", "check", "--config", write_gate(tmp_path, batch_sise=10))
    assert result.returncode == 2
    assert "batch_sise" in result.stderr


def test_a_suite_that_does_not_compile_fails_with_exit_2(tmp_path: Path) -> None:
    """The suites are compiled too: an unresolved suite parameter stops the check."""
    gate = write_gate(tmp_path)
    suite = tmp_path / "suites" / SUITE.name
    document = json.loads(suite.read_text(encoding="utf-8"))
    document["expectations"][0]["kwargs"]["column"] = {"$PARAMETER": "id_column"}
    suite.write_text(json.dumps(document), encoding="utf-8")
    result = dqgate("config", "check", "--config", gate)
    assert result.returncode == 2
    assert "id_column" in result.stderr


def test_secrets_are_never_printed(tmp_path: Path) -> None:
    """A password read from its file appears in no output of the check."""
    secret = "s3cret-" + "x" * 20
    (tmp_path / "password").write_text(secret + "\n", encoding="utf-8")
    kafka = {
        "bootstrap_servers": "kafka.invalid:9093",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "dqgate",
        "sasl_password_file": "password",
    }
    gate = write_gate(tmp_path)
    config = yaml.safe_load(gate.read_text(encoding="utf-8"))
    gate.write_text(yaml.safe_dump({**config, "kafka": kafka}), encoding="utf-8")
    for args in ((), ("--json",)):
        result = dqgate("config", "check", "--config", gate, *args)
        assert result.returncode == 0, result.stderr
        assert secret not in result.stdout + result.stderr
