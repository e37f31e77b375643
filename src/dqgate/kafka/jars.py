"""The broker's classpath: Apache Kafka jars resolved from Maven Central by ``mvn``.

``deploy/kafka/pom.xml`` names the broker and its logging backend; ``fetch_jars`` runs
``mvn dependency:copy-dependencies`` into ``<kafka home>/jars`` once per pom version
(a marker keeps the pom's sha256) and checks the jar set before anyone starts ``java``.
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
    "KAFKA_HOME_ENV",
    "default_kafka_home",
    "fetch_jars",
    "find_pom",
    "project_root",
]

KAFKA_HOME_ENV = "DQGATE_KAFKA_HOME"
POM_RELATIVE = Path("deploy") / "kafka" / "pom.xml"
MARKER_NAME = ".dqgate-complete"
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
    of Maven's output when ``mvn`` fails, or when the jars lack the Kafka tools.
    """
    home = (kafka_home or default_kafka_home()).resolve()
    pom = (pom or find_pom()).resolve()
    jars = home / "jars"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one download at a time for this home
        if _is_complete(jars, digest):
            return jars
        staging = Path(tempfile.mkdtemp(prefix="jars-", dir=home))
        try:
            _run_mvn(pom, staging)
            verify_jars(staging)
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
