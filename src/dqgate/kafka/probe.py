"""One authenticated connection to a bootstrap server, failing with the precise reason.

aiokafka's clients turn every bootstrap failure into ``Unable to bootstrap`` and only log
the cause (a wrong password, an untrusted certificate). :func:`probe_connection` opens
the same kind of connection itself, so start-up can say *which* of these it is, within
``timeout_s``, and never retries a refused password. The result is a value: callers
raise their own error (a refused password is a configuration error, an unreachable
cluster may be retried). Messages carry no secret.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dqgate.errors import ConfigError, DQGateError, GateError

__all__ = ["ProbeResult", "connection_error", "probe_connection"]

_CONNECTION_KEYS = (
    "client_id",
    "ssl_context",
    "security_protocol",
    "sasl_mechanism",
    "sasl_plain_username",
    "sasl_plain_password",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """``server`` that accepted the connection, or ``problem`` saying why none did.

    ``refused`` is True when a broker refused the credentials or the TLS handshake
    failed: retrying with the same settings cannot help.
    """

    server: str | None = None
    problem: str | None = None
    refused: bool = False

    @property
    def ok(self) -> bool:
        """True when a connection was established and authenticated."""
        return self.server is not None


async def probe_connection(
    servers: Sequence[str], options: Mapping[str, Any], *, timeout_s: float = 10.0
) -> ProbeResult:
    """Connect (TLS, SASL) to the first of ``servers`` that answers, then disconnect.

    ``options`` are aiokafka client options (security settings; others are ignored).
    """
    from aiokafka.conn import create_conn
    from aiokafka.errors import (
        IllegalSaslStateError,
        KafkaConnectionError,
        KafkaError,
        SaslAuthenticationFailed,
        UnsupportedSaslMechanismError,
    )

    settings = {key: options[key] for key in _CONNECTION_KEYS if key in options}
    protocol = str(settings.get("security_protocol", "PLAINTEXT"))
    reasons: list[str] = []
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            async with asyncio.timeout(timeout_s):
                conn = await create_conn(
                    host, int(port), request_timeout_ms=int(timeout_s * 1000), **settings
                )
        except SaslAuthenticationFailed as exc:
            user = settings.get("sasl_plain_username")
            mechanism = settings.get("sasl_mechanism")
            return _refused(
                f"authentication failed at {server}: the broker refused user {user!r} with "
                f"{mechanism} ({_first_line(exc)}); check the user name and the password "
                "(DQGATE_KAFKA_SASL_PASSWORD or kafka.sasl_password_file)"
            )
        except (UnsupportedSaslMechanismError, IllegalSaslStateError) as exc:
            return _refused(
                f"SASL handshake failed at {server}: {_first_line(exc)}; check "
                "kafka.sasl_mechanism against the listener's enabled mechanisms"
            )
        except ssl.SSLCertVerificationError as exc:
            return _refused(
                f"TLS at {server}: the broker's certificate was rejected "
                f"({exc.verify_message}); set kafka.ssl_cafile to the CA that signed it, "
                "and connect by a host name or IP address the certificate names"
            )
        except ssl.SSLError as exc:
            return _refused(
                f"TLS handshake with {server} failed ({exc.reason or exc}); check that the "
                f"listener speaks {protocol} and, if it requires client certificates, "
                "kafka.ssl_certfile and kafka.ssl_keyfile"
            )
        except KafkaConnectionError as exc:
            hint = ""
            if protocol in ("SSL", "SASL_SSL"):
                hint = (
                    " during the TLS handshake: the listener may require a client certificate "
                    "(kafka.ssl_certfile, kafka.ssl_keyfile) or not speak TLS"
                )
            reasons.append(f"{server}: {_first_line(exc)}{hint}")
            _collect_failed_sockets()
            continue
        except (OSError, TimeoutError, KafkaError) as exc:
            what = f"no answer within {timeout_s:g} s" if isinstance(exc, TimeoutError) else exc
            reasons.append(f"{server}: {_first_line(what)}")
            continue
        conn.close()
        return ProbeResult(server=server)
    return ProbeResult(
        problem=f"cannot reach Kafka over {protocol}: {'; '.join(reasons)}; check "
        "kafka.bootstrap_servers and kafka.security_protocol"
    )


async def connection_error(
    options: Mapping[str, Any], exc: BaseException, *, timeout_s: float = 10.0
) -> DQGateError:
    """The error to raise after an aiokafka client failed to connect with ``options``.

    aiokafka only says ``Unable to bootstrap``; a probe finds the cause. Refused
    credentials or TLS settings are a :class:`ConfigError` (retrying cannot help); an
    unreachable cluster is a retriable :class:`GateError`.
    """
    servers = options.get("bootstrap_servers") or ()
    if isinstance(servers, str):
        servers = servers.split(",")
    probe = await probe_connection([str(s).strip() for s in servers], options, timeout_s=timeout_s)
    if probe.refused:
        return ConfigError(f"cannot connect to Kafka: {probe.problem}")
    detail = probe.problem or f"{type(exc).__name__}: {_first_line(exc)}"
    return GateError(f"cannot reach Kafka: {detail}", retriable=True)


def _refused(problem: str) -> ProbeResult:
    _collect_failed_sockets()
    return ProbeResult(problem=problem, refused=True)


def _collect_failed_sockets() -> None:
    """Collect the socket a failed TLS handshake leaves behind, here and quietly.

    asyncio (CPython 3.11) drops the socket of a connection whose TLS handshake failed
    without closing it; its ResourceWarning would otherwise surface at some later garbage
    collection, far from the cause (and as an error under ``-W error``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__
