"""The gate on the secured broker: least-privilege ACLs, missing ones named at start-up,
SCRAM over TLS and client certificates, a refused password reported at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import AclOperation, AclResourceType, create_acls, gate_acls, run_sync
from dqgate.testing.audit import OutputReader, end_offsets
from dqgate.testing.feed import produce
from dqgate.testing.process import WorkerProcess, start_worker

from .conftest import GATE_USER, SecureBroker
from .test_gate import SUITE_PATH, feed_of

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

START_FAILURE_TIMEOUT_S = 90.0


class SecureRoute:
    """A source with its two outputs on the secured broker, and the gate's group."""

    def __init__(self, broker: SecureBroker, *, records: int = 0) -> None:
        from dqgate.kafka import create_topic

        self.broker = broker
        self.source = f"dqgate-secure-{uuid.uuid4().hex}"
        self.clean, self.quarantine = f"{self.source}.clean", f"{self.source}.quarantine"
        self.group = f"dqgate-secure-{uuid.uuid4().hex[:12]}"
        room = {"max.message.bytes": str(2 * 1024 * 1024)}  # a source record + headers
        run_sync(create_topic(broker.admin_bootstrap, self.source, partitions=2))
        for topic in (self.clean, self.quarantine):
            run_sync(create_topic(broker.admin_bootstrap, topic, partitions=2, configs=room))
        if records:
            feed = feed_of(list(generate(records, seed=11)))
            run_sync(produce(self.admin_options, self.source, feed))

    @property
    def admin_options(self) -> dict[str, Any]:
        return {"bootstrap_servers": self.broker.admin_bootstrap}

    def acls(self, principal: str = f"User:{GATE_USER}") -> list[Any]:
        return list(
            gate_acls(
                principal,
                sources=[self.source],
                outputs=[self.clean, self.quarantine],
                group=self.group,
            )
        )

    def config(self, path: Path, protocol: str, *, user: str = GATE_USER) -> Path:
        """A gate.yaml for ``user`` over ``protocol``; secrets stay out of it."""
        pki = self.broker.pki
        kafka: dict[str, Any] = {
            "bootstrap_servers": self.broker.bootstrap(protocol),
            "security_protocol": protocol,
        }
        if protocol.startswith("SASL_"):
            kafka |= {"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": user}
        if protocol in ("SSL", "SASL_SSL"):
            kafka["ssl_cafile"] = str(pki.ca_file)
        if protocol == "SSL":
            cert = pki.clients[user]
            key_password = path.with_name(f"{user}.key-password")
            key_password.write_text(f"{cert.key_password}\n", encoding="utf-8")
            kafka |= {
                "ssl_certfile": str(cert.certfile),
                "ssl_keyfile": str(cert.keyfile),
                "ssl_key_password_file": str(key_password),
            }
        config = {
            "kafka": kafka,
            "group_id": self.group,
            "routes": [
                {
                    "name": "incidents",
                    "source": self.source,
                    "suite": str(SUITE_PATH),
                    "clean": self.clean,
                    "quarantine": self.quarantine,
                }
            ],
            "commit_interval_s": 1.0,
            "session_timeout_s": 6.0,
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def read_outputs(self, *, timeout_s: float = 120.0) -> OutputReader:
        """Read both outputs (as admin) until every source offset is routed."""

        async def read() -> OutputReader:
            expected = await end_offsets(self.admin_options, [self.source])
            reader = OutputReader(
                self.admin_options,
                [self.clean, self.quarantine],
                quarantine_topics=[self.quarantine],
            )
            async with reader:
                done = await reader.wait_for(expected, timeout_s=timeout_s)
            assert done, f"not every offset was routed: {reader.missing(expected, limit=5)}"
            return reader

        return run_sync(read())


@pytest.fixture
def gate_workers(tmp_path: Path) -> Iterator[Any]:
    """Start gate workers (SASL password, if any, in the environment); killed afterwards."""
    started: list[WorkerProcess] = []

    def start(config: Path, password: str | None) -> WorkerProcess:
        env = {} if password is None else {"DQGATE_KAFKA_SASL_PASSWORD": password}
        worker = start_worker(
            ["--config", str(config)], log_path=tmp_path / f"worker-{len(started)}.log", env=env
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SSL"])
def test_gate_routes_everything_with_exactly_its_acls(
    secure_broker: SecureBroker, tmp_path: Path, gate_workers: Any, protocol: str
) -> None:
    """READ source, WRITE outputs, READ group are enough: every record routed, clean stop."""
    route = SecureRoute(secure_broker, records=1_000)
    run_sync(create_acls(secure_broker.admin_bootstrap, route.acls()))
    config = route.config(tmp_path / "gate.yaml", protocol)
    password = secure_broker.passwords[GATE_USER] if protocol.startswith("SASL_") else None
    worker = gate_workers(config, password)
    worker.wait_ready(timeout_s=120)
    route.read_outputs()
    assert worker.stop() == 0, worker.log_tail()


@pytest.mark.parametrize(
    ("dropped", "expected"),
    [
        ((AclResourceType.TOPIC, "source", AclOperation.READ), "READ on topic '{source}'"),
        (
            (AclResourceType.TOPIC, "quarantine", AclOperation.WRITE),
            "WRITE on topic '{quarantine}'",
        ),
        ((AclResourceType.GROUP, "group", AclOperation.READ), "READ on group '{group}'"),
    ],
    ids=["source-read", "quarantine-write", "group-read"],
)
def test_missing_acl_fails_at_start_naming_it(
    secure_broker: SecureBroker,
    tmp_path: Path,
    gate_workers: Any,
    dropped: tuple[AclResourceType, str, AclOperation],
    expected: str,
) -> None:
    """Without one of its ACLs the gate exits at start naming the missing permission."""
    route = SecureRoute(secure_broker)
    kind, attribute, operation = dropped
    name = getattr(route, attribute)
    acls = [
        a
        for a in route.acls()
        if (a.resource_type, a.resource_name, a.operation) != (kind, name, operation)
    ]
    run_sync(create_acls(secure_broker.admin_bootstrap, acls))
    config = route.config(tmp_path / "gate.yaml", "SASL_SSL")
    worker = gate_workers(config, secure_broker.passwords[GATE_USER])
    assert worker.popen.wait(timeout=START_FAILURE_TIMEOUT_S) != 0
    log = worker.log_tail(lines=50)
    wanted = expected.format(source=route.source, quarantine=route.quarantine, group=route.group)
    assert f"missing permission: {wanted}" in log, log
    assert f"User:{GATE_USER}" in log


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_wrong_password_is_an_authentication_error_within_seconds(
    secure_broker: SecureBroker, tmp_path: Path, gate_workers: Any, protocol: str
) -> None:
    """A refused SCRAM password ends the gate at start, saying so, without the password."""
    route = SecureRoute(secure_broker)
    run_sync(create_acls(secure_broker.admin_bootstrap, route.acls()))
    config = route.config(tmp_path / "gate.yaml", protocol)
    started = time.monotonic()
    worker = gate_workers(config, "wrong-password-31337")
    code = worker.popen.wait(timeout=START_FAILURE_TIMEOUT_S)
    log = worker.log_tail(lines=50)
    assert code != 0
    assert "authentication failed" in log and f"user '{GATE_USER}'" in log, log
    assert "wrong-password-31337" not in worker.log_path.read_text(encoding="utf-8")
    # The start itself (suite compilation, GX import) takes seconds; no connection retries.
    assert time.monotonic() - started < 45


@pytest.mark.parametrize("command", ["ls", "show"])
def test_quarantine_cli_wrong_password_says_authentication_failed(
    secure_broker: SecureBroker, tmp_path: Path, command: str
) -> None:
    """`dqgate quarantine` with a refused password exits 2 naming the cause, not the secret."""
    route = SecureRoute(secure_broker)
    config = route.config(tmp_path / "reader.yaml", "SASL_SSL")
    args = (
        ["--config", str(config)]
        if command == "ls"
        else [route.quarantine, "--config", str(config)]
    )
    env = {**os.environ, "DQGATE_KAFKA_SASL_PASSWORD": "wrong-password-27182"}
    started = time.monotonic()
    cli = [sys.executable, "-m", "dqgate.cli.main", "--log-level", "DEBUG", "quarantine"]
    done = subprocess.run(
        [*cli, command, *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "authentication failed" in output and f"user '{GATE_USER}'" in output, output
    assert "Unable to bootstrap" not in output.splitlines()[-1]
    assert "wrong-password-27182" not in output
    assert time.monotonic() - started < 30
