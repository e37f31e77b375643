"""The broker's secured listeners and its authorizer, as ``server.properties`` keys.

Three client listeners besides the plain one, each opt-in on :class:`BrokerConfig`:

- ``SASL_PLAINTEXT``: SCRAM-SHA-512, no TLS (the SCRAM exchange never sends the password).
- ``SASL_SSL``: SCRAM-SHA-512 over TLS; the broker presents the keystore's certificate.
- ``SSL``: TLS with a *required* client certificate signed by the truststore's CA; the
  principal is the certificate's CN (``User:gate`` for ``CN=gate``), like SCRAM's.

With ``authorizer=True`` the KRaft ``StandardAuthorizer`` denies whatever no ACL allows.
The controller and inter-broker listeners stay PLAINTEXT on 127.0.0.1, whose principal is
``User:ANONYMOUS``: it is a super user so the node can talk to itself, which makes the
plain loopback listener the operator's door (tests create topics and ACLs through it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dqgate.errors import BrokerError

__all__ = [
    "ANONYMOUS",
    "SASL_SSL_LISTENER",
    "SCRAM_LOGIN",
    "SCRAM_MECHANISM",
    "SSL_LISTENER",
    "STANDARD_AUTHORIZER",
    "BrokerTls",
    "authorizer_properties",
    "sasl_properties",
    "tls_properties",
]

SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
SASL_SSL_LISTENER = "SASL_SSL"
SSL_LISTENER = "SSL"
ANONYMOUS = "User:ANONYMOUS"
STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
# CN=gate,OU=... -> gate: a certificate's principal looks like a SCRAM user's.
PRINCIPAL_MAPPING_RULES = "RULE:^CN=([^,]+).*$/$1/,DEFAULT"


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerTls:
    """The broker's TLS material: its PKCS12 keystore and the CA that signs clients.

    ``truststore`` is a PEM file of CA certificates; it is only used by the ``SSL``
    listener, which requires a client certificate signed by one of them.
    """

    keystore: Path
    keystore_password: str = field(repr=False)
    truststore: Path

    def __post_init__(self) -> None:
        if not self.keystore_password:
            raise BrokerError("BrokerTls.keystore_password must not be empty")
        if any(c in self.keystore_password for c in "\r\n"):
            raise BrokerError("BrokerTls.keystore_password must not contain line breaks")


def sasl_properties(listener: str) -> Mapping[str, str]:
    """The SCRAM-SHA-512 keys of a SASL listener (its JAAS line is mandatory)."""
    prefix = f"listener.name.{listener.lower()}"
    return MappingProxyType(
        {
            f"{prefix}.sasl.enabled.mechanisms": SCRAM_MECHANISM,
            f"{prefix}.{SCRAM_MECHANISM.lower()}.sasl.jaas.config": SCRAM_LOGIN,
        }
    )


def tls_properties(listener: str, tls: BrokerTls, *, client_auth: bool) -> Mapping[str, str]:
    """The keystore (and, with ``client_auth``, truststore) keys of a TLS listener."""
    prefix = f"listener.name.{listener.lower()}.ssl"
    props = {
        f"{prefix}.keystore.type": "PKCS12",
        f"{prefix}.keystore.location": str(tls.keystore),
        f"{prefix}.keystore.password": tls.keystore_password,
        f"{prefix}.key.password": tls.keystore_password,
        f"{prefix}.enabled.protocols": "TLSv1.3,TLSv1.2",
        f"{prefix}.client.auth": "required" if client_auth else "none",
    }
    if client_auth:
        props[f"{prefix}.truststore.type"] = "PEM"
        props[f"{prefix}.truststore.location"] = str(tls.truststore)
        props[f"{prefix}.principal.mapping.rules"] = PRINCIPAL_MAPPING_RULES
    return MappingProxyType(props)


def authorizer_properties(super_users: tuple[str, ...]) -> Mapping[str, str]:
    """StandardAuthorizer keys: deny unless an ACL allows; ANONYMOUS and ``super_users``."""
    for user in super_users:
        if not user.startswith("User:") or len(user) == len("User:") or ";" in user:
            raise BrokerError(
                f"super user {user!r}: write principals as User:NAME (no ';'), e.g. User:admin"
            )
    users = dict.fromkeys((ANONYMOUS, *super_users))
    return MappingProxyType(
        {
            "authorizer.class.name": STANDARD_AUTHORIZER,
            "allow.everyone.if.no.acl.found": "false",
            "super.users": ";".join(users),
        }
    )
