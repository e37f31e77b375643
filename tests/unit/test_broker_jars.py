"""Locating and checking the broker jars without running Maven."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from dqgate.errors import BrokerError
from dqgate.kafka import default_kafka_home, fetch_jars
from dqgate.kafka.jars import CHECKSUMS_NAME, MARKER_NAME, find_pom, verify_jars


def _fake_kafka_jar(folder: Path, *, with_storage_tool: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    jar = folder / "kafka_2.13-4.3.1.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("kafka/Kafka.class", b"")
        if with_storage_tool:
            archive.writestr("kafka/tools/StorageTool.class", b"")
    return jar


@pytest.fixture
def pom(tmp_path: Path) -> Path:
    """A stand-in pom file, with a checksum list naming one (other) jar."""
    path = tmp_path / "pom.xml"
    path.write_text("<project/>\n", encoding="utf-8")
    _write_checksums(path, {"kafka_2.13-4.3.1.jar": "0" * 64})
    return path


def _write_checksums(pom: Path, digests: dict[str, str]) -> Path:
    lines = ["# test list"] + [f"{digest}  {name}" for name, digest in digests.items()]
    path = pom.with_name(CHECKSUMS_NAME)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _marker(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes() + pom.with_name(CHECKSUMS_NAME).read_bytes()).hexdigest()


def test_repository_pom_is_found() -> None:
    """The broker pom is found from the package's checkout."""
    assert find_pom().parts[-3:] == ("deploy", "kafka", "pom.xml")


def test_kafka_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$DQGATE_KAFKA_HOME overrides the default kafka home."""
    monkeypatch.setenv("DQGATE_KAFKA_HOME", str(tmp_path))
    assert default_kafka_home() == tmp_path.resolve()


def test_kafka_home_defaults_to_dot_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the variable the kafka home is .kafka beside deploy/."""
    monkeypatch.delenv("DQGATE_KAFKA_HOME", raising=False)
    home = default_kafka_home()
    assert home.name == ".kafka"
    assert (home.parent / "deploy" / "kafka" / "pom.xml").is_file()


def test_verify_accepts_jar_with_storage_tool(tmp_path: Path) -> None:
    """A kafka_2.13 jar holding kafka/tools/StorageTool.class passes."""
    jar = _fake_kafka_jar(tmp_path)
    assert verify_jars(tmp_path) == jar


def test_verify_rejects_jar_without_storage_tool(tmp_path: Path) -> None:
    """A kafka_2.13 jar without StorageTool is refused with the class named."""
    _fake_kafka_jar(tmp_path, with_storage_tool=False)
    with pytest.raises(BrokerError, match="StorageTool"):
        verify_jars(tmp_path)


def test_verify_rejects_missing_jar(tmp_path: Path) -> None:
    """A folder without the kafka_2.13 jar is refused."""
    with pytest.raises(BrokerError, match=r"expected one kafka_2\.13 jar"):
        verify_jars(tmp_path)


def test_complete_jars_are_not_fetched_again(
    tmp_path: Path, pom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A jars folder whose marker matches the pom is used without running mvn."""
    jars = tmp_path / "home" / "jars"
    jar = _fake_kafka_jar(jars)
    _write_checksums(pom, {jar.name: hashlib.sha256(jar.read_bytes()).hexdigest()})
    (jars / MARKER_NAME).write_text(_marker(pom) + "\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert fetch_jars(tmp_path / "home", pom=pom) == jars.resolve()


def test_missing_mvn_fails_loudly(
    tmp_path: Path, pom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a complete jars folder and without mvn, fetch raises BrokerError."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(BrokerError, match="mvn"):
        fetch_jars(tmp_path / "home", pom=pom)
    assert not (tmp_path / "home" / "jars").exists()


def test_stale_marker_triggers_fetch(
    tmp_path: Path, pom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marker for another pom version does not count as complete."""
    jars = tmp_path / "home" / "jars"
    _fake_kafka_jar(jars)
    (jars / MARKER_NAME).write_text("0" * 64 + "\n")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(BrokerError, match="mvn"):
        fetch_jars(tmp_path / "home", pom=pom)


def test_mvn_failure_reports_output_tail(
    tmp_path: Path, pom: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing mvn raises BrokerError carrying the end of its output."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "mvn"
    fake.write_text("#!/bin/sh\necho 'Could not resolve dependencies' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(BrokerError, match=r"(?s)exit 1.*Could not resolve dependencies"):
        fetch_jars(tmp_path / "home", pom=pom)
