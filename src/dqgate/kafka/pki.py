"""A throw-away certificate authority for the local broker: tests, demos, CI.

``create_local_pki(directory, clients=("gate",))`` runs the ``openssl`` command line to
make, in ``directory``:

- ``ca.pem`` / ``ca.key``: a CA valid for ``validity_days`` (clients trust ``ca.pem``);
- ``broker.p12``: the broker's key and certificate (``CN=127.0.0.1``,
  ``subjectAltName=IP:127.0.0.1``, so hostname checking passes on loopback) with the
  CA, in a PKCS12 keystore under a random password;
- ``<name>.pem`` / ``<name>.key`` per client: a client certificate ``CN=<name>``
  (principal ``User:<name>`` on the SSL listener), its key optionally encrypted.

Nothing here is meant for production certificates. Files are created mode 0600;
passwords reach ``openssl`` through its environment, never its command line.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dqgate.errors import BrokerError
from dqgate.kafka.security import BrokerTls

__all__ = ["ClientCertificate", "LocalPki", "create_local_pki"]

OPENSSL_TIMEOUT_S = 60.0
_PASSWORD_ENV = "DQGATE_PKI_PASSWORD"
_CONFIG_FILE = "openssl.cnf"
_REQ = f"-config {_CONFIG_FILE} -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCertificate:
    """A client's certificate and key (PEM); ``key_password`` None: unencrypted key."""

    name: str
    certfile: Path
    keyfile: Path
    key_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalPki:
    """What :func:`create_local_pki` made: the CA file, the broker's TLS, client certs."""

    ca_file: Path
    broker: BrokerTls
    clients: Mapping[str, ClientCertificate]


def create_local_pki(
    directory: Path,
    *,
    clients: Mapping[str, str | None] | tuple[str, ...] = (),
    validity_days: int = 7,
    ca_name: str = "dqgate local test CA",
) -> LocalPki:
    """Make a CA, a broker keystore and client certificates in ``directory``.

    ``clients`` names the client certificates; as a mapping, name -> key password
    (None: an unencrypted key). Raises BrokerError when ``openssl`` is missing or fails.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise BrokerError("openssl is not on PATH; install OpenSSL to make test certificates")
    wanted = dict(clients) if isinstance(clients, Mapping) else dict.fromkeys(clients)
    for name in wanted:
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise BrokerError(f"client name {name!r}: use letters, digits, '-', '_' and '.'")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / _CONFIG_FILE).write_text(_CONFIG, encoding="ascii")
    run = functools.partial(_run, openssl, directory)
    days = f"-days {validity_days}"
    run(f"req -x509 {_REQ} -extensions ca_ext -keyout ca.key -out ca.pem {days}", f"/CN={ca_name}")
    _leaf(run, "broker", "127.0.0.1", "server_ext", days)
    password = secrets.token_urlsafe(24)
    run(
        "pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker "
        f"-out broker.p12 -passout env:{_PASSWORD_ENV}",
        password=password,
    )
    made: dict[str, ClientCertificate] = {}
    for name, key_password in wanted.items():
        _leaf(run, name, name, "client_ext", days)
        keyfile = directory / f"{name}.key"
        if key_password is not None:
            run(
                f"pkey -in {name}.key -out {name}.enc.key -aes256 -passout env:{_PASSWORD_ENV}",
                password=key_password,
            )
            keyfile.unlink()
            keyfile = directory / f"{name}.enc.key"
        made[name] = ClientCertificate(
            name=name,
            certfile=directory / f"{name}.pem",
            keyfile=keyfile,
            key_password=key_password,
        )
    for request in directory.glob("*.csr"):
        request.unlink()
    ca_file = directory / "ca.pem"
    return LocalPki(
        ca_file=ca_file,
        broker=BrokerTls(
            keystore=directory / "broker.p12", keystore_password=password, truststore=ca_file
        ),
        clients=made,
    )


def _leaf(run: Callable[..., None], name: str, common_name: str, ext: str, days: str) -> None:
    """``<name>.key`` and ``<name>.pem``: a key and its CA-signed certificate."""
    run(f"req -new {_REQ} -keyout {name}.key -out {name}.csr", f"/CN={common_name}")
    run(
        f"x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -set_serial {secrets.randbits(63)} "
        f"-extfile {_CONFIG_FILE} -extensions {ext} -out {name}.pem {days}"
    )


def _run(
    openssl: str,
    directory: Path,
    command: str,
    subject: str | None = None,
    *,
    password: str | None = None,
) -> None:
    """Run ``openssl COMMAND [-subj SUBJECT]`` in ``directory`` (file names are relative)."""
    args = [openssl, *command.split()]
    if subject is not None:
        args += ["-subj", subject]
    env = dict(os.environ)
    if password is not None:
        env[_PASSWORD_ENV] = password
    try:
        done = subprocess.run(
            args,
            cwd=directory,
            umask=0o077,  # keys and keystores readable by their owner only, from the start
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=OPENSSL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        name = args[1]
        raise BrokerError(f"openssl {name} did not finish within {OPENSSL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise BrokerError(f"openssl {args[1]} failed (exit {done.returncode}): {done.stderr}")
