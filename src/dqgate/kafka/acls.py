"""Kafka ACLs: the bindings a gate needs, and creating or deleting them on a cluster.

aiokafka 0.14 has no ACL methods on its admin client, so ``create_acls`` and
``delete_acls`` send CreateAcls / DeleteAcls (v1, supported by Kafka 2.0 to 4.x) through
the admin client's request path. Codes are the Kafka protocol's (``AclOperation`` etc.).

A gate's least privilege (:func:`gate_acls`): READ on its source topics, WRITE on its
clean and quarantine topics, READ on its consumer group, DESCRIBE_CONFIGS on its topics
(to check ``max.message.bytes`` at start-up). READ and WRITE imply DESCRIBE.
Nothing on the cluster: the gate creates no topic when its outputs exist.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from dqgate.errors import BrokerError
from dqgate.kafka.admin import admin_client

__all__ = [
    "AclBinding",
    "AclOperation",
    "AclPatternType",
    "AclPermission",
    "AclResourceType",
    "create_acls",
    "delete_acls",
    "gate_acls",
]

_API_CREATE_ACLS = 30
_API_DELETE_ACLS = 31


class AclResourceType(IntEnum):
    """What an ACL is about (protocol codes)."""

    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class AclOperation(IntEnum):
    """What an ACL allows (protocol codes; also the bits of authorized operations)."""

    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


class AclPermission(IntEnum):
    """Allow or deny (protocol codes)."""

    DENY = 2
    ALLOW = 3


class AclPatternType(IntEnum):
    """How the resource name matches (protocol codes)."""

    LITERAL = 3
    PREFIXED = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class AclBinding:
    """One ACL: ``principal`` may (or may not) do ``operation`` on a resource from ``host``."""

    resource_type: AclResourceType
    resource_name: str
    principal: str
    operation: AclOperation
    permission: AclPermission = AclPermission.ALLOW
    pattern_type: AclPatternType = AclPatternType.LITERAL
    host: str = "*"

    def __post_init__(self) -> None:
        if not self.principal.startswith("User:") or self.principal == "User:":
            raise BrokerError(f"ACL principal {self.principal!r}: write it as User:NAME")
        if not self.resource_name:
            raise BrokerError("ACL resource name must not be empty")

    def __str__(self) -> str:
        verb = "allow" if self.permission is AclPermission.ALLOW else "deny"
        pattern = "" if self.pattern_type is AclPatternType.LITERAL else " (prefixed)"
        return (
            f"{verb} {self.principal} {self.operation.name} on "
            f"{self.resource_type.name.lower()} {self.resource_name!r}{pattern}"
        )

    def _fields(self) -> tuple[int, str, int, str, str, int, int]:
        return (
            int(self.resource_type),
            self.resource_name,
            int(self.pattern_type),
            self.principal,
            self.host,
            int(self.operation),
            int(self.permission),
        )


def gate_acls(
    principal: str, *, sources: Iterable[str], outputs: Iterable[str], group: str
) -> tuple[AclBinding, ...]:
    """The least-privilege ACLs of a gate running as ``principal``."""
    sources, outputs = list(sources), list(outputs)
    topic, read, write = AclResourceType.TOPIC, AclOperation.READ, AclOperation.WRITE
    bindings = [
        AclBinding(resource_type=topic, resource_name=name, principal=principal, operation=read)
        for name in dict.fromkeys(sources)
    ]
    bindings += [
        AclBinding(resource_type=topic, resource_name=name, principal=principal, operation=write)
        for name in dict.fromkeys(outputs)
    ]
    bindings += [
        AclBinding(
            resource_type=topic,
            resource_name=name,
            principal=principal,
            operation=AclOperation.DESCRIBE_CONFIGS,
        )
        for name in dict.fromkeys([*sources, *outputs])
    ]
    bindings.append(
        AclBinding(
            resource_type=AclResourceType.GROUP,
            resource_name=group,
            principal=principal,
            operation=read,
        )
    )
    return tuple(bindings)


async def create_acls(
    bootstrap: str,
    bindings: Sequence[AclBinding],
    *,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Create ``bindings`` (as an admin principal); raises BrokerError naming failures."""
    if not bindings:
        return
    request = _request(_API_CREATE_ACLS, bindings)
    async with admin_client(bootstrap, timeout_s=timeout_s, options=client_options) as admin:
        response = await admin._send_request(request)  # noqa: SLF001 - no public API for CreateAcls
    failed = [
        f"{binding}: {message or code}"
        for binding, (code, message) in zip(bindings, response.creation_responses, strict=True)
        if code != 0
    ]
    if failed:
        raise BrokerError(f"could not create ACLs: {'; '.join(failed)}")


async def delete_acls(
    bootstrap: str,
    bindings: Sequence[AclBinding],
    *,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Delete the ACLs equal to ``bindings``; returns how many were deleted."""
    if not bindings:
        return 0
    request = _request(_API_DELETE_ACLS, bindings)
    async with admin_client(bootstrap, timeout_s=timeout_s, options=client_options) as admin:
        response = await admin._send_request(request)  # noqa: SLF001 - no public API for DeleteAcls
    deleted = 0
    for binding, entry in zip(bindings, response.filter_responses, strict=True):
        code, message, matching = entry[0], entry[1], entry[2]
        if code != 0:
            raise BrokerError(f"could not delete ACL {binding}: {message or code}")
        deleted += len(matching)
    return deleted


@functools.cache
def _request_classes() -> dict[int, type[Any]]:
    """CreateAcls / DeleteAcls requests over aiokafka's v1 structs, many bindings each
    (aiokafka's own request classes carry one binding)."""
    from aiokafka.protocol.admin import CreateAclsRequest_v1, DeleteAclsRequest_v1
    from aiokafka.protocol.api import Request

    class CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
        API_KEY = _API_CREATE_ACLS

        def __init__(self, entries: list[tuple[Any, ...]]) -> None:
            self.entries = entries

        def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> Any:
            return request_struct_class(self.entries)

    class DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
        API_KEY = _API_DELETE_ACLS

        def __init__(self, entries: list[tuple[Any, ...]]) -> None:
            self.entries = entries

        def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> Any:
            return request_struct_class(self.entries)

    return {_API_CREATE_ACLS: CreateAcls, _API_DELETE_ACLS: DeleteAcls}


def _request(api_key: int, bindings: Sequence[AclBinding]) -> Any:
    return _request_classes()[api_key]([b._fields() for b in bindings])
