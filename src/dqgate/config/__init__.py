"""The gate's configuration: ``gate.yaml`` plus ``DQGATE_*`` environment overrides.

Precedence, lowest first: the YAML file, the environment, explicit overrides (the
command line). Every scalar key has an environment variable named after its path,
upper-cased (:data:`ENV_VARS`): ``kafka.bootstrap_servers`` ->
``DQGATE_KAFKA_BOOTSTRAP_SERVERS``, ``batch_size`` -> ``DQGATE_BATCH_SIZE``. Routes come
from the file or the command line only.

Secrets (``kafka.sasl_password``, ``kafka.ssl_key_password``,
``http.basic_auth_password``, ``http.control_token``) come from the environment
(``DQGATE_KAFKA_SASL_PASSWORD``) or from the file named by ``*_file``, never from the
YAML itself; their ``repr`` is masked. Relative paths written in the YAML (suites, CA
file, secret files) are relative to the YAML's directory; other relative paths are
relative to the working directory.

Everything is checked before the first record is consumed. Every problem is a
:class:`~dqgate.errors.ConfigError` naming the key, where its value came from and the fix.
"""

from __future__ import annotations

from dqgate.config.loader import build_config, load_config
from dqgate.config.model import (
    DEFAULT_HTTP_PORT,
    CircuitBreakerConfig,
    Engine,
    GateConfig,
    HttpAddress,
    HttpSecurityConfig,
    KafkaConfig,
    OutputTopicsConfig,
    RouteConfig,
    SaslMechanism,
    Secret,
    SecurityProtocol,
    TombstonePolicy,
    parse_http_address,
)
from dqgate.config.schema import ENV_VARS

__all__ = [
    "DEFAULT_HTTP_PORT",
    "ENV_VARS",
    "CircuitBreakerConfig",
    "Engine",
    "GateConfig",
    "HttpAddress",
    "HttpSecurityConfig",
    "KafkaConfig",
    "OutputTopicsConfig",
    "RouteConfig",
    "SaslMechanism",
    "Secret",
    "SecurityProtocol",
    "TombstonePolicy",
    "build_config",
    "load_config",
    "parse_http_address",
]
