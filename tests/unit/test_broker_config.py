"""BrokerConfig validation and the files rendered for the broker (no process, no network)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from dqgate.errors import BrokerError
from dqgate.kafka import BrokerConfig, ScramUser, new_cluster_id
from dqgate.kafka.properties import (
    LOG4J2_PROPERTIES,
    listeners_for,
    render_properties,
    scram_format_args,
)


def _parse(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _render(cfg: BrokerConfig, *, sasl_port: int | None = None) -> dict[str, str]:
    listeners = listeners_for(port=9092, controller_port=9093, sasl_port=sasl_port)
    return _parse(render_properties(cfg, listeners=listeners, log_dir=Path("/data/kraft")))


@pytest.fixture
def cfg(tmp_path: Path) -> BrokerConfig:
    """A default config on a temporary data dir."""
    return BrokerConfig(data_dir=tmp_path)


def test_one_node_keys(cfg: BrokerConfig) -> None:
    """The node is a combined broker+controller with replication factors of one."""
    props = _render(cfg)
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "default.replication.factor",
        "min.insync.replicas",
    ):
        assert props[key] == "1", key


def test_fast_test_and_small_box_keys(cfg: BrokerConfig) -> None:
    """Group joins are immediate, internal topics have one partition, pools are small."""
    props = _render(cfg)
    expected = {
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "log.cleaner.threads": "1",
        "log.cleaner.dedupe.buffer.size": "33554432",
    }
    assert {key: props[key] for key in expected} == expected


def test_loopback_listeners(cfg: BrokerConfig) -> None:
    """Listeners, advertised listeners and the quorum voter all use 127.0.0.1."""
    props = _render(cfg)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["log.dirs"] == "/data/kraft"
    assert "localhost" not in render_properties(
        cfg, listeners=listeners_for(port=1, controller_port=2, sasl_port=3), log_dir=Path("/d")
    )


def test_sasl_listener_keys(tmp_path: Path) -> None:
    """A SASL port adds an advertised SCRAM-SHA-512 listener with its JAAS line."""
    cfg = BrokerConfig(data_dir=tmp_path, sasl_port=0)
    props = _render(cfg, sasl_port=9094)
    assert props["listeners"].endswith(",SASL_PLAINTEXT://127.0.0.1:9094")
    assert props["advertised.listeners"].endswith(",SASL_PLAINTEXT://127.0.0.1:9094")
    assert "SASL_PLAINTEXT:SASL_PLAINTEXT" in props["listener.security.protocol.map"]
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.sasl_plaintext.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    jaas = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert jaas == "org.apache.kafka.common.security.scram.ScramLoginModule required;"


def test_extra_properties_override_defaults(tmp_path: Path) -> None:
    """extra_properties are written last and win over the defaults."""
    cfg = BrokerConfig(
        data_dir=tmp_path,
        extra_properties={"num.io.threads": "4", "auto.create.topics.enable": "false"},
    )
    props = _render(cfg)
    assert (props["num.io.threads"], props["auto.create.topics.enable"]) == ("4", "false")


def test_values_are_escaped(tmp_path: Path) -> None:
    """Backslashes and newlines in values cannot inject extra properties."""
    cfg = BrokerConfig(data_dir=tmp_path, extra_properties={"a.b": "x\\y\nnode.id=7"})
    props = _render(cfg)
    assert props["a.b"] == "x\\\\y\\nnode.id=7"
    assert props["node.id"] == "1"


def test_unresolved_port_is_refused(cfg: BrokerConfig) -> None:
    """Rendering a listener on port 0 fails: ports are resolved before writing."""
    with pytest.raises(BrokerError, match="no resolved port"):
        render_properties(
            cfg,
            listeners=listeners_for(port=0, controller_port=9093, sasl_port=None),
            log_dir=Path("/d"),
        )


def test_cluster_id_format() -> None:
    """A cluster id is 22 URL-safe base64 characters of 16 random bytes."""
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cluster_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_log4j2_config_logs_info_to_console() -> None:
    """The log4j2 file sends INFO to the console, so the readiness line is logged."""
    assert "rootLogger.level = INFO" in LOG4J2_PROPERTIES
    assert "appender.console.type = Console" in LOG4J2_PROPERTIES


def test_scram_format_args() -> None:
    """Each SCRAM user becomes one --add-scram argument for StorageTool."""
    users = (ScramUser(name="alice", password="pw1"), ScramUser(name="bob", password="pw2"))
    assert scram_format_args(users) == [
        "--add-scram",
        "SCRAM-SHA-512=[name=alice,password=pw1]",
        "--add-scram",
        "SCRAM-SHA-512=[name=bob,password=pw2]",
    ]


def test_scram_password_is_not_in_repr() -> None:
    """A ScramUser's repr names the user but never shows the password."""
    assert "hunter2" not in repr(ScramUser(name="alice", password="hunter2"))


@pytest.mark.parametrize("password", ["a,b", "", "x]y"])
def test_scram_password_rejects_unquotable(password: str) -> None:
    """Passwords StorageTool cannot take (comma, brackets, empty) are refused."""
    with pytest.raises(BrokerError, match="password"):
        ScramUser(name="alice", password=password)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 70000}, "port=70000"),
        ({"port": 9092, "controller_port": 9092}, "must differ"),
        ({"scram_users": (ScramUser(name="a", password="b"),)}, "needs sasl_port"),
        ({"heap_max_mb": 128}, "at least 256"),
        ({"start_timeout_s": 0}, "must be > 0"),
    ],
)
def test_invalid_config_fails_loudly(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    """Impossible BrokerConfig values raise BrokerError naming the field."""
    with pytest.raises(BrokerError, match=message):
        BrokerConfig(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_cluster_id_never_starts_with_a_dash() -> None:
    """A leading '-' would be parsed as an option by StorageTool (a flaky format failure)."""
    # 1 in 64 ids would start with '-' by chance: 2,000 make a miss all but impossible
    assert not any(new_cluster_id().startswith("-") for _ in range(2_000))
