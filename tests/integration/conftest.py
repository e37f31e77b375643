"""Shared fixtures of the integration tests: one real Kafka broker per test session.

- ``kafka_bootstrap`` (session): ``"127.0.0.1:PORT"``. ``$DQGATE_TEST_BOOTSTRAP`` names an
  already running broker; otherwise one is started with ``dqgate.kafka.start_broker`` on a
  temporary data dir (free ports) and stopped when the session ends.
- ``kafka_broker`` (test): the session's :class:`ManagedBroker`; ``stop()``, ``start()`` and
  ``restart()`` keep storage and ports, so ``kafka_bootstrap`` stays valid. A broker left
  stopped by a test is started again after it.
- ``new_topic`` (test): ``new_topic(partitions=1, prefix="dqgate-test") -> name``, a topic
  with a unique name (uuid suffix). Topics are not deleted: names never repeat.
- ``kafka_jars`` (session): the broker classpath, for tests that start their own broker.
- ``secure_broker`` (session): a second broker with SASL_PLAINTEXT, SASL_SSL and SSL
  (client certificates) listeners, a throw-away CA and the KRaft ``StandardAuthorizer``:
  see :class:`SecureBroker`. Its plain listener is the admin door (super user).

Tests needing a broker are skipped, with the reason, only when ``java`` is missing, and
fail instead in CI (``CI=true`` or ``DQGATE_TEST_REQUIRE_TOOLS=1``): a CI machine without
Java must not pass by skipping every integration test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.tools import missing
from dqgate.kafka import (
    BrokerConfig,
    BrokerHandle,
    LocalPki,
    ScramUser,
    create_local_pki,
    create_topic,
    fetch_jars,
    run_sync,
    start_broker,
    stop_broker,
)

BOOTSTRAP_ENV = "DQGATE_TEST_BOOTSTRAP"
NO_JAVA = "java is not on PATH: integration tests run a real Kafka broker (install Java 17+)"


class ManagedBroker:
    """The session's broker, stoppable and restartable on the same storage and ports."""

    def __init__(
        self,
        *,
        bootstrap: str,
        config: BrokerConfig | None = None,
        handle: BrokerHandle | None = None,
        jars: Path | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.config = config
        self.handle = handle
        self._jars = jars
        self.running = True

    @property
    def external(self) -> bool:
        """True when the broker came from $DQGATE_TEST_BOOTSTRAP (not ours to stop)."""
        return self.config is None

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout_s``)."""
        config = self._own_config()
        stop_broker(config.data_dir, timeout_s=timeout_s)
        self.running = False

    def start(self) -> BrokerHandle:
        """Start the broker again on its existing storage; same bootstrap as before."""
        config = self._own_config()
        self.handle = start_broker(config, keep_storage=True, jars_dir=self._jars)
        self.running = True
        return self.handle

    def restart(self) -> BrokerHandle:
        """Stop, then start again on the same storage and ports."""
        self.stop()
        return self.start()

    def _own_config(self) -> BrokerConfig:
        if self.config is None:
            pytest.skip(f"needs the project-managed broker; unset {BOOTSTRAP_ENV}")
        return self.config


ENGINES = ("batch", "faust")


@pytest.fixture(scope="module", params=ENGINES)
def gate_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the module's gate workers on each engine in turn (through ``DQGATE_ENGINE``)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DQGATE_ENGINE", request.param)
        yield str(request.param)


@pytest.fixture(scope="session")
def kafka_jars() -> Path:
    """The broker's jars folder (fetched once); skips when java is missing (fails in CI)."""
    if shutil.which("java") is None:
        missing(NO_JAVA)
    return fetch_jars()


@pytest.fixture(scope="session")
def _kafka_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedBroker]:
    external = os.environ.get(BOOTSTRAP_ENV)
    if external:
        yield ManagedBroker(bootstrap=external)
        return
    if shutil.which("java") is None:
        missing(NO_JAVA)
    jars = fetch_jars()
    config = BrokerConfig(data_dir=tmp_path_factory.mktemp("kafka-broker"))
    handle = start_broker(config, jars_dir=jars)
    broker = ManagedBroker(bootstrap=handle.bootstrap, config=config, handle=handle, jars=jars)
    try:
        yield broker
    finally:
        stop_broker(config.data_dir)


@pytest.fixture(scope="session")
def kafka_bootstrap(_kafka_session: ManagedBroker) -> str:
    """``host:port`` of the session's broker."""
    return _kafka_session.bootstrap


@pytest.fixture
def kafka_broker(_kafka_session: ManagedBroker) -> Iterator[ManagedBroker]:
    """The session's broker, with stop/start/restart; running again after the test."""
    yield _kafka_session
    if not _kafka_session.running:
        _kafka_session.start()


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> Callable[..., str]:
    """A factory of uniquely named topics: ``new_topic(partitions=1, prefix=...) -> name``."""

    def make(partitions: int = 1, *, prefix: str = "dqgate-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex}"
        run_sync(create_topic(kafka_bootstrap, name, partitions=partitions))
        return name

    return make


# --- the secured broker -----------------------------------------------------------------

ADMIN_USER = "admin"
GATE_USER = "gate"
SECURE_USERS = (ADMIN_USER, GATE_USER, "reader")
NO_OPENSSL = "openssl is not on PATH: the secured broker's test certificates need it"


@dataclass(frozen=True, kw_only=True)
class SecureBroker:
    """A broker with SCRAM, TLS and ACLs; ``passwords`` of its SCRAM users.

    ``admin`` is a super user; every other user starts with no ACL. Client certificates
    exist for the same names (principal ``User:<name>`` on the SSL listener).
    """

    handle: BrokerHandle
    pki: LocalPki
    passwords: dict[str, str]

    @property
    def admin_bootstrap(self) -> str:
        """The plain listener: ANONYMOUS is a super user there (test setup only)."""
        return self.handle.bootstrap

    @property
    def sasl_ssl_bootstrap(self) -> str:
        assert self.handle.sasl_ssl_bootstrap is not None
        return self.handle.sasl_ssl_bootstrap

    @property
    def sasl_bootstrap(self) -> str:
        assert self.handle.sasl_bootstrap is not None
        return self.handle.sasl_bootstrap

    @property
    def ssl_bootstrap(self) -> str:
        assert self.handle.ssl_bootstrap is not None
        return self.handle.ssl_bootstrap

    def options(self, protocol: str, user: str, *, password: str | None = None) -> dict[str, Any]:
        """aiokafka client options for ``user`` over ``protocol`` (CA verification on)."""
        from aiokafka.helpers import create_ssl_context

        options: dict[str, Any] = {"security_protocol": protocol}
        if protocol.startswith("SASL_"):
            options["sasl_mechanism"] = "SCRAM-SHA-512"
            options["sasl_plain_username"] = user
            options["sasl_plain_password"] = password or self.passwords[user]
        if protocol == "SASL_SSL":
            options["ssl_context"] = create_ssl_context(cafile=str(self.pki.ca_file))
        if protocol == "SSL":
            cert = self.pki.clients[user]
            options["ssl_context"] = create_ssl_context(
                cafile=str(self.pki.ca_file),
                certfile=str(cert.certfile),
                keyfile=str(cert.keyfile),
                password=cert.key_password,
            )
        return options

    def bootstrap(self, protocol: str) -> str:
        """The listener for ``protocol``."""
        return {
            "PLAINTEXT": self.admin_bootstrap,
            "SASL_PLAINTEXT": self.sasl_bootstrap,
            "SASL_SSL": self.sasl_ssl_bootstrap,
            "SSL": self.ssl_bootstrap,
        }[protocol]


@pytest.fixture(scope="session")
def secure_broker(
    kafka_jars: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecureBroker]:
    """The session's secured broker (started on first use, stopped at the end)."""
    if shutil.which("openssl") is None:
        pytest.skip(NO_OPENSSL)
    passwords = {name: f"pw-{name}-{secrets.token_hex(12)}" for name in SECURE_USERS}
    pki = create_local_pki(
        tmp_path_factory.mktemp("secure-pki"),
        clients={name: passwords[name] for name in SECURE_USERS},
    )
    config = BrokerConfig(
        data_dir=tmp_path_factory.mktemp("secure-broker"),
        sasl_port=0,
        sasl_ssl_port=0,
        ssl_port=0,
        tls=pki.broker,
        scram_users=tuple(ScramUser(name=n, password=p) for n, p in passwords.items()),
        authorizer=True,
        super_users=(f"User:{ADMIN_USER}",),
    )
    handle = start_broker(config, jars_dir=kafka_jars)
    try:
        yield SecureBroker(handle=handle, pki=pki, passwords=passwords)
    finally:
        stop_broker(config.data_dir)


@pytest.fixture
def secure_topic(secure_broker: SecureBroker) -> Callable[..., str]:
    """A factory of uniquely named topics on the secured broker (created as admin)."""

    def make(partitions: int = 1, *, prefix: str = "dqgate-sec") -> str:
        name = f"{prefix}-{uuid.uuid4().hex}"
        run_sync(create_topic(secure_broker.admin_bootstrap, name, partitions=partitions))
        return name

    return make
