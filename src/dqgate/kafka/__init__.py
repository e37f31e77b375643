"""The project-managed Apache Kafka broker for local runs, tests and CI.

::

    from dqgate.kafka import BrokerConfig, start_broker, stop_broker
    handle = start_broker(BrokerConfig(data_dir=Path(".kafka/broker")))
    ...                      # clients use handle.bootstrap ("127.0.0.1:PORT")
    stop_broker(handle.data_dir)

The broker is assembled from Maven Central jars (``fetch_jars``) and run with ``java``.
Secured listeners (SASL_PLAINTEXT, SASL_SSL, SSL with client certificates), the KRaft
``StandardAuthorizer``, a throw-away CA (``create_local_pki``), ACL helpers and the
client-side checks (``probe_connection``, ``check_permissions``) live here too, and so do
the settings of every Kafka client dqgate makes (:mod:`dqgate.kafka.clients`) and the one
group-less partition reader of its tools (:mod:`dqgate.kafka.reader`).
Importing this package does not import aiokafka; the admin helpers do, when called.
"""

from __future__ import annotations

from dqgate.kafka.acls import (
    AclBinding,
    AclOperation,
    AclPatternType,
    AclPermission,
    AclResourceType,
    create_acls,
    delete_acls,
    gate_acls,
)
from dqgate.kafka.admin import (
    BrokerNode,
    admin_client,
    alter_topic_configs,
    create_topic,
    delete_topics,
    describe_brokers,
    run_sync,
)
from dqgate.kafka.broker import (
    BrokerHandle,
    BrokerStatus,
    broker_status,
    start_broker,
    stop_broker,
)
from dqgate.kafka.jars import default_kafka_home, fetch_jars
from dqgate.kafka.permissions import MissingPermission, PermissionReport, check_permissions
from dqgate.kafka.pki import ClientCertificate, LocalPki, create_local_pki
from dqgate.kafka.probe import ProbeResult, probe_connection
from dqgate.kafka.properties import BrokerConfig, ScramUser, new_cluster_id
from dqgate.kafka.security import BrokerTls

__all__ = [
    "AclBinding",
    "AclOperation",
    "AclPatternType",
    "AclPermission",
    "AclResourceType",
    "BrokerConfig",
    "BrokerHandle",
    "BrokerNode",
    "BrokerStatus",
    "BrokerTls",
    "ClientCertificate",
    "LocalPki",
    "MissingPermission",
    "PermissionReport",
    "ProbeResult",
    "ScramUser",
    "admin_client",
    "alter_topic_configs",
    "broker_status",
    "check_permissions",
    "create_acls",
    "create_local_pki",
    "create_topic",
    "default_kafka_home",
    "delete_acls",
    "delete_topics",
    "describe_brokers",
    "fetch_jars",
    "gate_acls",
    "new_cluster_id",
    "probe_connection",
    "run_sync",
    "start_broker",
    "stop_broker",
]
