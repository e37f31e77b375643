"""The gate's configuration: ``gate.yaml`` plus ``DQGATE_*`` environment overrides.

Precedence, lowest first: the YAML file, the environment, explicit overrides (the
command line). Every scalar key has an environment variable named after its path,
upper-cased (:data:`ENV_VARS`): ``kafka.bootstrap_servers`` ->
``DQGATE_KAFKA_BOOTSTRAP_SERVERS``, ``batch_size`` -> ``DQGATE_BATCH_SIZE``. Routes come
from the file or the command line only.

Secrets (``kafka.sasl_password``, ``kafka.ssl_key_password``,
``http.basic_auth_password``) come from the environment (``DQGATE_KAFKA_SASL_PASSWORD``)
or from the file named by ``*_file``, never from the YAML itself; their ``repr`` is
masked. Relative paths written in the YAML (suites, CA file, secret files) are relative
to the YAML's directory; other relative paths are relative to the working directory.

Everything is checked before the first record is consumed. Every problem is a
:class:`~dqgate.errors.ConfigError` naming the key, where its value came from and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml

from dqgate.errors import ConfigError

__all__ = [
    "DEFAULT_HTTP_PORT",
    "ENV_VARS",
    "CircuitBreakerConfig",
    "GateConfig",
    "HttpAddress",
    "HttpSecurityConfig",
    "KafkaConfig",
    "OutputTopicsConfig",
    "RouteConfig",
    "SaslMechanism",
    "Secret",
    "SecurityProtocol",
    "build_config",
    "load_config",
    "parse_http_address",
]

DEFAULT_HTTP_PORT: Final = 9464
DEFAULT_HTTP_HOST: Final = "127.0.0.1"
_TOPIC_NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_OFF: Final = frozenset({"off", "none", "false", "disabled"})
_E = TypeVar("_E", bound=StrEnum)


class SecurityProtocol(StrEnum):
    """How the gate talks to the brokers."""

    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSecurityConfig:
    """TLS and basic authentication of the worker's HTTP endpoint (both off by default)."""

    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    basic_auth_username: str | None = None
    basic_auth_password: Secret | None = None

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
    batch_size: int = 500
    batch_wait_s: float = 0.2
    max_record_bytes: int = 1_048_576
    commit_interval_s: float = 2.8
    shutdown_timeout_s: float = 60.0
    delivery_timeout_s: float = 120.0
    session_timeout_s: float = 45.0
    output_topics: OutputTopicsConfig = field(default_factory=OutputTopicsConfig)
    metrics_address: HttpAddress | None = field(default_factory=HttpAddress)
    http: HttpSecurityConfig = field(default_factory=HttpSecurityConfig)
    metrics_window_records: int = 10_000
    """Records in the sliding window behind dqgate_field_missing_ratio and friends."""
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
    origin: str = "<built>"


# --- schema -----------------------------------------------------------------------------

_TOP_SCALARS: Final = {
    "group_id": "str",
    "batch_size": "int",
    "batch_wait_s": "float",
    "max_record_bytes": "int",
    "commit_interval_s": "float",
    "shutdown_timeout_s": "float",
    "delivery_timeout_s": "float",
    "session_timeout_s": "float",
    "metrics_address": "address",
    "metrics_window_records": "int",
    "window_records": "int",
    "window_seconds": "float",
    "quarantine_values": "bool",
    "quarantine_values_max_bytes": "int",
}
_SECTIONS: Final[dict[str, dict[str, str]]] = {
    "kafka": {
        "bootstrap_servers": "servers",
        "security_protocol": "str",
        "sasl_mechanism": "str",
        "sasl_username": "str",
        "sasl_password_file": "path",
        "ssl_cafile": "path",
        "ssl_certfile": "path",
        "ssl_keyfile": "path",
        "ssl_key_password_file": "path",
        "client_id": "str",
    },
    "output_topics": {
        "partitions": "int",
        "replication_factor": "int",
        "max_message_bytes": "int",
    },
    "circuit_breaker": {"window_records": "int", "max_quarantine_ratio": "float"},
    "http": {
        "tls_certfile": "path",
        "tls_keyfile": "path",
        "basic_auth_username": "str",
        "basic_auth_password_file": "path",
    },
}
_SECRETS: Final = {
    "sasl_password": "sasl_password_file",
    "ssl_key_password": "ssl_key_password_file",
}
_SECTION_SECRETS: Final = {
    "kafka": _SECRETS,
    "http": {"basic_auth_password": "basic_auth_password_file"},
}
_ROUTE_KEYS: Final = (
    "name",
    "source",
    "suite",
    "clean",
    "quarantine",
    "circuit_breaker",
    "validate",
    "suite_parameters",
)


def _env_vars() -> dict[str, str]:
    names = {f"DQGATE_{k.upper()}": k for k in _TOP_SCALARS}
    for section, keys in _SECTIONS.items():
        for key in keys:
            names[f"DQGATE_{section.upper()}_{key.upper()}"] = f"{section}.{key}"
    for section, secrets in _SECTION_SECRETS.items():
        for secret in secrets:
            names[f"DQGATE_{section.upper()}_{secret.upper()}"] = f"{section}.{secret}"
    return dict(sorted(names.items()))


ENV_VARS: Final = _env_vars()
"""Environment variable -> dotted key it overrides."""


class _Values:
    """Flat dotted-key values, each remembering where it came from (for error messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.bases: dict[str, Path] = {}

    def put(self, key: str, value: Any, *, origin: str, base: Path) -> None:
        self.values[key] = value
        self.origins[key] = origin
        self.bases[key] = base

    def where(self, key: str) -> str:
        return f"{key} (from {self.origins.get(key, 'defaults')})"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {problem}")


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GateConfig:
    """Read ``path`` (YAML), apply ``DQGATE_*`` from ``environ`` and ``overrides``, check all."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the gate configuration: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{file}: the top level must be a mapping of keys, not {_kind(raw)}")
    return build_config(
        raw, origin=str(file), base_dir=file.resolve().parent, environ=environ, overrides=overrides
    )


def build_config(
    raw: Mapping[str, Any],
    *,
    origin: str = "command line",
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GateConfig:
    """Build and check a GateConfig from an already-parsed mapping shaped like gate.yaml."""
    base = base_dir if base_dir is not None else Path.cwd()
    env = os.environ if environ is None else environ
    values = _Values()
    routes_raw = _flatten(raw, values, origin=origin, base=base)
    for name, key in ENV_VARS.items():
        if env.get(name, "") != "":
            values.put(key, env[name], origin=f"environment {name}", base=Path.cwd())
    for key, value in (overrides or {}).items():
        if key == "routes":
            routes_raw = (list(value), "command line", Path.cwd())
        elif value is not None:
            values.put(key, value, origin="command line", base=Path.cwd())
    breaker = _breaker(values, "circuit_breaker")
    routes = _routes(routes_raw, values, default_breaker=breaker)
    config = GateConfig(
        kafka=_kafka(values),
        routes=routes,
        group_id=_str(values, "group_id", default="dqgate"),
        batch_size=_int(values, "batch_size", default=500, minimum=1),
        batch_wait_s=_float(values, "batch_wait_s", default=0.2, minimum=0.001),
        max_record_bytes=_int(values, "max_record_bytes", default=1_048_576, minimum=1),
        commit_interval_s=_float(values, "commit_interval_s", default=2.8, minimum=0.05),
        shutdown_timeout_s=_float(values, "shutdown_timeout_s", default=60.0, minimum=1.0),
        delivery_timeout_s=_float(values, "delivery_timeout_s", default=120.0, minimum=1.0),
        session_timeout_s=_float(values, "session_timeout_s", default=45.0, minimum=6.0),
        output_topics=OutputTopicsConfig(
            partitions=_opt_int(values, "output_topics.partitions", minimum=1),
            replication_factor=_opt_int(values, "output_topics.replication_factor", minimum=1),
            max_message_bytes=_int(
                values, "output_topics.max_message_bytes", default=2 * 1024 * 1024, minimum=1024
            ),
        ),
        metrics_address=_address(values, "metrics_address"),
        http=_http(values),
        metrics_window_records=_int(values, "metrics_window_records", default=10_000, minimum=1),
        redact=_names(values, "redact"),
        quarantine_values=_bool(values, "quarantine_values", default=False),
        quarantine_values_max_bytes=_int(
            values, "quarantine_values_max_bytes", default=256, minimum=16
        ),
        window_records=_int(values, "window_records", default=10_000, minimum=1),
        window_seconds=_float(values, "window_seconds", default=60.0, minimum=0.1),
        origin=origin,
    )
    _check_topology(config.routes, origin=origin)
    return config


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


# --- flattening and typed getters ------------------------------------------------------


def _flatten(
    raw: Mapping[str, Any], values: _Values, *, origin: str, base: Path
) -> tuple[list[Any], str, Path] | None:
    known = set(_TOP_SCALARS) | set(_SECTIONS) | {"routes", "redact"}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"{origin}: unknown key {key!r} (known keys: {', '.join(sorted(known))})"
            )
        if key in _SECTIONS:
            if value is None:
                values.put(key, None, origin=origin, base=base)
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: {key} must be a mapping, not {_kind(value)}")
            for sub, subvalue in value.items():
                if sub in _SECTION_SECRETS.get(key, {}):
                    raise ConfigError(
                        f"{origin}: {key}.{sub}: secrets are never read from the config file; "
                        f"set DQGATE_{key.upper()}_{sub.upper()} or "
                        f"{key}.{_SECTION_SECRETS[key][sub]}"
                    )
                if sub not in _SECTIONS[key]:
                    raise ConfigError(
                        f"{origin}: unknown key {key}.{sub!s} "
                        f"(known keys: {', '.join(sorted(_SECTIONS[key]))})"
                    )
                values.put(f"{key}.{sub}", subvalue, origin=origin, base=base)
        elif key != "routes":
            values.put(key, value, origin=origin, base=base)
    if "routes" not in raw:
        return None
    if not isinstance(raw["routes"], list):
        raise ConfigError(f"{origin}: routes must be a list of routes, not {_kind(raw['routes'])}")
    return (list(raw["routes"]), origin, base)


def _get(values: _Values, key: str) -> Any:
    return values.values.get(key)


def _str(values: _Values, key: str, *, default: str | None = None) -> str:
    value = _get(values, key)
    if value is None:
        if default is None:
            raise values.fail(key, "is required")
        return default
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise values.fail(key, f"expected a non-empty string, got {_kind(value)}")
    return str(value).strip()


def _opt_str(values: _Values, key: str) -> str | None:
    return None if _get(values, key) is None else _str(values, key)


def _int(values: _Values, key: str, *, default: int, minimum: int) -> int:
    found = _opt_int(values, key, minimum=minimum)
    return default if found is None else found


def _opt_int(values: _Values, key: str, *, minimum: int) -> int | None:
    value = _get(values, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise values.fail(key, f"expected an integer, got {_kind(value)}")
    try:
        number = int(value)
    except ValueError:
        raise values.fail(key, f"expected an integer, got {value!r}") from None
    if number < minimum:
        raise values.fail(key, f"must be at least {minimum}, got {number}")
    return number


def _float(
    values: _Values, key: str, *, default: float, minimum: float, maximum: float | None = None
) -> float:
    value = _get(values, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise values.fail(key, f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise values.fail(key, f"expected a number, got {value!r}") from None
    if not minimum <= number or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise values.fail(key, f"must be {bound}, got {number}")
    return number


def _names(values: _Values, key: str) -> tuple[str, ...]:
    value = _get(values, key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise values.fail(key, f"expected a list of field names, got {_kind(value)}")
    return tuple(value)


def _bool(values: _Values, key: str, *, default: bool) -> bool:
    value = _get(values, key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise values.fail(key, f"expected true or false, got {value!r}")


def _path(values: _Values, key: str) -> str | None:
    text = _opt_str(values, key)
    if text is None:
        return None
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = values.bases.get(key, Path.cwd()) / path
    if not path.is_file():
        raise values.fail(key, f"file {path} does not exist or is not a file")
    return str(path)


def _secret(values: _Values, key: str) -> Secret | None:
    direct = _get(values, key)
    if direct is not None:
        return Secret(str(direct))
    section, name = key.split(".", 1)
    file_key = f"{section}.{_SECTION_SECRETS[section][name]}"
    path = _path(values, file_key)
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise values.fail(file_key, f"cannot read the secret file: {exc}") from exc
    if not text:
        raise values.fail(file_key, f"the secret file {path} is empty")
    return Secret(text)


def _address(values: _Values, key: str) -> HttpAddress | None:
    value = _get(values, key)
    if value is None:
        return HttpAddress()
    try:
        return parse_http_address(value)
    except (ValueError, TypeError) as exc:
        raise values.fail(key, str(exc)) from None


def _enum(values: _Values, key: str, enum: type[_E]) -> _E | None:
    text = _opt_str(values, key)
    if text is None:
        return None
    try:
        return enum(text.upper())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise values.fail(key, f"{text!r} is not one of {allowed}") from None


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


# --- sections ---------------------------------------------------------------------------


def _kafka(values: _Values) -> KafkaConfig:
    servers = _servers(values, "kafka.bootstrap_servers")
    protocol = _enum(values, "kafka.security_protocol", SecurityProtocol)
    mechanism = _enum(values, "kafka.sasl_mechanism", SaslMechanism)
    config = KafkaConfig(
        bootstrap_servers=servers,
        security_protocol=protocol or SecurityProtocol.PLAINTEXT,
        sasl_mechanism=mechanism,
        sasl_username=_opt_str(values, "kafka.sasl_username"),
        sasl_password=_secret(values, "kafka.sasl_password"),
        ssl_cafile=_path(values, "kafka.ssl_cafile"),
        ssl_certfile=_path(values, "kafka.ssl_certfile"),
        ssl_keyfile=_path(values, "kafka.ssl_keyfile"),
        ssl_key_password=_secret(values, "kafka.ssl_key_password"),
        client_id=_str(values, "kafka.client_id", default="dqgate"),
    )
    proto = "kafka.security_protocol"
    if config.uses_sasl:
        if config.sasl_mechanism is None:
            raise values.fail(
                proto,
                f"{config.security_protocol} needs kafka.sasl_mechanism "
                f"({', '.join(m.value for m in SaslMechanism)})",
            )
        if config.sasl_username is None or config.sasl_password is None:
            raise values.fail(
                proto,
                f"{config.security_protocol} needs kafka.sasl_username and "
                "a password (DQGATE_KAFKA_SASL_PASSWORD or "
                "kafka.sasl_password_file)",
            )
    else:
        for key in ("sasl_mechanism", "sasl_username", "sasl_password"):
            if getattr(config, key) is not None:
                raise values.fail(
                    proto,
                    f"kafka.{key} is set but the protocol is "
                    f"{config.security_protocol}; use SASL_PLAINTEXT or "
                    f"SASL_SSL, or remove kafka.{key}",
                )
    if not config.uses_ssl:
        for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_key_password"):
            if getattr(config, key) is not None:
                raise values.fail(
                    proto,
                    f"kafka.{key} is set but the protocol is "
                    f"{config.security_protocol}; use SSL or SASL_SSL, "
                    f"or remove kafka.{key}",
                )
    if (config.ssl_certfile is None) != (config.ssl_keyfile is None):
        raise values.fail(
            "kafka.ssl_certfile",
            "set both kafka.ssl_certfile and kafka.ssl_keyfile (client certificate) or neither",
        )
    return config


def _http(values: _Values) -> HttpSecurityConfig:
    http = HttpSecurityConfig(
        tls_certfile=_path(values, "http.tls_certfile"),
        tls_keyfile=_path(values, "http.tls_keyfile"),
        basic_auth_username=_opt_str(values, "http.basic_auth_username"),
        basic_auth_password=_secret(values, "http.basic_auth_password"),
    )
    if (http.tls_certfile is None) != (http.tls_keyfile is None):
        raise values.fail("http.tls_certfile", "set both http.tls_certfile and http.tls_keyfile")
    if (http.basic_auth_username is None) != (http.basic_auth_password is None):
        raise values.fail(
            "http.basic_auth_username",
            "basic authentication needs http.basic_auth_username and a password "
            "(DQGATE_HTTP_BASIC_AUTH_PASSWORD or http.basic_auth_password_file)",
        )
    address = _address(values, "metrics_address")
    loopback = address is None or address.host in ("127.0.0.1", "::1", "localhost")
    if http.basic_auth_username is not None and not http.uses_tls and not loopback:
        raise values.fail(
            "http.basic_auth_username",
            f"basic authentication over plain HTTP on {address} would send the password in "
            "clear; set http.tls_certfile and http.tls_keyfile, or listen on 127.0.0.1",
        )
    return http


def _servers(values: _Values, key: str) -> tuple[str, ...]:
    value = _get(values, key)
    if value is None:
        raise values.fail(key, "is required: the Kafka bootstrap servers, e.g. 127.0.0.1:9092")
    if isinstance(value, str):
        items = [s.strip() for s in value.split(",")]
    elif isinstance(value, list) and all(isinstance(s, str) for s in value):
        items = [s.strip() for s in value]
    else:
        raise values.fail(key, f"expected host:port or a list of them, got {_kind(value)}")
    servers = tuple(s.removeprefix("kafka://") for s in items if s)
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise values.fail(key, f"{server!r} is not host:port")
    if not servers:
        raise values.fail(key, "is empty")
    return servers


def _breaker(values: _Values, prefix: str) -> CircuitBreakerConfig | None:
    if (
        _get(values, f"{prefix}.window_records") is None
        and _get(values, f"{prefix}.max_quarantine_ratio") is None
    ):
        return None
    window = _opt_int(values, f"{prefix}.window_records", minimum=1)
    if window is None:
        raise values.fail(f"{prefix}.window_records", "is required when the breaker is set")
    ratio_key = f"{prefix}.max_quarantine_ratio"
    if _get(values, ratio_key) is None:
        raise values.fail(ratio_key, "is required when the breaker is set")
    ratio = _float(values, ratio_key, default=1.0, minimum=0.0, maximum=1.0)
    if ratio >= 1.0:
        raise values.fail(ratio_key, "must be below 1.0 (a ratio of 1.0 can never be exceeded)")
    return CircuitBreakerConfig(window_records=window, max_quarantine_ratio=ratio)


def _routes(
    routes_raw: tuple[list[Any], str, Path] | None,
    values: _Values,
    *,
    default_breaker: CircuitBreakerConfig | None,
) -> tuple[RouteConfig, ...]:
    if not routes_raw or not routes_raw[0]:
        origin = routes_raw[1] if routes_raw else "configuration"
        raise ConfigError(
            f"{origin}: routes: at least one route {{source, suite, clean, quarantine}} is required"
        )
    items, origin, base = routes_raw
    routes = []
    for index, item in enumerate(items):
        where = f"routes[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{origin}: {where} must be a mapping, not {_kind(item)}")
        local = _Values()
        for key, value in item.items():
            if key not in _ROUTE_KEYS:
                raise ConfigError(
                    f"{origin}: unknown key {where}.{key!s} "
                    f"(known keys: {', '.join(sorted(_ROUTE_KEYS))})"
                )
            if key == "circuit_breaker" and isinstance(value, Mapping):
                for sub, subvalue in value.items():
                    if sub not in _SECTIONS["circuit_breaker"]:
                        raise ConfigError(f"{origin}: unknown key {where}.circuit_breaker.{sub!s}")
                    local.put(f"{where}.circuit_breaker.{sub}", subvalue, origin=origin, base=base)
            elif key == "suite_parameters":
                if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                    raise ConfigError(
                        f"{origin}: {where}.suite_parameters must be a mapping of parameter "
                        "names to values, e.g. {min_age: 18}"
                    )
            elif key != "circuit_breaker":
                local.put(f"{where}.{key}", value, origin=origin, base=base)
            elif value is not None:
                raise ConfigError(f"{origin}: {where}.circuit_breaker must be a mapping or null")
        breaker = default_breaker
        if "circuit_breaker" in item:
            breaker = _breaker(local, f"{where}.circuit_breaker")
        source = _topic(local, f"{where}.source")
        routes.append(
            RouteConfig(
                name=_str(local, f"{where}.name", default=source),
                source=source,
                suite=_path(local, f"{where}.suite") or _str(local, f"{where}.suite"),
                clean=_topic(local, f"{where}.clean"),
                quarantine=_topic(local, f"{where}.quarantine"),
                circuit_breaker=breaker,
                validate=_bool(local, f"{where}.validate", default=True),
                suite_parameters=tuple(sorted((item.get("suite_parameters") or {}).items())),
            )
        )
    return tuple(routes)


def _topic(values: _Values, key: str) -> str:
    name = _str(values, key)
    if not _TOPIC_NAME.match(name) or name in (".", ".."):
        raise values.fail(
            key,
            f"{name!r} is not a valid Kafka topic name "
            "(letters, digits, '.', '_', '-'; at most 249)",
        )
    return name


def _check_topology(routes: tuple[RouteConfig, ...], *, origin: str) -> None:
    names: dict[str, int] = {}
    sources: dict[str, str] = {}
    for index, route in enumerate(routes):
        if route.name in names:
            raise ConfigError(
                f"{origin}: routes[{index}]: route name {route.name!r} is used "
                f"twice (also routes[{names[route.name]}]); give each a name"
            )
        names[route.name] = index
        if route.source in sources:
            raise ConfigError(
                f"{origin}: source topic {route.source!r} is used by routes "
                f"{sources[route.source]!r} and {route.name!r}; one route per "
                "source topic (merge the suites or split the topic)"
            )
        sources[route.source] = route.name
        if route.clean == route.quarantine:
            raise ConfigError(
                f"{origin}: route {route.name!r}: clean and quarantine are both "
                f"{route.clean!r}; use two different topics"
            )
    for route in routes:
        for kind, topic in (("clean", route.clean), ("quarantine", route.quarantine)):
            if topic in sources:
                raise ConfigError(
                    f"{origin}: topic {topic!r} is the {kind} output of route "
                    f"{route.name!r} and the source of route {sources[topic]!r}; "
                    "a topic cannot be both a source and an output"
                )
