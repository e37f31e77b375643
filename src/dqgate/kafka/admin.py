"""Small admin helpers over aiokafka: who is in the cluster, create and delete topics.

Each helper opens its own admin client and closes it. ``run_sync`` runs one of them
from synchronous code, also when the calling thread already runs an event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from dqgate.errors import BrokerError

__all__ = [
    "BrokerNode",
    "admin_client",
    "alter_topic_configs",
    "create_topic",
    "delete_topics",
    "describe_brokers",
    "run_sync",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerNode:
    """One broker as the cluster metadata describes it."""

    node_id: int
    host: str
    port: int


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code and return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@asynccontextmanager
async def admin_client(
    bootstrap: str, *, timeout_s: float, options: Mapping[str, Any] | None = None
) -> AsyncIterator[Any]:
    """A started admin client; every client failure or time-out becomes a BrokerError.

    ``options`` are further AIOKafkaAdminClient arguments (security settings).
    """
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=max(1, int(timeout_s * 1000)),
        **(options or {}),
    )
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            yield admin
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BrokerError(
            f"admin request to {bootstrap} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        await admin.close()


async def describe_brokers(bootstrap: str, *, timeout_s: float = 10.0) -> tuple[BrokerNode, ...]:
    """The brokers of the cluster at ``bootstrap`` (one metadata round trip)."""
    async with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        cluster = await admin.describe_cluster()
    return tuple(
        BrokerNode(node_id=int(b["node_id"]), host=str(b["host"]), port=int(b["port"]))
        for b in cluster.get("brokers", ())
    )


async def create_topic(
    bootstrap: str,
    name: str,
    *,
    partitions: int = 1,
    configs: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> None:
    """Create topic ``name`` with ``partitions`` partitions (replication factor 1) and
    topic ``configs`` (e.g. ``{"max.message.bytes": "100000"}``)."""
    from aiokafka.admin import NewTopic

    topic = NewTopic(
        name=name,
        num_partitions=partitions,
        replication_factor=1,
        topic_configs=dict(configs or {}),
    )
    async with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        response = await admin.create_topics([topic])
    _raise_topic_errors(response.topic_errors, action="create")


async def alter_topic_configs(
    bootstrap: str, name: str, configs: Mapping[str, str], *, timeout_s: float = 30.0
) -> None:
    """Set topic configs of ``name`` (the ones given; others keep their values)."""
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=dict(configs))
    async with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        responses = await admin.alter_configs([resource])
    for response in responses:
        for code, message, _type, resource_name in response.resources:
            if code:
                raise BrokerError(
                    f"altering the configs of topic {resource_name!r} failed: "
                    f"error {code}: {message}"
                )


async def delete_topics(bootstrap: str, names: Sequence[str], *, timeout_s: float = 30.0) -> None:
    """Delete the topics ``names``."""
    if not names:
        return
    async with admin_client(bootstrap, timeout_s=timeout_s) as admin:
        response = await admin.delete_topics(list(names))
    _raise_topic_errors(response.topic_error_codes, action="delete")


def _raise_topic_errors(entries: Sequence[Sequence[Any]], *, action: str) -> None:
    """Raise BrokerError naming each topic whose error code is not 0."""
    from aiokafka.errors import for_code

    failed = [
        f"{entry[0]}: {for_code(int(entry[1])).__name__}" for entry in entries if int(entry[1]) != 0
    ]
    if failed:
        raise BrokerError(f"could not {action} topics: {'; '.join(failed)}")
