"""The container image (deploy/container/Containerfile) gating records on the test broker.

The image is built with buildah (``deploy/container/build.sh``, as ``make image`` does)
on the local base image (``deploy/container/base-image.sh``: no registry can be reached
here), then run with podman and runc, ``--network host`` so that it reaches the
session's broker on 127.0.0.1, ``--read-only`` as the Helm chart runs it, with the gate
configuration and the suite mounted read-only (nothing is baked in). Builds are cached
by buildah's layers, so only the first build on a machine is slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.tools import CONTAINERS_CONF, ROOT, missing, tool
from dqgate.demo.generator import generate
from dqgate.kafka import create_topic, run_sync
from dqgate.kafka.ports import free_ports
from dqgate.testing.audit import OutputReader, end_offsets
from dqgate.testing.feed import FeedRecord, produce

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

IMAGE = "localhost/dqgate:test"
BASE_IMAGE = "localhost/dqgate-base:bookworm"
SUITE = ROOT / "expectations" / "incident_reports.json"
RECORDS = 3_000
IMAGE_UID = 10001


def podman_env(tmp: Path) -> dict[str, str]:
    """podman's environment: runc, cgroupfs, no default ulimits (see install-tools.sh)."""
    conf = CONTAINERS_CONF
    if not conf.is_file():
        conf = tmp / "containers.conf"
        conf.write_text(
            "[containers]\ndefault_ulimits = []\n"
            '[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n',
            encoding="utf-8",
        )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


class Podman:
    """podman with this machine's configuration; every call's output captured."""

    def __init__(self, env: dict[str, str]) -> None:
        self.path = tool("podman")
        self.env = env

    def __call__(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.path, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=self.env,
            check=False,
        )


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    """podman, after the base image and the dqgate image were built (or found current)."""
    for name in ("buildah", "podman", "runc"):
        tool(name)
    if os.geteuid() != 0:
        missing("building and running the image here needs root (buildah chroot, runc)")
    env = podman_env(tmp_path_factory.mktemp("podman"))
    runner = Podman(env)
    if runner("image", "exists", BASE_IMAGE).returncode != 0:
        tool("debootstrap")
    for script, extra in (
        ("base-image.sh", {}),
        ("build.sh", {"IMAGE_BASE": BASE_IMAGE, "IMAGE_TAG": IMAGE}),
    ):
        result = subprocess.run(
            ["sh", str(ROOT / "deploy" / "container" / script)],
            capture_output=True,
            text=True,
            timeout=2000,
            env={**env, "IMAGE_PRUNE": "1", **extra},
            check=False,
        )
        assert result.returncode == 0, f"{script} failed:\n{result.stdout[-4000:]}{result.stderr}"
    assert runner("image", "exists", IMAGE).returncode == 0
    yield runner


def inspect(podman: Podman, *args: str) -> Any:
    result = podman(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_image_metadata(podman: Podman) -> None:
    """Non-root user, exec-form dqgate entrypoint, SIGTERM, OCI labels with our version."""
    (image,) = inspect(podman, "image", "inspect", IMAGE)
    config = image["Config"]
    assert config["User"] == f"{IMAGE_UID}:{IMAGE_UID}"
    assert config["Entrypoint"] == ["dqgate"]
    assert config["Cmd"] == ["run", "--config", "/etc/dqgate/gate.yaml"]
    assert config["StopSignal"] == "SIGTERM"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == project["project"]["version"]
    assert labels["org.opencontainers.image.title"] == "dqgate"
    assert labels["org.opencontainers.image.licenses"] == project["project"]["license"]
    assert "/tmp" in config["Volumes"]


def test_image_has_no_configuration_baked_in(podman: Podman) -> None:
    """Without a mounted gate.yaml the gate stops at start-up (exit 2), naming the file."""
    result = podman("run", "--rm", "--read-only", "--no-healthcheck", IMAGE)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "/etc/dqgate/gate.yaml" in result.stderr
    version = podman("run", "--rm", "--read-only", "--no-healthcheck", IMAGE, "--version")
    assert version.stdout.strip().startswith("dqgate ")


def test_image_native_extension_is_installed(podman: Podman) -> None:
    """The builder stage's native decider is in the image and takes the example suite."""
    script = (
        "from dqgate import compile_suite; "
        "print(compile_suite('/suites/incident_reports.json').native)"
    )
    result = podman(
        "run", "--rm", "--read-only", "--no-healthcheck",
        "-v", f"{SUITE.parent}:/suites:ro",
        "--entrypoint", "python3", IMAGE, "-c", script,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def _config_dir(tmp: Path, bootstrap: str, source: str, port: int) -> tuple[Path, str]:
    """gate.yaml and the suite in a directory the image's user can read; (dir, group)."""
    folder = tmp / "etc-dqgate"
    (folder / "suites").mkdir(parents=True)
    shutil.copy(SUITE, folder / "suites" / SUITE.name)
    group = f"dqgate-container-{uuid.uuid4().hex[:12]}"
    config = {
        "kafka": {"bootstrap_servers": bootstrap},
        "group_id": group,
        "routes": [
            {
                "name": "incidents",
                "source": source,
                "suite": f"suites/{SUITE.name}",
                "clean": f"{source}.clean",
                "quarantine": f"{source}.quarantine",
            }
        ],
        "commit_interval_s": 1.0,
        "session_timeout_s": 6.0,
        "shutdown_timeout_s": 30.0,
        "metrics_address": f"127.0.0.1:{port}",
    }
    (folder / "gate.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    for path in (folder, folder / "suites"):
        path.chmod(0o755)
    for path in (folder / "gate.yaml", folder / "suites" / SUITE.name):
        path.chmod(0o644)
    return folder, group


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _wait_ready(podman: Podman, name: str, url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
        if state != "true":
            pytest.fail(f"the container stopped during start:\n{podman('logs', name).stderr}")
        if _get(url) == 200:
            return
        time.sleep(0.5)
    pytest.fail(f"not ready after {timeout_s:.0f} s:\n{podman('logs', name).stderr[-4000:]}")


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}


async def _read_outputs(bootstrap: str, source: str) -> OutputReader:
    options = {"bootstrap_servers": bootstrap}
    expected = await end_offsets(options, [source])
    reader = OutputReader(
        options,
        [f"{source}.clean", f"{source}.quarantine"],
        quarantine_topics=[f"{source}.quarantine"],
    )
    async with reader:
        done = await reader.wait_for(expected, timeout_s=180)
    assert done, (
        f"not every source offset was routed; first missing: {reader.missing(expected, limit=5)}"
    )
    return reader


def test_container_gates_every_record_and_stops_cleanly(
    podman: Podman, kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Read-only, as UID 10001: every offset lands in clean or quarantine; SIGTERM exits 0."""
    source = f"dqgate-test-container-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=3))
    records = list(generate(RECORDS, seed=11))
    feed = [FeedRecord(key=r.key, value=r.value) for r in records]
    offsets = run_sync(produce({"bootstrap_servers": kafka_bootstrap}, source, feed))
    (port,) = free_ports(1)
    folder, group = _config_dir(tmp_path, kafka_bootstrap, source, port)
    name = f"dqgate-test-{uuid.uuid4().hex[:12]}"
    started = podman(
        "run", "-d", "--name", name, "--network", "host", "--read-only", "--no-healthcheck",
        "-v", f"{folder}:/etc/dqgate:ro", IMAGE,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        _wait_ready(podman, name, f"http://127.0.0.1:{port}/readyz")
        reader = run_sync(_read_outputs(kafka_bootstrap, source))
        assert set(reader.seen) == set(offsets)
        injected = {o for o, r in zip(offsets, records, strict=True) if r.reason is not None}
        assert reader.quarantined == injected
        assert reader.unlabelled == 0

        identity = podman(
            "exec", name, "python3", "-c", "import os; print(os.getuid(), os.getgid())"
        )
        assert identity.stdout.split() == [str(IMAGE_UID), str(IMAGE_UID)]
        write = podman("exec", name, "python3", "-c", "open('/opt/dqgate/probe', 'w')")
        assert write.returncode != 0
        assert "Read-only file system" in write.stderr
        (state,) = inspect(podman, "inspect", name)
        assert state["HostConfig"]["ReadonlyRootfs"] is True

        stop_started = time.monotonic()
        assert podman("kill", "--signal", "TERM", name).returncode == 0
        waited = podman("wait", name, timeout_s=60)
        assert time.monotonic() - stop_started < 30
        assert waited.stdout.strip() == "0", podman("logs", name).stderr[-4000:]
        logs = podman("logs", name).stderr
        assert "Traceback" not in logs
        committed = run_sync(_committed(kafka_bootstrap, group, source))
        ends = run_sync(end_offsets({"bootstrap_servers": kafka_bootstrap}, [source]))
        assert committed == {partition: end for (_, partition), end in ends.items()}
    finally:
        podman("rm", "-f", name)
