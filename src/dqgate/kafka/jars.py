"""The broker's classpath: Apache Kafka jars resolved from Maven Central by ``mvn``.

``deploy/kafka/pom.xml`` pins the broker, its logging backend and the Maven plugin;
``fetch_jars`` runs ``mvn dependency:copy-dependencies`` (with Maven's strict repository
checksums) into ``<kafka home>/jars`` once per pom version (a marker keeps the sha256 of
the pom and of the checksum list) and, before anyone starts ``java``, checks that the
folder holds exactly the jars of ``deploy/kafka/jars.sha256`` with exactly those SHA-256
digests. The check runs again at every use, so a jar changed in the cache is refused.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from dqgate.errors import BrokerError

__all__ = [
    "CHECKSUMS_NAME",
    "KAFKA_HOME_ENV",
    "default_kafka_home",
    "fetch_jars",
    "find_pom",
    "project_root",
    "read_checksums",
    "verify_checksums",
]

KAFKA_HOME_ENV = "DQGATE_KAFKA_HOME"
POM_RELATIVE = Path("deploy") / "kafka" / "pom.xml"
MARKER_NAME = ".dqgate-complete"
CHECKSUMS_NAME = "jars.sha256"
_HEX = frozenset("0123456789abcdef")
STORAGE_TOOL_CLASS = "kafka/tools/StorageTool.class"
MVN_TIMEOUT_S = 900.0
_TAIL_LINES = 40


def project_root() -> Path:
    """The repository holding ``deploy/kafka/pom.xml``: this package's checkout, else cwd."""
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / POM_RELATIVE).is_file():
        return checkout
    return Path.cwd()


def find_pom() -> Path:
    """The broker pom, or a BrokerError saying where it was looked for."""
    pom = project_root() / POM_RELATIVE
    if not pom.is_file():
        raise BrokerError(
            f"{POM_RELATIVE} not found in the dqgate checkout nor in {Path.cwd()}; "
            "run dqgate kafka commands from the repository root"
        )
    return pom


def default_kafka_home() -> Path:
    """``$DQGATE_KAFKA_HOME`` if set, else ``.kafka`` under the repository (or cwd)."""
    env = os.environ.get(KAFKA_HOME_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return project_root() / ".kafka"


def fetch_jars(kafka_home: Path | None = None, *, pom: Path | None = None) -> Path:
    """Resolve the broker classpath into ``<kafka_home>/jars`` and return that folder.

    Skipped when the folder is complete for this pom. Raises BrokerError with the tail
    of Maven's output when ``mvn`` fails, when the jars lack the Kafka tools, or when
    they differ from the checksum list next to the pom (``jars.sha256``).
    """
    home = (kafka_home or default_kafka_home()).resolve()
    pom = (pom or find_pom()).resolve()
    checksums_path = pom.with_name(CHECKSUMS_NAME)
    expected = read_checksums(checksums_path)
    jars = home / "jars"
    digest = hashlib.sha256(pom.read_bytes() + checksums_path.read_bytes()).hexdigest()
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one download at a time for this home
        if _is_complete(jars, digest):
            verify_checksums(jars, expected, source=checksums_path)
            return jars
        staging = Path(tempfile.mkdtemp(prefix="jars-", dir=home))
        try:
            _run_mvn(pom, staging)
            verify_jars(staging)
            verify_checksums(staging, expected, source=checksums_path)
            (staging / MARKER_NAME).write_text(digest + "\n", encoding="ascii")
            if jars.exists():
                shutil.rmtree(jars)
            staging.rename(jars)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return jars


def verify_jars(jars: Path) -> Path:
    """The kafka_2.13 jar in ``jars``, checked to hold ``kafka.tools.StorageTool``."""
    candidates = sorted(jars.glob("kafka_2.13-*.jar"))
    if len(candidates) != 1:
        raise BrokerError(f"expected one kafka_2.13 jar in {jars}, found {len(candidates)}")
    try:
        with zipfile.ZipFile(candidates[0]) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise BrokerError(f"{candidates[0]} is not a readable jar: {exc}") from exc
    if STORAGE_TOOL_CLASS not in names:
        raise BrokerError(f"{candidates[0]} lacks {STORAGE_TOOL_CLASS}; delete {jars} and refetch")
    return candidates[0]


def read_checksums(path: Path) -> dict[str, str]:
    """Jar name -> SHA-256 (hex) from a ``sha256sum``-style list (``#`` comments)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BrokerError(
            f"cannot read the broker jars' checksum list {path}: {exc.strerror}; every jar "
            "is checked against it"
        ) from exc
    result: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        digest, _, name = text.partition(" ")
        name = name.strip().lstrip("*")
        if len(digest) != 64 or not set(digest) <= _HEX or not name.endswith(".jar"):
            raise BrokerError(f"{path}:{number}: expected '<sha256 hex>  <name>.jar'")
        result[name] = digest
    if not result:
        raise BrokerError(f"{path} lists no jars")
    return result


def verify_checksums(jars: Path, expected: dict[str, str], *, source: Path) -> None:
    """Raise BrokerError unless ``jars`` holds exactly the ``expected`` jars and digests."""
    present = {path.name: path for path in jars.glob("*.jar")}
    problems = [f"unexpected jar {name}" for name in sorted(set(present) - set(expected))]
    problems += [f"missing jar {name}" for name in sorted(set(expected) - set(present))]
    for name, path in sorted(present.items()):
        if name in expected:
            actual = _sha256(path)
            if actual != expected[name]:
                problems.append(f"{name} has sha256 {actual}, expected {expected[name]}")
    if problems:
        raise BrokerError(
            f"the broker jars in {jars} do not match {source}: {'; '.join(problems)}. "
            f"Delete {jars} and fetch again; if the pom was changed on purpose, update "
            f"{source.name} as its header says"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_complete(jars: Path, digest: str) -> bool:
    marker = jars / MARKER_NAME
    if not marker.is_file() or marker.read_text(encoding="ascii").strip() != digest:
        return False
    try:
        verify_jars(jars)
    except BrokerError:
        return False
    return True


def _run_mvn(pom: Path, output_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven (mvn) is not on PATH; install Maven 3.8+ to fetch the broker")
    cmd = [
        mvn,
        "-q",
        "-B",
        "--strict-checksums",  # a download whose repository checksum differs fails
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={output_dir}",
    ]
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=MVN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BrokerError(f"mvn did not finish within {MVN_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-_TAIL_LINES:])
        raise BrokerError(f"mvn failed (exit {done.returncode}) resolving {pom}:\n{tail}")
