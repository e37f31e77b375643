"""Building a GateConfig: the file, the environment, the overrides, every section checked."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml

from dqgate.config.fields import (
    _TOPIC_NAME,
    _address,
    _bool,
    _enum,
    _flatten,
    _float,
    _get,
    _int,
    _kind,
    _names,
    _opt_int,
    _opt_str,
    _out_path,
    _path,
    _secret,
    _str,
    _suggest,
    _Values,
)
from dqgate.config.model import (
    DEFAULT_BATCH_WAIT_S,
    CircuitBreakerConfig,
    Engine,
    GateConfig,
    HttpSecurityConfig,
    KafkaConfig,
    OutputTopicsConfig,
    RouteConfig,
    SaslMechanism,
    Secret,
    SecurityProtocol,
    TombstonePolicy,
)
from dqgate.config.schema import (
    _ROUTE_KEYS,
    _SECTIONS,
    DEVELOPER_ENV_PREFIXES,
    ENV_VARS,
    OTHER_ENV_VARS,
)
from dqgate.config.yaml_loader import DuplicateKeyError, load_yaml
from dqgate.errors import ConfigError


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GateConfig:
    """Read ``path`` (YAML), apply ``DQGATE_*`` from ``environ`` and ``overrides``, check all."""
    file = Path(path)
    try:
        with file.open(encoding="utf-8") as stream:
            raw = load_yaml(stream)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the gate configuration: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except DuplicateKeyError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
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
    _check_environment(env)
    for name, key in ENV_VARS.items():
        if env.get(name, "") != "":
            values.put(key, env[name], origin=f"environment {name}", base=Path.cwd())
    for key, value in (overrides or {}).items():
        if key == "routes":
            routes_raw = (list(value), "command line", Path.cwd())
        elif value is not None:
            values.put(key, value, origin="command line", base=Path.cwd())
    breaker = _breaker(values, "circuit_breaker")
    routes = _routes(routes_raw, values, default_breaker=breaker, origin=origin)
    config = GateConfig(
        kafka=_kafka(values),
        routes=routes,
        group_id=_str(values, "group_id", default="dqgate"),
        engine=_enum(values, "engine", Engine) or Engine.BATCH,
        max_in_flight_records=_int(values, "max_in_flight_records", default=20_000, minimum=1),
        max_in_flight_bytes=_int(
            values, "max_in_flight_bytes", default=64 * 1024 * 1024, minimum=1024 * 1024
        ),
        quarantine_stubs=_bool(values, "quarantine_stubs", default=False),
        batch_size=_int(values, "batch_size", default=500, minimum=1),
        batch_wait_s=_float(values, "batch_wait_s", default=DEFAULT_BATCH_WAIT_S, minimum=0.001),
        max_record_bytes=_int(values, "max_record_bytes", default=1_048_576, minimum=1),
        regex_budget_s=_float(values, "regex_budget_s", default=0.1, minimum=0.001, maximum=60.0),
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
        metrics_created_series=_bool(values, "metrics_created_series", default=True),
        redact=_names(values, "redact"),
        quarantine_values=_bool(values, "quarantine_values", default=False),
        quarantine_values_max_bytes=_int(
            values, "quarantine_values_max_bytes", default=256, minimum=16
        ),
        window_records=_int(values, "window_records", default=10_000, minimum=1),
        window_seconds=_float(values, "window_seconds", default=60.0, minimum=0.1),
        audit_log=_out_path(values, "audit_log"),
        replay_key=_replay_key(values),
        origin=origin,
    )
    _check_topology(config.routes, origin=origin)
    return config


def _check_environment(env: Mapping[str, str]) -> None:
    """An unknown ``DQGATE_*`` variable is an error, like an unknown key (a typo is not ignored)."""
    for name in sorted(env):
        if not name.startswith("DQGATE_") or name in ENV_VARS or name in OTHER_ENV_VARS:
            continue
        if name.startswith(DEVELOPER_ENV_PREFIXES):
            continue
        known = [*ENV_VARS, *OTHER_ENV_VARS]
        hint = _suggest(name, known).partition(" (known keys")[0]
        raise ConfigError(
            f"environment {name}: unknown dqgate variable{hint}; every configuration key "
            f"has one (DQGATE_ + its path, e.g. DQGATE_BATCH_SIZE); unset {name} or fix its name"
        )


# --- sections ---------------------------------------------------------------------------


def _replay_key(values: _Values) -> Secret | None:
    key = _secret(values, "replay.key")
    if key is not None and len(key.reveal().encode("utf-8")) < 16:
        raise values.fail(
            "replay.key_file",
            "the replay key is too short: use at least 16 random bytes, e.g. "
            "`openssl rand -hex 32 > replay.key` (the same file for the gate and the replay)",
        )
    return key


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
        control_enabled=_bool(values, "http.control_enabled", default=False),
        control_token=_secret(values, "http.control_token"),
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
    loopback = address is None or address.is_loopback
    if http.basic_auth_username is not None and not http.uses_tls and not loopback:
        raise values.fail(
            "http.basic_auth_username",
            f"basic authentication over plain HTTP on {address} would send the password in "
            "clear; set http.tls_certfile and http.tls_keyfile, or listen on 127.0.0.1",
        )
    if http.control_enabled:
        _check_control_token(values, http, in_clear=not http.uses_tls and not loopback)
    return http


_CONTROL_TOKEN_MIN_CHARS: Final = 16


def _check_control_token(values: _Values, http: HttpSecurityConfig, *, in_clear: bool) -> None:
    """The control credential: present, long enough, not the scrape password, not in clear."""
    token = http.control_token
    if token is None:
        raise values.fail(
            "http.control_enabled",
            "the control endpoints need their own token: set DQGATE_HTTP_CONTROL_TOKEN or "
            "http.control_token_file (a file holding a random string, e.g. from "
            "`openssl rand -hex 32`)",
        )
    direct = _get(values, "http.control_token") is not None
    key = "http.control_token" if direct else "http.control_token_file"
    if len(token.reveal()) < _CONTROL_TOKEN_MIN_CHARS:
        raise values.fail(
            key,
            f"the control token is shorter than {_CONTROL_TOKEN_MIN_CHARS} characters; use a "
            "random string, e.g. from `openssl rand -hex 32`",
        )
    password = http.basic_auth_password
    if password is not None and password.reveal() == token.reveal():
        raise values.fail(
            key,
            "the control token is the basic-auth (scrape) password; give the control its "
            "own token so that whoever scrapes /metrics cannot resume routes",
        )
    if in_clear:
        raise values.fail(
            "http.control_enabled",
            "the control endpoints over plain HTTP on a non-loopback metrics_address would "
            "send the control token in clear; set http.tls_certfile and http.tls_keyfile, "
            "or listen on 127.0.0.1",
        )


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
    origin: str = "configuration",
) -> tuple[RouteConfig, ...]:
    if not routes_raw or not routes_raw[0]:
        origin = routes_raw[1] if routes_raw else origin
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
                    f"{origin}: unknown key {where}.{key!s}{_suggest(str(key), _ROUTE_KEYS)}"
                )
            if key == "circuit_breaker" and isinstance(value, Mapping):
                for sub, subvalue in value.items():
                    if sub not in _SECTIONS["circuit_breaker"]:
                        known = _SECTIONS["circuit_breaker"]
                        raise ConfigError(
                            f"{origin}: unknown key {where}.circuit_breaker.{sub!s}"
                            f"{_suggest(str(sub), known)}"
                        )
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
        route = RouteConfig(
            name=_str(local, f"{where}.name", default=source),
            source=source,
            suite=_path(local, f"{where}.suite") or _str(local, f"{where}.suite"),
            clean=_topic(local, f"{where}.clean"),
            quarantine=_topic(local, f"{where}.quarantine"),
            circuit_breaker=breaker,
            validate=_bool(local, f"{where}.validate", default=True),
            suite_parameters=tuple(sorted((item.get("suite_parameters") or {}).items())),
            tombstones=_enum(local, f"{where}.tombstones", TombstonePolicy)
            or TombstonePolicy.QUARANTINE,
            allow_empty_suite=_bool(local, f"{where}.allow_empty_suite", default=False),
        )
        _check_not_empty(route, f"{origin}: {where} ({route.name})")
        routes.append(route)
    return tuple(routes)


def _check_not_empty(route: RouteConfig, where: str) -> None:
    """A suite without expectations passes everything: refused unless the route says so.

    Only the file's ``expectations`` list is read here (no GX); a file that is not a
    suite is left to the suite loader, which names what is wrong with it.
    """
    if not route.validate or route.allow_empty_suite:
        return
    try:
        raw = json.loads(Path(route.suite).read_bytes())
    except (OSError, ValueError):
        return
    if isinstance(raw, Mapping) and raw.get("expectations") == []:
        raise ConfigError(
            f"{where}: suite {route.suite} has no expectations, so every record would pass "
            "unchecked; add expectations, or set allow_empty_suite: true on the route if "
            "that is intended"
        )


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
