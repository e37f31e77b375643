"""Supply chain: the constraints file, the broker jars' checksums, the audit's verdicts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dqgate.errors import BrokerError
from dqgate.kafka.jars import CHECKSUMS_NAME, find_pom, read_checksums, verify_checksums

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def _closure(name: str, extras: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed name -> version for ``name[extras]`` and everything it requires."""
    found: dict[str, str] = {}
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        try:
            dist = distribution(current)
        except PackageNotFoundError:
            continue
        key = canonicalize_name(current)
        if key in found and not wanted:
            continue
        found[key] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or any(
                req.marker.evaluate({"extra": e}) for e in wanted or ("",)
            ):
                todo.append((req.name, tuple(req.extras)))
    return found


def test_constraints_pin_every_installed_dependency() -> None:
    """constraints.txt pins every distribution of dqgate[dev] at its installed version."""
    pins = _pins()
    closure = _closure("dqgate", ("dev",))
    closure.pop("dqgate")
    unpinned = sorted(set(closure) - set(pins))
    assert not unpinned, f"not in constraints.txt (run make constraints): {unpinned}"
    drift = {n: (v, pins[n]) for n, v in closure.items() if pins[n] != v}
    assert not drift, f"installed vs constraints.txt: {drift}"


def test_constraints_are_exact_pins() -> None:
    """Every line of constraints.txt is name==version."""
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        assert not line or line.startswith("#") or re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line)


def test_broker_checksum_list_covers_the_pinned_jars() -> None:
    """jars.sha256 lists the Kafka and log4j jars of the versions the pom pins."""
    pom = find_pom()
    text = pom.read_text(encoding="utf-8")
    kafka = re.search(r"<kafka.version>([^<]+)<", text)
    log4j = re.search(r"<log4j.version>([^<]+)<", text)
    assert kafka and log4j and "<artifactId>maven-dependency-plugin</artifactId>" in text
    checksums = read_checksums(pom.with_name(CHECKSUMS_NAME))
    assert f"kafka_2.13-{kafka.group(1)}.jar" in checksums
    assert f"log4j-core-{log4j.group(1)}.jar" in checksums


@pytest.mark.parametrize(
    ("change", "message"),
    [("modify", "has sha256"), ("extra", "unexpected jar"), ("remove", "missing jar")],
)
def test_jar_checksum_mismatch_is_refused(tmp_path: Path, change: str, message: str) -> None:
    """A changed, extra or missing jar fails the check, naming it."""
    import hashlib

    jar = tmp_path / "a-1.0.jar"
    jar.write_bytes(b"original")
    expected = {jar.name: hashlib.sha256(b"original").hexdigest()}
    verify_checksums(tmp_path, expected, source=tmp_path / CHECKSUMS_NAME)
    if change == "modify":
        jar.write_bytes(b"tampered")
    elif change == "extra":
        (tmp_path / "b-1.0.jar").write_bytes(b"x")
    else:
        jar.unlink()
    with pytest.raises(BrokerError, match=message):
        verify_checksums(tmp_path, expected, source=tmp_path / CHECKSUMS_NAME)


def test_malformed_checksum_line_is_refused(tmp_path: Path) -> None:
    """A checksum list line that is not '<sha256>  <jar>' fails naming the line."""
    path = tmp_path / CHECKSUMS_NAME
    path.write_text("# header\nnot-a-digest  a.jar\n", encoding="utf-8")
    with pytest.raises(BrokerError, match=r":2: expected"):
        read_checksums(path)


def _fake_pip_audit(tmp_path: Path, dependencies: list[dict[str, object]]) -> Path:
    script = tmp_path / "pip-audit"
    report = json.dumps({"dependencies": dependencies, "fixes": []})
    script.write_text(f"#!{sys.executable}\nprint({report!r})\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def _audit(tmp_path: Path, deps: list[dict[str, object]], allow: str = "", *extra: str) -> int:
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text(allow, encoding="utf-8")
    command = [sys.executable, str(ROOT / "security" / "audit.py")]
    command += ["--pip-audit", str(_fake_pip_audit(tmp_path, deps))]
    command += ["--site-packages", str(tmp_path), "--allowlist", str(allowlist), *extra]
    return subprocess.run(command, capture_output=True, check=False, timeout=60).returncode


VULNERABLE = [
    {"name": "pkg", "version": "1.0", "vulns": [{"id": "GHSA-x", "fix_versions": ["1.1"]}]}
]
CLEAN = [{"name": "pkg", "version": "1.1", "vulns": []}]
SKIPPED = [{"name": "pkg", "skip_reason": "Dependency not found on PyPI"}]


@pytest.mark.parametrize(
    ("deps", "allow", "extra", "code"),
    [
        (CLEAN, "", (), 0),
        (VULNERABLE, "", (), 1),
        (VULNERABLE, "GHSA-x pkg 2999-01-01 not reachable from dqgate\n", (), 0),
        (VULNERABLE, "GHSA-x pkg 2000-01-01 expired decision\n", (), 1),
        (VULNERABLE, "GHSA-x\n", (), 2),
        (SKIPPED, "", (), 3),
        (SKIPPED, "", ("--allow-incomplete",), 0),
        (SKIPPED + VULNERABLE, "", ("--allow-incomplete",), 1),
    ],
    ids=["clean", "vulnerable", "allowed", "expired", "malformed", "incomplete", "incomplete-ok",
         "vulnerable-and-incomplete"],
)  # fmt: skip
def test_audit_verdicts(
    tmp_path: Path, deps: list[dict[str, object]], allow: str, extra: tuple[str, ...], code: int
) -> None:
    """The audit fails on vulnerabilities not allow-listed (or expired), never passes silently."""
    assert _audit(tmp_path, deps, allow, *extra) == code


def _site_with(tmp_path: Path, name: str, version: str) -> Path:
    """A site-packages folder holding one installed distribution's metadata."""
    site = tmp_path / "site"
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return site


def _pypi_project(tmp_path: Path, name: str, latest: str, vulns: list[dict[str, object]]) -> str:
    """A file:// stand-in for PyPI's JSON API with one project page."""
    page = tmp_path / "pypi" / name / "json"
    page.parent.mkdir(parents=True)
    page.write_text(json.dumps({"info": {"version": latest}, "vulnerabilities": vulns}))
    return (tmp_path / "pypi").as_uri()


@pytest.mark.parametrize(
    ("latest", "vulns", "code"),
    [
        ("1.0", [], 0),
        ("1.0", [{"id": "PYSEC-1", "fixed_in": ["1.1"], "withdrawn": None}], 1),
        ("1.0", [{"id": "PYSEC-2", "fixed_in": [], "withdrawn": "2026-01-01"}], 0),
        ("2.0", [], 3),
    ],
    ids=["latest-clean", "latest-vulnerable", "withdrawn", "not-latest"],
)
def test_audit_falls_back_to_the_project_json_for_the_latest_release(
    tmp_path: Path, latest: str, vulns: list[dict[str, object]], code: int
) -> None:
    """Skipped by pip-audit: audited from PyPI's project page only when installed is latest."""
    site = _site_with(tmp_path, "pkg", "1.0")
    base = _pypi_project(tmp_path, "pkg", latest, vulns)
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("", encoding="utf-8")
    command = [sys.executable, str(ROOT / "security" / "audit.py")]
    command += ["--pip-audit", str(_fake_pip_audit(tmp_path, SKIPPED))]
    command += ["--site-packages", str(site), "--allowlist", str(allowlist)]
    command += ["--pypi-json-url", base]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == code, done.stdout + done.stderr
    if code == 1:
        assert "PYSEC-1" in done.stdout
