"""Start-up checks on the cluster: sources must exist, missing outputs are created.

Only the metadata of *all* topics is read (never of named ones), so a broker with
``auto.create.topics.enable`` cannot create a mistyped source topic behind our back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dqgate.config import GateConfig
from dqgate.errors import ConfigError, GateError
from dqgate.gate.connection import aiokafka_options

__all__ = ["TopicPlan", "prepare_topics"]

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36
_MAX_DEFAULT_REPLICATION = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicPlan:
    """What start-up found and did."""

    source_partitions: dict[str, int]
    created: tuple[str, ...]


async def prepare_topics(config: GateConfig, *, timeout_s: float = 30.0) -> TopicPlan:
    """Check every source exists; create every missing output topic. Raises ConfigError."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import KafkaError

    servers = ",".join(config.kafka.bootstrap_servers)
    admin = AIOKafkaAdminClient(
        **aiokafka_options(config.kafka), request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
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
                elif code != _TOPIC_ALREADY_EXISTS:
                    detail = entry[2] if len(entry) > 2 and entry[2] else f"error code {code}"
                    raise GateError(f"cannot create output topic {name!r}: {detail}")
        return TopicPlan(source_partitions=partitions, created=tuple(created))
    except KafkaError as exc:
        raise GateError(
            f"cannot reach Kafka at {servers}: {type(exc).__name__}: {exc}; check "
            "kafka.bootstrap_servers and the security settings",
            retriable=True,
        ) from exc
    finally:
        await admin.close()
