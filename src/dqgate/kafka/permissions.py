"""What the connected principal may do: checked at start-up, before the first record.

Kafka reports a principal's own authorized operations (KIP-430): Metadata v8 per topic,
DescribeGroups v3 per group. :func:`check_permissions` asks for both and names every
missing permission, so a gate without an ACL fails at start with
``missing permission: READ on topic 'orders'`` rather than later, or with a misleading
"topic does not exist" (Kafka hides topics a principal may not describe).

aiokafka 0.14 speaks Metadata up to v5 only, and parses DescribeGroups v3 answers with
the v2 schema (dropping the authorized operations): both requests are declared here from
the Kafka protocol's schema. ``admin`` is a started AIOKafkaAdminClient.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dqgate.kafka.acls import AclOperation, AclResourceType

__all__ = ["MissingPermission", "PermissionReport", "check_permissions"]

_METADATA = 3
_DESCRIBE_GROUPS = 15
_NO_ERROR = 0
_UNKNOWN_TOPIC = 3
_TOPIC_AUTHORIZATION_FAILED = 29
_GROUP_AUTHORIZATION_FAILED = 30
_COORDINATOR_ATTEMPTS = 20
_COORDINATOR_BACKOFF_S = 0.25
_NOT_PROVIDED = -(2**31)  # the broker did not compute authorized operations


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingPermission:
    """One operation the principal may not perform on one resource."""

    resource_type: AclResourceType
    resource_name: str
    operation: AclOperation

    def __str__(self) -> str:
        kind = self.resource_type.name.lower().replace("_", " ")
        return f"{self.operation.name} on {kind} {self.resource_name!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PermissionReport:
    """Missing permissions, and topics the principal may describe that do not exist."""

    missing: tuple[MissingPermission, ...] = ()
    unknown_topics: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing and not self.unknown_topics


async def check_permissions(
    admin: Any,
    *,
    read_topics: Iterable[str] = (),
    write_topics: Iterable[str] = (),
    groups: Iterable[str] = (),
) -> PermissionReport:
    """Which of READ on ``read_topics``, WRITE on ``write_topics`` and READ on ``groups``
    the admin client's principal lacks (Kafka >= 2.3)."""
    wanted: dict[str, set[AclOperation]] = {}
    for topic in read_topics:
        wanted.setdefault(topic, set()).add(AclOperation.READ)
    for topic in write_topics:
        wanted.setdefault(topic, set()).add(AclOperation.WRITE)
    missing: list[MissingPermission] = []
    unknown: list[str] = []
    if wanted:
        allowed = await _topic_operations(admin, sorted(wanted))
        for topic, operations in sorted(wanted.items()):
            granted = allowed.get(topic)
            if granted is None:
                unknown.append(topic)
                continue
            missing += [
                MissingPermission(
                    resource_type=AclResourceType.TOPIC, resource_name=topic, operation=op
                )
                for op in sorted(operations)
                if not _allows(granted, op)
            ]
    for group in dict.fromkeys(groups):
        granted = await _group_operations(admin, group)
        if not _allows(granted, AclOperation.READ):
            missing.append(
                MissingPermission(
                    resource_type=AclResourceType.GROUP,
                    resource_name=group,
                    operation=AclOperation.READ,
                )
            )
    return PermissionReport(missing=tuple(missing), unknown_topics=tuple(unknown))


def _allows(granted: int, operation: AclOperation) -> bool:
    if granted == _NOT_PROVIDED:
        return True  # a broker that does not say: the clients will find out
    return bool(granted & (1 << int(operation)) or granted & (1 << int(AclOperation.ALL)))


async def _topic_operations(admin: Any, topics: list[str]) -> dict[str, int]:
    """Topic -> authorized-operations bits; topics that do not exist are left out.

    A topic the principal may not describe is reported by Kafka as not authorized,
    whether it exists or not: it gets 0 (nothing allowed).
    """
    from aiokafka.errors import for_code

    request = _metadata_request_class()(topics)
    response = await admin._send_request(request)  # noqa: SLF001 - no public API for it
    result: dict[str, int] = {}
    for entry in response.topics:
        code, name, operations = int(entry[0]), str(entry[1]), int(entry[4])
        if code == _NO_ERROR:
            result[name] = operations
        elif code == _TOPIC_AUTHORIZATION_FAILED:
            result[name] = 0
        elif code != _UNKNOWN_TOPIC:
            raise for_code(code)(f"metadata of topic {name!r}")
    return result


async def _group_operations(admin: Any, group: str) -> int:
    """Authorized-operations bits of ``group`` (0 when the principal may not describe it)."""
    from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, for_code

    request = _describe_group_request_class()(group)
    for attempt in range(_COORDINATOR_ATTEMPTS):
        try:
            coordinator = await admin.find_coordinator(group)
            response = await admin._send_request(request, coordinator)  # noqa: SLF001 - no public API for it
            code = int(response.groups[0][0])
            if code not in (_NO_ERROR, _GROUP_AUTHORIZATION_FAILED):
                raise for_code(code)(f"description of group {group!r}")
        except GroupAuthorizationFailedError:
            return 0
        except KafkaError as exc:
            # A fresh cluster creates __consumer_offsets on the first lookup.
            if not exc.retriable or attempt == _COORDINATOR_ATTEMPTS - 1:
                raise
            await asyncio.sleep(_COORDINATOR_BACKOFF_S)
            continue
        return 0 if code == _GROUP_AUTHORIZATION_FAILED else int(response.groups[0][-1])
    raise AssertionError("unreachable")


@functools.cache
def _metadata_request_class() -> type[Any]:
    """Metadata v8 (topic authorized operations), never creating topics."""
    from aiokafka.protocol.api import Request, RequestStruct, Response
    from aiokafka.protocol.types import Array, Boolean, Int16, Int32, Schema, String

    text = String("utf-8")

    class MetadataResponseV8(Response):  # type: ignore[misc]
        API_KEY = _METADATA
        API_VERSION = 8
        SCHEMA = Schema(
            ("throttle_time_ms", Int32),
            ("brokers", Array(("node_id", Int32), ("host", text), ("port", Int32), ("rack", text))),
            ("cluster_id", text),
            ("controller_id", Int32),
            (
                "topics",
                Array(
                    ("error_code", Int16),
                    ("name", text),
                    ("is_internal", Boolean),
                    (
                        "partitions",
                        Array(
                            ("error_code", Int16),
                            ("partition_index", Int32),
                            ("leader_id", Int32),
                            ("leader_epoch", Int32),
                            ("replica_nodes", Array(Int32)),
                            ("isr_nodes", Array(Int32)),
                            ("offline_replicas", Array(Int32)),
                        ),
                    ),
                    ("topic_authorized_operations", Int32),
                ),
            ),
            ("cluster_authorized_operations", Int32),
        )

    class MetadataRequestV8(RequestStruct):  # type: ignore[misc]
        API_KEY = _METADATA
        API_VERSION = 8
        RESPONSE_TYPE = MetadataResponseV8
        SCHEMA = Schema(
            ("topics", Array(text)),
            ("allow_auto_topic_creation", Boolean),
            ("include_cluster_authorized_operations", Boolean),
            ("include_topic_authorized_operations", Boolean),
        )

    class TopicOperationsRequest(Request[MetadataRequestV8]):  # type: ignore[misc]
        API_KEY = _METADATA

        def __init__(self, topics: list[str]) -> None:
            self.topics = topics

        def build(self, request_struct_class: type[Any]) -> Any:
            return request_struct_class(self.topics, False, False, True)

    return TopicOperationsRequest


@functools.cache
def _describe_group_request_class() -> type[Any]:
    """DescribeGroups v3 with its own response schema (authorized operations kept)."""
    from aiokafka.protocol.admin import DescribeGroupsResponse_v3
    from aiokafka.protocol.api import Request, RequestStruct
    from aiokafka.protocol.types import Array, Boolean, Schema, String

    class DescribeGroupsRequestV3(RequestStruct):  # type: ignore[misc]
        API_KEY = _DESCRIBE_GROUPS
        API_VERSION = 3
        RESPONSE_TYPE = DescribeGroupsResponse_v3
        SCHEMA = Schema(
            ("groups", Array(String("utf-8"))), ("include_authorized_operations", Boolean)
        )

    class GroupOperationsRequest(Request[DescribeGroupsRequestV3]):  # type: ignore[misc]
        API_KEY = _DESCRIBE_GROUPS

        def __init__(self, group: str) -> None:
            self.group = group

        def build(self, request_struct_class: type[Any]) -> Any:
            return request_struct_class([self.group], True)

    return GroupOperationsRequest
