"""The secured broker: SCRAM over TLS, client certificates, ACLs enforced, fast refusals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from dqgate.kafka import (
    AclOperation,
    AclResourceType,
    MissingPermission,
    admin_client,
    check_permissions,
    create_acls,
    create_local_pki,
    delete_acls,
    gate_acls,
    probe_connection,
    run_sync,
)

from .conftest import GATE_USER, SecureBroker

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., str]


async def _produce(
    bootstrap: str, options: dict[str, Any], topic: str, values: list[bytes]
) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **options)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _consume(
    bootstrap: str, options: dict[str, Any], topic: str, count: int, *, group: str | None = None
) -> list[bytes]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **options,
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batches = await consumer.getmany(timeout_ms=500)
                got += [m.value for messages in batches.values() for m in messages]
        if group is not None:
            await consumer.commit()
    finally:
        await consumer.stop()
    return got


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT", "SSL"])
def test_admin_round_trip_over_each_secured_listener(
    secure_broker: SecureBroker, secure_topic: TopicFactory, protocol: str
) -> None:
    """The super user produces and consumes over SCRAM+TLS, SCRAM and client-cert TLS."""
    topic = secure_topic()
    bootstrap, options = secure_broker.bootstrap(protocol), secure_broker.options(protocol, "admin")
    values = [f"{protocol}-{i}".encode() for i in range(5)]
    run_sync(_produce(bootstrap, options, topic, values))
    assert (
        run_sync(_consume(bootstrap, secure_broker.options(protocol, "admin"), topic, 5)) == values
    )


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SSL"])
def test_gate_acls_allow_exactly_the_gate_work(
    secure_broker: SecureBroker, secure_topic: TopicFactory, protocol: str
) -> None:
    """With gate_acls the gate principal reads its source in its group and writes outputs."""
    source, clean, quarantine = secure_topic(), secure_topic(), secure_topic()
    group = f"dqgate-sec-{source[-8:]}"
    acls = gate_acls(
        f"User:{GATE_USER}", sources=[source], outputs=[clean, quarantine], group=group
    )
    run_sync(create_acls(secure_broker.admin_bootstrap, acls))
    admin = secure_broker.options("PLAINTEXT", "admin")
    run_sync(_produce(secure_broker.admin_bootstrap, admin, source, [b"a", b"b"]))
    bootstrap = secure_broker.bootstrap(protocol)
    read = run_sync(
        _consume(bootstrap, secure_broker.options(protocol, GATE_USER), source, 2, group=group)
    )
    assert read == [b"a", b"b"]
    for topic in (clean, quarantine):
        run_sync(_produce(bootstrap, secure_broker.options(protocol, GATE_USER), topic, [b"x"]))
    assert run_sync(_consume(secure_broker.admin_bootstrap, admin, clean, 1)) == [b"x"]


def test_gate_without_acls_is_denied_by_the_authorizer(
    secure_broker: SecureBroker, secure_topic: TopicFactory
) -> None:
    """Writing a topic without an ACL fails with TopicAuthorizationFailed."""
    from aiokafka.errors import TopicAuthorizationFailedError

    topic = secure_topic()
    options = secure_broker.options("SASL_SSL", "reader")
    with pytest.raises(TopicAuthorizationFailedError):
        run_sync(_produce(secure_broker.sasl_ssl_bootstrap, options, topic, [b"x"]))


def test_check_permissions_names_each_missing_permission(
    secure_broker: SecureBroker, secure_topic: TopicFactory
) -> None:
    """check_permissions reports exactly the ACLs a principal lacks, and none once granted."""
    source, clean = secure_topic(), secure_topic()
    group = f"dqgate-perm-{source[-8:]}"

    async def report() -> tuple[MissingPermission, ...]:
        options = secure_broker.options("SASL_SSL", "reader")
        async with admin_client(
            secure_broker.sasl_ssl_bootstrap, timeout_s=15, options=options
        ) as admin:
            result = await check_permissions(
                admin, read_topics=[source], write_topics=[clean], groups=[group]
            )
        return result.missing

    missing = run_sync(report())
    assert {(m.resource_type, m.resource_name, m.operation) for m in missing} == {
        (AclResourceType.TOPIC, source, AclOperation.READ),
        (AclResourceType.TOPIC, clean, AclOperation.WRITE),
        (AclResourceType.GROUP, group, AclOperation.READ),
    }
    acls = gate_acls("User:reader", sources=[source], outputs=[clean], group=group)
    run_sync(create_acls(secure_broker.admin_bootstrap, acls))
    try:
        assert run_sync(report()) == ()
    finally:
        assert run_sync(delete_acls(secure_broker.admin_bootstrap, acls)) == len(acls)


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_wrong_password_is_refused_within_seconds(
    secure_broker: SecureBroker, protocol: str
) -> None:
    """A wrong SCRAM password is reported as an authentication failure, quickly."""
    started = time.monotonic()
    options = secure_broker.options(protocol, GATE_USER, password="not-the-password")
    result = run_sync(probe_connection([secure_broker.bootstrap(protocol)], options, timeout_s=10))
    assert time.monotonic() - started < 5
    assert result.refused and result.problem is not None
    assert "authentication failed" in result.problem
    assert "not-the-password" not in result.problem


def test_untrusted_broker_certificate_is_refused(
    secure_broker: SecureBroker, tmp_path: Any
) -> None:
    """A client trusting another CA refuses the broker: verification is on by default."""
    from aiokafka.helpers import create_ssl_context

    other = create_local_pki(tmp_path / "other-ca")
    options = secure_broker.options("SASL_SSL", GATE_USER)
    options["ssl_context"] = create_ssl_context(cafile=str(other.ca_file))
    result = run_sync(probe_connection([secure_broker.sasl_ssl_bootstrap], options))
    assert result.refused and "certificate was rejected" in str(result.problem)


def test_hostname_not_in_certificate_is_refused(secure_broker: SecureBroker) -> None:
    """Connecting as 'localhost' to a certificate for 127.0.0.1 fails hostname checking."""
    port = secure_broker.sasl_ssl_bootstrap.rpartition(":")[2]
    options = secure_broker.options("SASL_SSL", GATE_USER)
    result = run_sync(probe_connection([f"localhost:{port}"], options))
    assert result.refused and "certificate was rejected" in str(result.problem)


def test_ssl_listener_requires_a_client_certificate(secure_broker: SecureBroker) -> None:
    """Without a client certificate the SSL listener closes the connection."""
    from aiokafka.helpers import create_ssl_context

    options = {
        "security_protocol": "SSL",
        "ssl_context": create_ssl_context(cafile=str(secure_broker.pki.ca_file)),
    }
    result = run_sync(probe_connection([secure_broker.ssl_bootstrap], options, timeout_s=10))
    assert not result.ok
    assert "client certificate" in str(result.problem)
