"""The gate over SASL_PLAINTEXT / SCRAM-SHA-512, password from the environment only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import (
    BrokerConfig,
    BrokerHandle,
    ScramUser,
    create_topic,
    run_sync,
    start_broker,
    stop_broker,
)

from .test_gate import SUITE_PATH, WorkerFactory, feed_of, options, read_all
from .test_gate import workers as workers  # the fixture

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

USER, PASSWORD = "gate", "scram-secret-4711"


@pytest.fixture(scope="module")
def sasl_broker(
    kafka_jars: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrokerHandle]:
    """A broker with a SCRAM-SHA-512 listener and one user (PLAINTEXT for test clients)."""
    config = BrokerConfig(
        data_dir=tmp_path_factory.mktemp("sasl-broker"),
        sasl_port=0,
        scram_users=(ScramUser(name=USER, password=PASSWORD),),
    )
    handle = start_broker(config, jars_dir=kafka_jars)
    try:
        yield handle
    finally:
        stop_broker(config.data_dir)


def sasl_yaml(path: Path, handle: BrokerHandle, source: str) -> Path:
    """A gate.yaml that reaches the broker through its SASL listener."""
    assert handle.sasl_bootstrap is not None
    config = {
        "kafka": {
            "bootstrap_servers": handle.sasl_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": USER,
        },
        "group_id": f"dqgate-sasl-{uuid.uuid4().hex[:8]}",
        "routes": [
            {
                "source": source,
                "suite": str(SUITE_PATH),
                "clean": f"{source}.clean",
                "quarantine": f"{source}.quarantine",
            }
        ],
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_scram_credentials_from_the_environment_route_records(
    sasl_broker: BrokerHandle, tmp_path: Path, workers: WorkerFactory
) -> None:
    """With DQGATE_KAFKA_SASL_PASSWORD the worker routes everything and never logs it."""
    from dqgate.testing.feed import produce

    source = f"dqgate-sasl-{uuid.uuid4().hex}"
    run_sync(create_topic(sasl_broker.bootstrap, source, partitions=2))
    records = list(generate(2_000, seed=2))
    run_sync(produce(options(sasl_broker.bootstrap), source, feed_of(records)))
    config = sasl_yaml(tmp_path / "gate.yaml", sasl_broker, source)
    worker = workers(config, env={"DQGATE_KAFKA_SASL_PASSWORD": PASSWORD})
    worker.wait_ready()
    reader = read_all(sasl_broker.bootstrap, source)
    assert len(reader.seen) == len(records)
    assert worker.stop() == 0
    assert PASSWORD not in worker.log_path.read_text(encoding="utf-8")


def test_wrong_password_fails_at_start_without_printing_it(
    sasl_broker: BrokerHandle, tmp_path: Path, workers: WorkerFactory
) -> None:
    """A wrong password ends the worker at start with a non-zero code; it is not logged."""
    source = f"dqgate-sasl-{uuid.uuid4().hex}"
    run_sync(create_topic(sasl_broker.bootstrap, source, partitions=1))
    config = sasl_yaml(tmp_path / "gate.yaml", sasl_broker, source)
    worker = workers(config, env={"DQGATE_KAFKA_SASL_PASSWORD": "not-the-password"})
    assert worker.popen.wait(timeout=120) != 0
    log = worker.log_path.read_text(encoding="utf-8")
    assert "cannot reach Kafka" in log
    assert "not-the-password" not in log
