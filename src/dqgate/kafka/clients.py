"""Kafka client settings from a KafkaConfig: for aiokafka clients and for faust's App.

One module for every client dqgate makes: the gate's engines, the quarantine commands,
the demo and the test and benchmark harness (:mod:`dqgate.testing`). The only place that
turns the configured secrets back into strings.
"""

from __future__ import annotations

import ssl
from typing import Any

from dqgate.config import KafkaConfig

__all__ = ["aiokafka_options", "faust_options", "ssl_context_for"]


def ssl_context_for(kafka: KafkaConfig) -> ssl.SSLContext | None:
    """The TLS context for SSL / SASL_SSL (system CAs unless ``ssl_cafile``), else None."""
    if not kafka.uses_ssl:
        return None
    from aiokafka.helpers import create_ssl_context

    password = kafka.ssl_key_password.reveal() if kafka.ssl_key_password else None
    context: ssl.SSLContext = create_ssl_context(
        cafile=kafka.ssl_cafile,
        certfile=kafka.ssl_certfile,
        keyfile=kafka.ssl_keyfile,
        password=password,
    )
    return context


def aiokafka_options(kafka: KafkaConfig) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
    options: dict[str, Any] = {
        "bootstrap_servers": list(kafka.bootstrap_servers),
        "client_id": kafka.client_id,
        "security_protocol": str(kafka.security_protocol),
    }
    context = ssl_context_for(kafka)
    if context is not None:
        options["ssl_context"] = context
    if kafka.uses_sasl:
        assert kafka.sasl_mechanism is not None and kafka.sasl_password is not None
        options["sasl_mechanism"] = str(kafka.sasl_mechanism)
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = kafka.sasl_password.reveal()
    return options


def faust_options(kafka: KafkaConfig) -> dict[str, Any]:
    """``broker``, ``broker_client_id`` and credentials settings for ``faust.App``."""
    import faust

    options: dict[str, Any] = {
        "broker": [f"kafka://{server}" for server in kafka.bootstrap_servers],
        "broker_client_id": kafka.client_id,
    }
    context = ssl_context_for(kafka)
    if kafka.uses_sasl:
        assert kafka.sasl_mechanism is not None and kafka.sasl_password is not None
        options["broker_credentials"] = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.reveal(),
            mechanism=str(kafka.sasl_mechanism),
            ssl_context=context,
        )
    elif context is not None:
        options["broker_credentials"] = faust.SSLCredentials(context)
    return options
