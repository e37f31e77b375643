"""What a one-node KRaft broker is configured with: :class:`BrokerConfig` and its files.

Everything here is pure (no process, no network) so it can be unit-tested: the
``server.properties`` text, the log4j2 configuration, the cluster id and the StorageTool
``--add-scram`` arguments. Listeners are rendered from :class:`Listener` values; the
secured ones (SASL_PLAINTEXT, SASL_SSL, SSL with client certificates) and the
authorizer take their keys from :mod:`dqgate.kafka.security`.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dqgate.errors import BrokerError
from dqgate.kafka.security import (
    SASL_SSL_LISTENER,
    SCRAM_MECHANISM,
    SSL_LISTENER,
    BrokerTls,
    authorizer_properties,
    sasl_properties,
    tls_properties,
)

__all__ = [
    "BROKER_LISTENER",
    "CONTROLLER_LISTENER",
    "HOST",
    "LOG4J2_PROPERTIES",
    "NODE_ID",
    "SASL_LISTENER",
    "SASL_SSL_LISTENER",
    "SCRAM_MECHANISM",
    "SSL_LISTENER",
    "BrokerConfig",
    "Listener",
    "ScramUser",
    "listeners_for",
    "new_cluster_id",
    "render_properties",
    "scram_format_args",
]

NODE_ID = 1
HOST = "127.0.0.1"
BROKER_LISTENER = "PLAINTEXT"
CONTROLLER_LISTENER = "CONTROLLER"
SASL_LISTENER = "SASL_PLAINTEXT"

# One combined broker+controller on loopback; replication factors of one; fast group
# joins; thread pools and buffers sized for a 2-core machine.
_BASE_PROPERTIES: Mapping[str, str] = MappingProxyType(
    {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.listener.names": CONTROLLER_LISTENER,
        "inter.broker.listener.name": BROKER_LISTENER,
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "log.cleaner.threads": "1",
        "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
        # Topics are created on purpose (the gate creates its outputs, tests their
        # sources): a mistyped name must fail, not appear. Metadata requests that name
        # a topic would otherwise create it.
        "auto.create.topics.enable": "false",
        # A local broker's data lives as long as its data dir: no time-based deletion,
        # so records with old timestamps (replays, time-window tests) stay readable.
        "log.retention.ms": "-1",
    }
)

# Console only: the broker's stdout/stderr go to the log file in the data dir. Without a
# log4j2 configuration Kafka 4.x logs ERRORs only and start-up failures are invisible.
LOG4J2_PROPERTIES = """\
status = warn
name = dqgate-kafka
shutdownHook = disable
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScramUser:
    """A SCRAM-SHA-512 user created when storage is formatted (exists from first start)."""

    name: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        for what, value in (("name", self.name), ("password", self.password)):
            if not value or any(c in value for c in ",=[]\n"):
                raise BrokerError(
                    f"SCRAM user {what} must be non-empty without ',', '=', '[', ']' or "
                    "newlines (StorageTool --add-scram cannot quote them)"
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerConfig:
    """How to run the project-managed broker.

    Ports of 0 are replaced by free loopback ports at start. ``sasl_port``,
    ``sasl_ssl_port`` and ``ssl_port`` of None mean no such listener; 0 means one on a
    free port. The two TLS listeners need ``tls``. ``authorizer`` turns on the KRaft
    StandardAuthorizer (``super_users`` besides ``User:ANONYMOUS``, see
    :mod:`dqgate.kafka.security`). ``extra_properties`` are written last and override
    the defaults (use with care).
    """

    data_dir: Path
    port: int = 0
    controller_port: int = 0
    sasl_port: int | None = None
    sasl_ssl_port: int | None = None
    ssl_port: int | None = None
    scram_users: tuple[ScramUser, ...] = ()
    tls: BrokerTls | None = None
    authorizer: bool = False
    super_users: tuple[str, ...] = ()
    heap_max_mb: int = 1024
    start_timeout_s: float = 90.0
    extra_properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        ports = {"port": self.port, "controller_port": self.controller_port}
        for name in ("sasl_port", "sasl_ssl_port", "ssl_port"):
            value = getattr(self, name)
            if value is not None:
                ports[name] = value
        for name, value in ports.items():
            if not 0 <= value <= 65535:
                raise BrokerError(f"BrokerConfig.{name}={value}: use 0 (free port) or 1-65535")
        fixed = [p for p in ports.values() if p]
        if len(fixed) != len(set(fixed)):
            raise BrokerError(f"BrokerConfig ports must differ: {ports}")
        if self.scram_users and self.sasl_port is None and self.sasl_ssl_port is None:
            raise BrokerError(
                "BrokerConfig.scram_users needs sasl_port or sasl_ssl_port (0 picks a free one)"
            )
        if self.tls is None and (self.sasl_ssl_port is not None or self.ssl_port is not None):
            raise BrokerError("BrokerConfig.sasl_ssl_port and ssl_port need tls (a BrokerTls)")
        if self.super_users and not self.authorizer:
            raise BrokerError("BrokerConfig.super_users needs authorizer=True")
        if self.authorizer:
            authorizer_properties(self.super_users)  # checks the principals
        if self.heap_max_mb < 256:
            raise BrokerError(f"BrokerConfig.heap_max_mb={self.heap_max_mb}: use at least 256")
        if self.start_timeout_s <= 0:
            raise BrokerError(f"BrokerConfig.start_timeout_s={self.start_timeout_s}: must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """One listener of the broker: its name, security protocol, port and own keys."""

    name: str
    protocol: str
    port: int
    advertised: bool = True
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def url(self) -> str:
        """``NAME://127.0.0.1:PORT`` as written in ``listeners``."""
        return f"{self.name}://{HOST}:{self.port}"


def listeners_for(
    *,
    port: int,
    controller_port: int,
    sasl_port: int | None,
    sasl_ssl_port: int | None = None,
    ssl_port: int | None = None,
    tls: BrokerTls | None = None,
) -> tuple[Listener, ...]:
    """The listeners of a broker on resolved (non-zero) ports."""
    result = [
        Listener(name=BROKER_LISTENER, protocol="PLAINTEXT", port=port),
        Listener(
            name=CONTROLLER_LISTENER, protocol="PLAINTEXT", port=controller_port, advertised=False
        ),
    ]
    if sasl_port is not None:
        result.append(
            Listener(
                name=SASL_LISTENER,
                protocol="SASL_PLAINTEXT",
                port=sasl_port,
                properties=sasl_properties(SASL_LISTENER),
            )
        )
    if (sasl_ssl_port is not None or ssl_port is not None) and tls is None:
        raise BrokerError("the SASL_SSL and SSL listeners need the broker's TLS material")
    if sasl_ssl_port is not None and tls is not None:
        props = {**sasl_properties(SASL_SSL_LISTENER)}
        props.update(tls_properties(SASL_SSL_LISTENER, tls, client_auth=False))
        result.append(
            Listener(
                name=SASL_SSL_LISTENER, protocol="SASL_SSL", port=sasl_ssl_port, properties=props
            )
        )
    if ssl_port is not None and tls is not None:
        result.append(
            Listener(
                name=SSL_LISTENER,
                protocol="SSL",
                port=ssl_port,
                properties=tls_properties(SSL_LISTENER, tls, client_auth=True),
            )
        )
    return tuple(result)


def render_properties(cfg: BrokerConfig, *, listeners: tuple[Listener, ...], log_dir: Path) -> str:
    """The ``server.properties`` text for ``cfg`` on the given (resolved) listeners."""
    for listener in listeners:
        if not 0 < listener.port <= 65535:
            raise BrokerError(f"listener {listener.name} has no resolved port ({listener.port})")
    controller = next(x for x in listeners if x.name == CONTROLLER_LISTENER)
    props: dict[str, str] = dict(_BASE_PROPERTIES)
    props["controller.quorum.voters"] = f"{NODE_ID}@{HOST}:{controller.port}"
    props["listeners"] = ",".join(x.url for x in listeners)
    props["advertised.listeners"] = ",".join(x.url for x in listeners if x.advertised)
    props["listener.security.protocol.map"] = ",".join(f"{x.name}:{x.protocol}" for x in listeners)
    props["log.dirs"] = str(log_dir)
    if any(x.protocol.startswith("SASL_") for x in listeners):
        props["sasl.enabled.mechanisms"] = SCRAM_MECHANISM
    for listener in listeners:
        props.update(listener.properties)
    if cfg.authorizer:
        props.update(authorizer_properties(cfg.super_users))
    props.update(cfg.extra_properties)
    lines = ["# Written by dqgate at each start; edits are overwritten."]
    lines += [f"{key}={_escape(value)}" for key, value in props.items()]
    return "\n".join(lines) + "\n"


def new_cluster_id() -> str:
    """A random KRaft cluster id: 22 characters of URL-safe base64 of a UUID4.

    Like Kafka's own ``Uuid.randomUuid``, never one that starts with ``-``: command-line
    parsers (StorageTool's among them) would take it for an option.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):
            return text


def scram_format_args(users: tuple[ScramUser, ...]) -> list[str]:
    """StorageTool ``format`` arguments that create ``users`` (SCRAM-SHA-512)."""
    args: list[str] = []
    for user in users:
        args += ["--add-scram", f"{SCRAM_MECHANISM}=[name={user.name},password={user.password}]"]
    return args


def _escape(value: str) -> str:
    """Escape a value for java.util.Properties (backslashes and line breaks)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
