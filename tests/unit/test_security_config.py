"""The secured broker's configuration, its throw-away CA and ACL values (no broker)."""

from __future__ import annotations

import shutil
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

from dqgate.errors import BrokerError
from dqgate.kafka import (
    AclBinding,
    AclOperation,
    AclResourceType,
    BrokerConfig,
    BrokerTls,
    ScramUser,
    create_local_pki,
    gate_acls,
    probe_connection,
    run_sync,
)
from dqgate.kafka.permissions import MissingPermission
from dqgate.kafka.ports import resolve_ports
from dqgate.kafka.process import BrokerState, read_state, write_state
from dqgate.kafka.properties import listeners_for, render_properties

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _tls(tmp_path: Path) -> BrokerTls:
    return BrokerTls(
        keystore=tmp_path / "broker.p12", keystore_password="ks-pw", truststore=tmp_path / "ca.pem"
    )


def _props(cfg: BrokerConfig) -> dict[str, str]:
    listeners = listeners_for(
        port=9092,
        controller_port=9093,
        sasl_port=cfg.sasl_port and 9094,
        sasl_ssl_port=cfg.sasl_ssl_port and 9095,
        ssl_port=cfg.ssl_port and 9096,
        tls=cfg.tls,
    )
    text = render_properties(cfg, listeners=listeners, log_dir=Path("/d"))
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_sasl_ssl_listener_keys(tmp_path: Path) -> None:
    """SASL_SSL is SCRAM-SHA-512 over TLS with the broker's PKCS12 keystore."""
    props = _props(BrokerConfig(data_dir=tmp_path, sasl_ssl_port=9095, tls=_tls(tmp_path)))
    assert "SASL_SSL://127.0.0.1:9095" in props["advertised.listeners"]
    assert "SASL_SSL:SASL_SSL" in props["listener.security.protocol.map"]
    prefix = "listener.name.sasl_ssl"
    assert props[f"{prefix}.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props[f"{prefix}.ssl.keystore.type"] == "PKCS12"
    assert props[f"{prefix}.ssl.keystore.location"] == str(tmp_path / "broker.p12")
    assert props[f"{prefix}.ssl.client.auth"] == "none"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"


def test_ssl_listener_requires_client_certificates(tmp_path: Path) -> None:
    """The SSL listener requires a client certificate signed by the truststore's CA."""
    props = _props(BrokerConfig(data_dir=tmp_path, ssl_port=9096, tls=_tls(tmp_path)))
    prefix = "listener.name.ssl.ssl"
    assert props[f"{prefix}.client.auth"] == "required"
    assert props[f"{prefix}.truststore.type"] == "PEM"
    assert props[f"{prefix}.truststore.location"] == str(tmp_path / "ca.pem")
    assert props[f"{prefix}.principal.mapping.rules"].startswith("RULE:^CN=")


def test_authorizer_keys(tmp_path: Path) -> None:
    """The StandardAuthorizer denies by default; ANONYMOUS and the admins are super users."""
    cfg = BrokerConfig(data_dir=tmp_path, authorizer=True, super_users=("User:admin",))
    props = _props(cfg)
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:ANONYMOUS;User:admin"


def test_no_authorizer_unless_asked(tmp_path: Path) -> None:
    """A default broker has no authorizer (the plain test broker stays open)."""
    assert "authorizer.class.name" not in _props(BrokerConfig(data_dir=tmp_path))


def test_keystore_password_is_not_in_repr(tmp_path: Path) -> None:
    """BrokerTls and BrokerConfig reprs never show the keystore password."""
    cfg = BrokerConfig(data_dir=tmp_path, ssl_port=0, tls=_tls(tmp_path))
    assert "ks-pw" not in repr(cfg)
    assert "ks-pw" not in repr(cfg.tls)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sasl_ssl_port": 0}, "need tls"),
        ({"ssl_port": 0}, "need tls"),
        ({"super_users": ("User:admin",)}, "needs authorizer"),
        ({"authorizer": True, "super_users": ("admin",)}, "User:NAME"),
        ({"scram_users": (ScramUser(name="a", password="b"),)}, "sasl_ssl_port"),
        ({"sasl_ssl_port": 9095, "ssl_port": 9095, "tls": "x"}, "must differ"),
    ],
)
def test_invalid_security_config_fails_loudly(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    """Impossible security settings raise BrokerError naming what to fix."""
    with pytest.raises(BrokerError, match=message):
        BrokerConfig(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_tls_ports_are_resolved_and_kept_on_restart(tmp_path: Path) -> None:
    """SASL_SSL and SSL ports of 0 become distinct free ports, reused by a restart."""
    cfg = BrokerConfig(data_dir=tmp_path, sasl_ssl_port=0, ssl_port=0, tls=_tls(tmp_path))
    first = resolve_ports(cfg, None)
    ports = [first.port, first.controller_port, first.sasl_ssl_port, first.ssl_port]
    assert all(ports) and len(set(ports)) == 4 and first.sasl_port is None
    write_state(tmp_path, first, pid=1)
    assert read_state(tmp_path) == first
    assert resolve_ports(cfg, read_state(tmp_path)) == first


def test_state_without_tls_ports_reads_as_none(tmp_path: Path) -> None:
    """A state file written before the TLS listeners existed still reads."""
    (tmp_path / "broker.json").write_text(
        '{"port": 1, "controller_port": 2, "sasl_port": null, "cluster_id": "c"}'
    )
    assert read_state(tmp_path) == BrokerState(port=1, controller_port=2, cluster_id="c")


def test_gate_acls_are_least_privilege() -> None:
    """A gate gets READ on sources, WRITE on outputs, READ on its group, DESCRIBE_CONFIGS
    on its topics (the start-up size check), nothing else."""
    acls = gate_acls("User:gate", sources=["in"], outputs=["ok", "bad"], group="g")
    assert {(a.resource_type, a.resource_name, a.operation) for a in acls} == {
        (AclResourceType.TOPIC, "in", AclOperation.READ),
        (AclResourceType.TOPIC, "ok", AclOperation.WRITE),
        (AclResourceType.TOPIC, "bad", AclOperation.WRITE),
        (AclResourceType.GROUP, "g", AclOperation.READ),
        *((AclResourceType.TOPIC, t, AclOperation.DESCRIBE_CONFIGS) for t in ("in", "ok", "bad")),
    }
    assert all(a.principal == "User:gate" and a.host == "*" for a in acls)


def test_acl_binding_needs_a_user_principal() -> None:
    """An ACL principal must be written User:NAME."""
    with pytest.raises(BrokerError, match="User:NAME"):
        AclBinding(
            resource_type=AclResourceType.TOPIC,
            resource_name="t",
            principal="gate",
            operation=AclOperation.READ,
        )


def test_missing_permission_reads_like_an_acl() -> None:
    """A missing permission names the operation, the resource kind and its name."""
    missing = MissingPermission(
        resource_type=AclResourceType.GROUP, resource_name="g", operation=AclOperation.READ
    )
    assert str(missing) == "READ on group 'g'"


def test_unreachable_server_is_not_an_authentication_failure() -> None:
    """A closed port gives a problem naming the server, not 'refused' credentials."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_sync(probe_connection([f"127.0.0.1:{port}"], {}, timeout_s=2))
    assert not result.ok and not result.refused
    assert f"127.0.0.1:{port}" in str(result.problem)


@needs_openssl
def test_local_pki_files_are_private(tmp_path: Path) -> None:
    """Keys and the keystore are readable by their owner only; no request is left."""
    pki = create_local_pki(tmp_path, clients={"gate": "key-pw", "plain": None})
    private = [tmp_path / "ca.key", pki.broker.keystore, *(c.keyfile for c in pki.clients.values())]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not list(tmp_path.glob("*.csr"))
    assert pki.clients["gate"].keyfile.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY")
    assert "key-pw" not in repr(pki)


@needs_openssl
def test_local_pki_passes_verification_and_hostname_checks(tmp_path: Path) -> None:
    """A mutual-TLS handshake on 127.0.0.1 succeeds with the CA, the broker and a client cert."""
    pki = create_local_pki(tmp_path, clients={"gate": "key-pw"})
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "broker.pem", tmp_path / "broker.key")
    server.load_verify_locations(pki.ca_file)
    server.verify_mode = ssl.CERT_REQUIRED
    client = ssl.create_default_context(cafile=str(pki.ca_file))
    gate = pki.clients["gate"]
    client.load_cert_chain(gate.certfile, gate.keyfile, password=gate.key_password)
    peer: list[object] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def serve() -> None:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                peer.append(tls.getpeercert())

        thread = threading.Thread(target=serve)
        thread.start()
        with (
            socket.create_connection(listener.getsockname(), timeout=5) as raw,
            client.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert client.check_hostname and tls.version() in ("TLSv1.3", "TLSv1.2")
            tls.recv(1)  # the server closes after the handshake
        thread.join(timeout=5)
    assert peer and (("commonName", "gate"),) in peer[0]["subject"]  # type: ignore[index]
