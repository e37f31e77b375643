"""Start-up checks on the cluster: sources must exist, missing outputs are created.

Only the metadata of *all* topics is read (never of named ones), so a broker with
``auto.create.topics.enable`` cannot create a mistyped source topic behind our back.

Before that, one connection is opened by hand (:func:`dqgate.kafka.probe_connection`),
so a refused password or certificate fails within seconds naming the cause, and the
principal's own permissions are read (:func:`dqgate.kafka.check_permissions`), so a
missing ACL fails here naming it (READ on each source, WRITE on each output, READ on the
group) instead of later, or as a misleading "topic does not exist". Creating a missing
output also needs CREATE; its absence is named too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from dqgate.config import GateConfig, KafkaConfig
from dqgate.errors import ConfigError, GateError
from dqgate.kafka.clients import aiokafka_options

__all__ = ["TopicPlan", "prepare_topics"]

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36
_TOPIC_AUTHORIZATION_FAILED = 29
_PROBE_TIMEOUT_S = 10.0
_MAX_DEFAULT_REPLICATION = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicPlan:
    """What start-up found and did."""

    source_partitions: dict[str, int]
    created: tuple[str, ...]
    max_message_bytes: dict[str, int] = field(default_factory=dict)
    """``max.message.bytes`` of the sources and outputs the principal may describe."""


async def prepare_topics(config: GateConfig, *, timeout_s: float = 30.0) -> TopicPlan:
    """Check every source exists; create every missing output topic. Raises ConfigError."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaError

    from dqgate.kafka import check_permissions, probe_connection

    servers = ",".join(config.kafka.bootstrap_servers)
    options = aiokafka_options(config.kafka)
    probe = await probe_connection(
        config.kafka.bootstrap_servers, options, timeout_s=min(_PROBE_TIMEOUT_S, timeout_s)
    )
    if not probe.ok:
        message = f"cannot reach Kafka at {servers}: {probe.problem}"
        if probe.refused:  # the same settings can never succeed
            raise ConfigError(f"{config.origin}: {message}")
        raise GateError(message, retriable=True)
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=int(timeout_s * 1000))
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        report = await check_permissions(
            admin,
            read_topics=sorted({r.source for r in config.routes}),
            write_topics=sorted({t for r in config.routes for t in r.outputs}),
            groups=[config.group_id],
        )
        if report.missing:
            raise ConfigError(_missing_message(config, report.missing))
        missing = [r for r in config.routes if r.source not in existing]
        if missing:
            route = missing[0]
            raise ConfigError(
                f"{config.origin}: source topic {route.source!r} of route {route.name!r} does "
                f"not exist on {servers}; create it or fix the route's source"
            )
        described = await admin.describe_topics(sorted({r.source for r in config.routes}))
        partitions = {t["topic"]: len(t["partitions"]) for t in described}
        cluster = await admin.describe_cluster()
        brokers = max(1, len(cluster.get("brokers", ())))
        replication = config.output_topics.replication_factor or min(
            _MAX_DEFAULT_REPLICATION, brokers
        )
        wanted: dict[str, Any] = {}
        for route in config.routes:
            for topic in route.outputs:
                if topic in existing or topic in wanted:
                    continue
                count = config.output_topics.partitions or partitions[route.source]
                wanted[topic] = NewTopic(
                    name=topic,
                    num_partitions=count,
                    replication_factor=replication,
                    topic_configs={
                        "max.message.bytes": str(config.output_topics.max_message_bytes)
                    },
                )
        created: list[str] = []
        if wanted:
            response = await admin.create_topics(list(wanted.values()))
            for entry in response.topic_errors:
                name, code = entry[0], int(entry[1])
                if code == 0:
                    created.append(name)
                    log.warning(
                        "created output topic %s (%d partitions, replication %d)",
                        name, wanted[name].num_partitions, replication,
                    )  # fmt: skip
                elif code == _TOPIC_AUTHORIZATION_FAILED:
                    raise ConfigError(
                        f"{config.origin}: output topic {name!r} does not exist and "
                        f"{_principal(config.kafka)} lacks the permission CREATE on topic "
                        f"{name!r}: create the topic and grant WRITE on it, or grant CREATE"
                    )
                elif code != _TOPIC_ALREADY_EXISTS:
                    detail = entry[2] if len(entry) > 2 and entry[2] else f"error code {code}"
                    raise GateError(f"cannot create output topic {name!r}: {detail}")
        limits = await _max_message_bytes(admin, config)
        return TopicPlan(
            source_partitions=partitions, created=tuple(created), max_message_bytes=limits
        )
    except KafkaError as exc:
        raise GateError(
            f"cannot reach Kafka at {servers}: {type(exc).__name__}: {exc}; check "
            "kafka.bootstrap_servers and the security settings",
            retriable=True,
        ) from exc
    finally:
        await admin.close()


async def _max_message_bytes(admin: Any, config: GateConfig) -> dict[str, int]:
    """``max.message.bytes`` of every route topic the principal may describe the configs of
    (a missing DESCRIBE_CONFIGS permission only leaves those topics unchecked)."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
    from aiokafka.errors import KafkaError

    from dqgate.gate.sizes import max_message_bytes

    topics = sorted({t for r in config.routes for t in (r.source, *r.outputs)})
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, t, configs={"max.message.bytes": None})
        for t in topics
    ]
    try:
        limits = max_message_bytes(await admin.describe_configs(resources))
    except KafkaError as exc:
        limits = {}
        log.debug("describe configs failed: %s", type(exc).__name__)
    unknown = [t for t in topics if t not in limits]
    if unknown:
        log.warning(
            "cannot read max.message.bytes of %s (grant the gate's principal DESCRIBE_CONFIGS "
            "on them): whether each record fits its output is not checked at start-up; one "
            "that does not is quarantined as a stub",
            ", ".join(unknown),
        )
    return limits


def _principal(kafka: KafkaConfig) -> str:
    """How the brokers probably name the gate (for error messages)."""
    if kafka.uses_sasl:
        return f"the gate's principal User:{kafka.sasl_username}"
    if kafka.ssl_certfile is not None:
        return "the gate's principal (its client certificate's name)"
    return "the gate's principal"


def _missing_message(config: GateConfig, missing: Any) -> str:
    """Every missing permission, and the ACLs that would grant them."""
    listed = "; ".join(f"missing permission: {m}" for m in missing)
    return (
        f"{config.origin}: {_principal(config.kafka)} may not do what the gate needs: "
        f"{listed} (a topic the principal may not describe may also not exist). Grant "
        "READ on each source topic, WRITE on each clean and quarantine topic and READ "
        "on the consumer group (see SECURITY.md, 'Least privilege')"
    )
