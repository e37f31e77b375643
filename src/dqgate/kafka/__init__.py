"""The project-managed Apache Kafka broker for local runs, tests and CI.

::

    from dqgate.kafka import BrokerConfig, start_broker, stop_broker
    handle = start_broker(BrokerConfig(data_dir=Path(".kafka/broker")))
    ...                      # clients use handle.bootstrap ("127.0.0.1:PORT")
    stop_broker(handle.data_dir)

The broker is assembled from Maven Central jars (``fetch_jars``) and run with ``java``.
Importing this package does not import aiokafka; the admin helpers do, when called.
"""

from __future__ import annotations

from dqgate.kafka.admin import BrokerNode, create_topic, delete_topics, describe_brokers, run_sync
from dqgate.kafka.broker import (
    BrokerHandle,
    BrokerStatus,
    broker_status,
    start_broker,
    stop_broker,
)
from dqgate.kafka.jars import default_kafka_home, fetch_jars
from dqgate.kafka.properties import BrokerConfig, ScramUser, new_cluster_id

__all__ = [
    "BrokerConfig",
    "BrokerHandle",
    "BrokerNode",
    "BrokerStatus",
    "ScramUser",
    "broker_status",
    "create_topic",
    "default_kafka_home",
    "delete_topics",
    "describe_brokers",
    "fetch_jars",
    "new_cluster_id",
    "run_sync",
    "start_broker",
    "stop_broker",
]
