"""The secured demo: the gate, the producer and the operator as least-privileged principals.

``dqgate demo run --secure PROTOCOL`` runs the same demo on a broker with a SCRAM + TLS
listener, a client-certificate listener and the KRaft StandardAuthorizer:

================== ========================================================================
principal          may
================== ========================================================================
``dqgate-gate``    READ the source, WRITE clean and quarantine, READ its group (gate_acls)
``demo-producer``  WRITE the source
``dq-operator``    READ the quarantine topic (``dqgate quarantine ...``)
``demo-admin``     everything (super user): the demo's own count of the outputs
================== ========================================================================

Every client connects over ``PROTOCOL`` (SASL_SSL or SASL_PLAINTEXT with SCRAM-SHA-512,
or SSL with a client certificate), verifying the broker's certificate against a
throw-away CA made for the demo. Passwords and key passwords are random, written to
files (mode 0600) next to the configurations, which name the files and never hold a
secret. Topics and ACLs are set up on the broker's plain loopback listener, as a
cluster administrator would.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dqgate.kafka import (
    AclBinding,
    AclOperation,
    AclResourceType,
    BrokerConfig,
    BrokerHandle,
    LocalPki,
    ScramUser,
    create_local_pki,
    gate_acls,
)

__all__ = ["GATE", "OPERATOR", "PROTOCOLS", "SecureDemo"]

PROTOCOLS = ("SASL_SSL", "SASL_PLAINTEXT", "SSL")
GATE = "dqgate-gate"
PRODUCER = "demo-producer"
OPERATOR = "dq-operator"
ADMIN = "demo-admin"
_USERS = (GATE, PRODUCER, OPERATOR, ADMIN)
_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecureDemo:
    """The demo's principals, their secrets on disk and the broker settings they need."""

    protocol: str
    directory: Path
    pki: LocalPki
    passwords: dict[str, str] = field(repr=False)

    @classmethod
    def create(cls, directory: Path, protocol: str) -> SecureDemo:
        """A fresh CA, certificates and passwords in ``directory`` (files mode 0600)."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        passwords = {user: secrets.token_urlsafe(24) for user in _USERS}
        pki = create_local_pki(directory / "pki", clients=passwords)
        for user, password in passwords.items():
            _write_secret(directory / f"{user}.password", password)
        return cls(protocol=protocol, directory=directory, pki=pki, passwords=passwords)

    def broker_config(self, data_dir: Path) -> BrokerConfig:
        """The broker with all three secured listeners, SCRAM users and the authorizer."""
        return BrokerConfig(
            data_dir=data_dir,
            sasl_port=0,
            sasl_ssl_port=0,
            ssl_port=0,
            tls=self.pki.broker,
            scram_users=tuple(ScramUser(name=u, password=p) for u, p in self.passwords.items()),
            authorizer=True,
            super_users=(f"User:{ADMIN}",),
        )

    def acls(
        self, *, source: str, outputs: tuple[str, str], quarantine: str, group: str
    ) -> list[AclBinding]:
        """Exactly what each principal needs (see the module docstring)."""
        topic = AclResourceType.TOPIC
        return [
            *gate_acls(f"User:{GATE}", sources=[source], outputs=outputs, group=group),
            AclBinding(
                resource_type=topic, resource_name=source, principal=f"User:{PRODUCER}",
                operation=AclOperation.WRITE,
            ),
            AclBinding(
                resource_type=topic, resource_name=quarantine, principal=f"User:{OPERATOR}",
                operation=AclOperation.READ,
            ),
        ]  # fmt: skip

    def kafka_section(self, handle: BrokerHandle, user: str) -> dict[str, Any]:
        """The ``kafka:`` section of a configuration for ``user`` (secrets by file)."""
        bootstrap = {
            "SASL_SSL": handle.sasl_ssl_bootstrap,
            "SASL_PLAINTEXT": handle.sasl_bootstrap,
            "SSL": handle.ssl_bootstrap,
        }[self.protocol]
        section: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "security_protocol": self.protocol,
            "client_id": user,
        }
        if self.protocol.startswith("SASL_"):
            section |= {
                "sasl_mechanism": _MECHANISM,
                "sasl_username": user,
                "sasl_password_file": str(self.directory / f"{user}.password"),
            }
        if self.protocol in ("SSL", "SASL_SSL"):
            section["ssl_cafile"] = str(self.pki.ca_file)
        if self.protocol == "SSL":
            cert = self.pki.clients[user]
            section |= {
                "ssl_certfile": str(cert.certfile),
                "ssl_keyfile": str(cert.keyfile),
                "ssl_key_password_file": str(self.directory / f"{user}.password"),
            }
        return section


def client_options(config_path: Path) -> dict[str, Any]:
    """aiokafka options from a gate configuration file (its ``kafka:`` section)."""
    from dqgate.config import load_config
    from dqgate.kafka.clients import aiokafka_options

    return aiokafka_options(load_config(config_path).kafka)


def _write_secret(path: Path, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as stream:
        stream.write(secret + "\n")
