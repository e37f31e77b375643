"""Partition sizes on disk, from Kafka's DescribeLogDirs API (key 35, version 1).

aiokafka's admin client has no DescribeLogDirs, so the request is declared here with
aiokafka's own protocol types and sent to every broker. A broker that refuses it (an
ACL, a broker too old or too new for v1) simply yields no sizes: ``ls`` then prints the
size as unknown. Kafka 4.x serves DescribeLogDirs v1 through v4.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String

__all__ = ["partition_sizes"]

_log = logging.getLogger(__name__)


class DescribeLogDirsResponse_v1(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            Array(
                ("error_code", Int16),
                ("log_dir", String("utf-8")),
                (
                    "topics",
                    Array(
                        ("name", String("utf-8")),
                        (
                            "partitions",
                            Array(
                                ("partition_index", Int32),
                                ("partition_size", Int64),
                                ("offset_lag", Int64),
                                ("is_future_key", Boolean),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


class DescribeLogDirsRequest_v1(RequestStruct):  # type: ignore[misc]
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = Schema(("topics", Array(("topic", String("utf-8")), ("partitions", Array(Int32)))))


class DescribeLogDirsRequest(Request[DescribeLogDirsRequest_v1]):  # type: ignore[misc]
    API_KEY = 35

    def __init__(self, topics: list[tuple[str, list[int]]]) -> None:
        self._topics = topics

    def build(
        self, request_struct_class: type[DescribeLogDirsRequest_v1]
    ) -> DescribeLogDirsRequest_v1:
        return request_struct_class(self._topics)


async def partition_sizes(
    options: Mapping[str, Any], partitions: Mapping[str, Iterable[int]]
) -> dict[tuple[str, int], int]:
    """``{(topic, partition): bytes}`` of one replica each (the largest one reported).

    Partitions a broker did not report are missing from the result; never raises for
    a broker that does not answer.
    """
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    wanted = [(topic, sorted(parts)) for topic, parts in sorted(partitions.items())]
    sizes: dict[tuple[str, int], int] = {}
    if not wanted:
        return sizes
    admin = AIOKafkaAdminClient(**options)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        for broker in cluster.get("brokers", ()):
            try:
                response = await admin._send_request(  # noqa: SLF001 - no public API for DescribeLogDirs
                    DescribeLogDirsRequest(wanted), int(broker["node_id"])
                )
            except (KafkaError, OSError, NotImplementedError) as exc:
                _log.info("broker %s: no log dir sizes: %s", broker["node_id"], exc)
                continue
            _collect(response, sizes)
    except (KafkaError, OSError) as exc:
        _log.info("no log dir sizes: %s: %s", type(exc).__name__, exc)
    finally:
        await admin.close()
    return sizes


def _collect(response: Any, sizes: dict[tuple[str, int], int]) -> None:
    for error_code, _log_dir, topics in response.results:
        if error_code != 0:
            continue
        for name, parts in topics:
            for index, size, _lag, is_future in parts:
                if not is_future:
                    key = (name, int(index))
                    sizes[key] = max(sizes.get(key, 0), int(size))
