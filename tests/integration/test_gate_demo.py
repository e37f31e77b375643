"""The streaming demo end to end, with a small record count (its own broker)."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dqgate.demo.run import run_demo

pytestmark = pytest.mark.integration


def test_demo_routes_every_record_and_prints_the_summary(kafka_jars: Path, tmp_path: Path) -> None:
    """run_demo starts everything, matches injected defects, prints the summary, stops."""
    out = io.StringIO()
    assert run_demo(3000, 7, False, data_dir=tmp_path / "demo", out=out) == 0
    text = out.getvalue()
    assert "routed 3,000 records" in text
    assert "quarantined by reason" in text and "differs" not in text
    assert "ethnicity_completeness" in text
    assert "/metrics" in text and "incidents.quarantine" in text
    assert text.rstrip().endswith("broker stopped")


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT", "SSL"])
def test_secured_demo_runs_every_client_as_its_own_principal(
    kafka_jars: Path, tmp_path: Path, protocol: str
) -> None:
    """--secure: gate, producer and operator over the protocol, least privilege, no secret."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH: the secured demo's certificates need it")
    data = tmp_path / "demo"
    command = [
        sys.executable, "-m", "dqgate.cli.main", "demo", "run", "--count", "1000",
        "--data-dir", str(data), "--secure", protocol, "--keep-running",
    ]  # fmt: skip
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)
            if "keep running" in line:
                break
        text = "".join(lines)
        assert "routed 1,000 records" in text and "differs" not in text, text
        assert f"connect over {protocol}" in text
        operator = data / "operator.yaml"
        stats = subprocess.run(
            [sys.executable, "-m", "dqgate.cli.main", "quarantine", "stats",
             "incidents.quarantine", "--config", str(operator), "--json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert stats.returncode == 0, stats.stdout + stats.stderr
        assert json.loads(stats.stdout)["records"] > 0
        # The operator may read the quarantine, not the clean topic (least privilege).
        clean = subprocess.run(
            [sys.executable, "-m", "dqgate.cli.main", "quarantine", "show",
             "incidents.clean", "--config", str(operator), "--limit", "1"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert clean.returncode != 0
    finally:
        demo.send_signal(signal.SIGTERM)
        rest, _ = demo.communicate(timeout=120)
    assert demo.returncode == 0, "".join(lines) + rest
    secrets_dir = data.with_name("demo-secrets")
    passwords = [p.read_text().strip() for p in secrets_dir.glob("*.password")]
    assert len(passwords) == 4
    for config in data.glob("*.yaml"):
        content = config.read_text(encoding="utf-8")
        assert not any(p in content for p in passwords), config
    assert not any(p in "".join(lines) + rest for p in passwords)
    assert all(p.stat().st_mode & 0o077 == 0 for p in secrets_dir.glob("*.password"))
