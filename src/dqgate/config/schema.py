"""Every configuration key: top-level scalars, sections, secrets, routes, environment."""

from __future__ import annotations

from typing import Final

_TOP_SCALARS: Final = {
    "group_id": "str",
    "engine": "str",
    "max_in_flight_records": "int",
    "max_in_flight_bytes": "int",
    "quarantine_stubs": "bool",
    "batch_size": "int",
    "batch_wait_s": "float",
    "max_record_bytes": "int",
    "regex_budget_s": "float",
    "commit_interval_s": "float",
    "shutdown_timeout_s": "float",
    "delivery_timeout_s": "float",
    "session_timeout_s": "float",
    "metrics_address": "address",
    "metrics_window_records": "int",
    "metrics_created_series": "bool",
    "window_records": "int",
    "window_seconds": "float",
    "quarantine_values": "bool",
    "quarantine_values_max_bytes": "int",
    "audit_log": "file",
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
        "control_enabled": "bool",
        "control_token_file": "path",
    },
    "replay": {"key_file": "path"},
}
_SECRETS: Final = {
    "sasl_password": "sasl_password_file",
    "ssl_key_password": "ssl_key_password_file",
}
_SECTION_SECRETS: Final = {
    "kafka": _SECRETS,
    "http": {
        "basic_auth_password": "basic_auth_password_file",
        "control_token": "control_token_file",
    },
    "replay": {"key": "key_file"},
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
    "tombstones",
    "allow_empty_suite",
)
OTHER_ENV_VARS: Final = frozenset(
    {
        "DQGATE_NATIVE",  # dqgate.suites.native: 0 turns the native decider off
        "DQGATE_KAFKA_HOME",  # dqgate.kafka.jars: a Kafka distribution instead of fetched jars
        "DQGATE_PKI_PASSWORD",  # dqgate.kafka.pki: key passwords, in openssl's environment only
    }
)
"""``DQGATE_*`` variables read outside the configuration (not configuration keys)."""
DEVELOPER_ENV_PREFIXES: Final = ("DQGATE_TEST_", "DQGATE_PARITY_", "DQGATE_FUZZ_", "DQGATE_NATIVE_")
"""Prefixes of the test suite's own variables (tests/, never read by the package)."""


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
