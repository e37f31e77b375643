"""deploy/systemd: the dqgate@.service template and its credentials drop-in.

``systemd-analyze verify`` and ``security --offline`` run where systemd is installed
(they need no running systemd): the unit and the drop-in are laid out in a throw-away
root with the system's own units and a stand-in for /opt/dqgate/bin/dqgate.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy.tools import ROOT
from dqgate.config import ENV_VARS, build_config

SYSTEMD_DIR = ROOT / "deploy" / "systemd"
UNIT = SYSTEMD_DIR / "dqgate@.service"
DROP_IN = SYSTEMD_DIR / "credentials.conf"
SUITE = ROOT / "expectations" / "incident_reports.json"
INSTANCE = "dqgate@incidents.service"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def settings(path: Path, *, commented: bool = False) -> list[tuple[str, str]]:
    """(key, value) of every assignment in a unit file (``#key=value`` lines too if asked)."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if commented and text.startswith("#"):
            text = text.lstrip("# ")
        if text and not text.startswith(("#", "[")) and "=" in text:
            key, _, value = text.partition("=")
            if re.fullmatch(r"[A-Za-z]+", key):
                pairs.append((key, value))
    return pairs


def setting(path: Path, key: str) -> str:
    values = [v for k, v in settings(path) if k == key]
    assert len(values) == 1, f"{key}= appears {len(values)} times in {path.name}"
    return values[0]


def seconds(value: str) -> float:
    """A systemd time span (``90s``, ``1min 30s``, ``90``) in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


@pytest.fixture(scope="module")
def systemd_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the system's units, dqgate@.service, its drop-in and a stand-in dqgate."""
    if shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir():
        pytest.skip("systemd is not installed here: the unit is verified where it is")
    root = tmp_path_factory.mktemp("systemd-root")
    shutil.copytree(SYSTEM_UNITS, root / SYSTEM_UNITS.relative_to("/"), symlinks=True)
    units = root / "etc" / "systemd" / "system"
    (units / f"{INSTANCE}.d").mkdir(parents=True)
    shutil.copy(UNIT, units / UNIT.name)
    shutil.copy(DROP_IN, units / f"{INSTANCE}.d" / DROP_IN.name)
    executable = root / "opt" / "dqgate" / "bin" / "dqgate"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    executable.chmod(0o755)
    return root


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["systemd-analyze", *args, f"--root={root}", INSTANCE]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_systemd_analyze_verify_passes_without_a_warning(systemd_root: Path) -> None:
    """`systemd-analyze verify` accepts the instance with its drop-in, and says nothing."""
    result = analyze(systemd_root, "verify", "--man=no")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_verify_would_catch_a_misspelt_key(systemd_root: Path, tmp_path: Path) -> None:
    """The verify test is not vacuous: an unknown key in the unit is reported."""
    root = tmp_path / "root"
    shutil.copytree(systemd_root, root, symlinks=True)
    unit = root / "etc" / "systemd" / "system" / UNIT.name
    unit.write_text(unit.read_text().replace("KillSignal=", "KilSignal="), encoding="utf-8")
    result = analyze(root, "verify", "--man=no")
    assert "KilSignal" in result.stdout + result.stderr


def test_sandboxing_exposure_is_low(systemd_root: Path) -> None:
    """`systemd-analyze security --offline`: exposure at most 2.0 of 10 (OK)."""
    result = analyze(systemd_root, "security", "--offline=true", "--threshold=20")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Overall exposure level" in result.stdout


def test_stop_timeout_exceeds_the_default_graceful_stop() -> None:
    """TimeoutStopSec is above the gate's default shutdown_timeout_s (no kill mid-batch)."""
    route = {"source": "s", "suite": str(SUITE), "clean": "s.clean", "quarantine": "s.q"}
    raw = {"kafka": {"bootstrap_servers": "127.0.0.1:9092"}, "routes": [route]}
    default = build_config(raw, environ={}).shutdown_timeout_s
    assert seconds(setting(UNIT, "TimeoutStopSec")) > default


def test_stop_and_restart_settings() -> None:
    """SIGTERM to the gate, SIGKILL only at the timeout, restart after a failure."""
    assert setting(UNIT, "KillSignal") == "SIGTERM"
    assert setting(UNIT, "KillMode") == "mixed"
    assert setting(UNIT, "Restart") == "on-failure"
    assert setting(UNIT, "ExecStart").endswith("run --config /etc/dqgate/%i/gate.yaml")


def test_hardening_settings() -> None:
    """A dynamic user, a read-only system, no new privileges, no capabilities."""
    assert setting(UNIT, "DynamicUser") == "yes"
    assert setting(UNIT, "ProtectSystem") == "strict"
    assert setting(UNIT, "NoNewPrivileges") == "yes"
    assert setting(UNIT, "CapabilityBoundingSet") == ""


def test_credentials_feed_the_file_options() -> None:
    """Each DQGATE_*_FILE of the drop-in is a real option and points at its credential."""
    pairs = settings(DROP_IN, commented=True)
    credentials = {value.partition(":")[0] for key, value in pairs if key == "LoadCredential"}
    variables = [value for key, value in pairs if key == "Environment"]
    assert len(variables) >= 3
    active = dict(value.split("=", 1) for key, value in settings(DROP_IN) if key == "Environment")
    assert "DQGATE_KAFKA_SASL_PASSWORD_FILE" in active
    for variable in variables:
        name, _, path = variable.partition("=")
        assert name in ENV_VARS, f"{name} is not a dqgate environment variable"
        assert path.startswith("%d/"), f"{name} must point into the credentials directory"
        assert path.removeprefix("%d/") in credentials
