"""The configuration's values: frozen dataclasses, enums, masked secrets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

DEFAULT_HTTP_PORT: Final = 9464
DEFAULT_HTTP_HOST: Final = "127.0.0.1"
DEFAULT_BATCH_WAIT_S: Final = 0.02
"""Longest wait to fill a batch: 0.2 s cost latency and throughput (bench/README.md)."""
_OFF: Final = frozenset({"off", "none", "false", "disabled"})


class SecurityProtocol(StrEnum):
    """How the gate talks to the brokers."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class Engine(StrEnum):
    """Which implementation runs the gate's hot path."""

    BATCH = "batch"
    """aiokafka batches, pipelined per partition (the default)."""
    FAUST = "faust"
    """A faust-streaming worker, for teams that run Faust."""


class TombstonePolicy(StrEnum):
    """Where a record with a null value (a delete on a compacted or CDC topic) goes."""

    QUARANTINE = "quarantine"
    CLEAN = "clean"


class SaslMechanism(StrEnum):
    """SASL mechanisms the gate supports."""

    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret string; ``repr`` and ``str`` never show it, :meth:`reveal` does."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The secret itself, for the one place that needs it (the Kafka client)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, kw_only=True)
class KafkaConfig:
    """Connection to the Kafka cluster."""

    bootstrap_servers: tuple[str, ...]
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: Secret | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: Secret | None = None
    client_id: str = "dqgate"

    @property
    def uses_ssl(self) -> bool:
        """True for SSL and SASL_SSL."""
        return self.security_protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    @property
    def uses_sasl(self) -> bool:
        """True for SASL_PLAINTEXT and SASL_SSL."""
        return self.security_protocol in (
            SecurityProtocol.SASL_PLAINTEXT,
            SecurityProtocol.SASL_SSL,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreakerConfig:
    """Pause a route when more than ``max_quarantine_ratio`` of its last records failed."""

    window_records: int
    max_quarantine_ratio: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteConfig:
    """One source topic, its suite and its two output topics."""

    name: str
    source: str
    suite: str
    clean: str
    quarantine: str
    circuit_breaker: CircuitBreakerConfig | None = None
    validate: bool = True
    """False: pass-through, every record to clean unevaluated (benchmarks, emergencies)."""
    suite_parameters: tuple[tuple[str, Any], ...] = ()
    """Values of the suite's ``$PARAMETER`` kwargs (name, value), e.g. thresholds per route."""
    tombstones: TombstonePolicy = TombstonePolicy.QUARANTINE
    """Null values: quarantined (reason ``tombstone``) or passed to clean unevaluated."""
    allow_empty_suite: bool = False
    """A suite without expectations passes every record: refused unless this says it is meant."""

    @property
    def outputs(self) -> tuple[str, str]:
        """The clean and quarantine topics."""
        return (self.clean, self.quarantine)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputTopicsConfig:
    """How missing output topics are created (None: like the source / as the cluster allows)."""

    partitions: int | None = None
    replication_factor: int | None = None
    max_message_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpAddress:
    """Where the worker serves /metrics, /healthz and /readyz (port 0: any free port)."""

    host: str = DEFAULT_HTTP_HOST
    port: int = DEFAULT_HTTP_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """True for ``localhost`` and loopback IPs; a wildcard or any other name is not."""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSecurityConfig:
    """TLS, authentication and control of the worker's HTTP endpoint (all off by default)."""

    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    basic_auth_username: str | None = None
    basic_auth_password: Secret | None = None
    """The scrape credential: guards /metrics, /healthz and /readyz, never the control."""
    control_enabled: bool = False
    """Serve the control endpoints (``POST /routes/<route>/resume``)."""
    control_token: Secret | None = None
    """The control credential (``Authorization: Bearer <token>``); required when enabled."""

    @property
    def uses_tls(self) -> bool:
        """True when the endpoint serves HTTPS."""
        return self.tls_certfile is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateConfig:
    """Everything a gate worker needs; built by :func:`load_config` or :func:`build_config`."""

    kafka: KafkaConfig
    routes: tuple[RouteConfig, ...]
    group_id: str = "dqgate"
    engine: Engine = Engine.BATCH
    max_in_flight_records: int = 20_000
    """Batch engine: records fetched but not yet committable, over all partitions."""
    max_in_flight_bytes: int = 64 * 1024 * 1024
    """Batch engine: bytes (keys, values, headers) of those records."""
    quarantine_stubs: bool = False
    """Accept that a record too large for its output goes to quarantine as a stub."""
    batch_size: int = 500
    batch_wait_s: float = DEFAULT_BATCH_WAIT_S
    max_record_bytes: int = 1_048_576
    regex_budget_s: float = 0.1
    """Longest one regex evaluation outside the linear-time engine may take; past it the
    record gets an evaluation_error verdict (a catastrophic pattern cannot hold a worker)."""
    commit_interval_s: float = 2.8
    shutdown_timeout_s: float = 60.0
    delivery_timeout_s: float = 120.0
    session_timeout_s: float = 45.0
    output_topics: OutputTopicsConfig = field(default_factory=OutputTopicsConfig)
    metrics_address: HttpAddress | None = field(default_factory=HttpAddress)
    http: HttpSecurityConfig = field(default_factory=HttpSecurityConfig)
    metrics_window_records: int = 10_000
    """Records in the sliding window behind dqgate_field_missing_ratio and friends."""
    metrics_created_series: bool = True
    """False: no ``*_created`` series next to counters and histograms."""
    redact: tuple[str, ...] = ()
    """Record fields the quarantine commands mask when they show values."""
    quarantine_values: bool = False
    """Opt-in: quarantined records carry ``dqgate.values`` (failing values, redacted)."""
    quarantine_values_max_bytes: int = 256
    """A failing value longer than this (as JSON) is replaced by its size in the header."""
    window_records: int = 10_000
    """Window expectations and mostly ratios close a tumbling window after this many records..."""
    window_seconds: float = 60.0
    """...or after this many seconds, whichever comes first."""
    audit_log: str | None = None
    """File where ``dqgate quarantine ... --reveal`` appends a JSON audit line (None: none)."""
    replay_key: Secret | None = None
    """The key the gate and ``dqgate quarantine replay`` share to seal replay headers
    (``replay.key_file``); without it no replay header is trusted."""
    origin: str = "<built>"


def parse_http_address(text: str | int) -> HttpAddress | None:
    """``off`` -> None; ``9464`` -> 127.0.0.1:9464; ``host:port``; ``[::1]:port``."""
    if text is False:  # YAML 1.1 reads an unquoted `off` as false
        return None
    if isinstance(text, bool):
        raise ValueError("expected a port, host:port or 'off', not true")
    if isinstance(text, int):
        host, port_text = DEFAULT_HTTP_HOST, str(text)
    else:
        s = text.strip()
        if s.lower() in _OFF:
            return None
        if s.startswith("["):
            host, _, rest = s[1:].partition("]")
            port_text = rest.removeprefix(":")
        elif ":" in s:
            host, _, port_text = s.rpartition(":")
        else:
            host, port_text = DEFAULT_HTTP_HOST, s
        host = host or DEFAULT_HTTP_HOST
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"expected a port 0-65535, host:port or 'off', got {text!r}")
    return HttpAddress(host=host, port=int(port_text))
