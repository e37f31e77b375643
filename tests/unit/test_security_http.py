"""The worker's HTTP endpoint: loopback by default, HTTPS and basic authentication."""

from __future__ import annotations

import asyncio
import base64
import shutil
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from dqgate.config import HttpAddress, build_config, load_config
from dqgate.errors import ConfigError
from dqgate.kafka import create_local_pki
from dqgate.metrics import GateMetrics

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

PASSWORD = "http-pw-5f3e9a"
SUITE = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
ROUTE = {"source": "in", "suite": str(SUITE), "clean": "ok", "quarantine": "bad"}


def _config(**extra: Any) -> dict[str, Any]:
    return {"kafka": {"bootstrap_servers": "127.0.0.1:9092"}, "routes": [ROUTE], **extra}


def test_metrics_address_defaults_to_loopback() -> None:
    """Without configuration the endpoint listens on 127.0.0.1 only."""
    assert build_config(_config(), environ={}).metrics_address == HttpAddress(
        host="127.0.0.1", port=9464
    )


def test_basic_auth_password_is_never_read_from_the_yaml(tmp_path: Path) -> None:
    """http.basic_auth_password in the file is refused, pointing at the environment."""
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(_config(http={"basic_auth_password": PASSWORD})))
    with pytest.raises(ConfigError, match="DQGATE_HTTP_BASIC_AUTH_PASSWORD") as caught:
        load_config(path, environ={})
    assert PASSWORD not in str(caught.value)


def test_basic_auth_password_from_environment_is_masked() -> None:
    """The password comes from DQGATE_HTTP_BASIC_AUTH_PASSWORD; repr never shows it."""
    config = build_config(
        _config(http={"basic_auth_username": "prom"}),
        environ={"DQGATE_HTTP_BASIC_AUTH_PASSWORD": PASSWORD},
    )
    assert config.http.basic_auth_password is not None
    assert config.http.basic_auth_password.reveal() == PASSWORD
    assert PASSWORD not in repr(config) and PASSWORD not in str(config.http)


def test_basic_auth_without_tls_off_loopback_is_refused() -> None:
    """Sending the password in clear over a non-loopback address fails at start."""
    with pytest.raises(ConfigError, match="in clear"):
        build_config(
            _config(metrics_address="0.0.0.0:9464", http={"basic_auth_username": "prom"}),
            environ={"DQGATE_HTTP_BASIC_AUTH_PASSWORD": PASSWORD},
        )


@pytest.fixture
def https_endpoint(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A served HttpService with TLS and basic auth: (URL, CA file)."""
    from dqgate.gate.http import HttpService, ResumeResult

    pki = create_local_pki(tmp_path / "pki")
    config = build_config(
        _config(
            metrics_address="127.0.0.1:0",
            http={
                "tls_certfile": str(tmp_path / "pki" / "broker.pem"),
                "tls_keyfile": str(tmp_path / "pki" / "broker.key"),
                "basic_auth_username": "prom",
            },
        ),
        environ={"DQGATE_HTTP_BASIC_AUTH_PASSWORD": PASSWORD},
    )
    assert config.metrics_address is not None

    async def resume(route: str) -> ResumeResult:
        return ResumeResult.UNKNOWN

    loop = asyncio.new_event_loop()
    service = HttpService(
        address=config.metrics_address,
        metrics=GateMetrics(CollectorRegistry()),
        status=lambda: {"ready": True},
        resume=resume,
        security=config.http,
        loop=loop,
    )
    url = loop.run_until_complete(service.bind())
    thread_done = asyncio.Event()

    def serve() -> None:
        loop.run_until_complete(thread_done.wait())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield url, pki.ca_file
    finally:
        loop.call_soon_threadsafe(thread_done.set)
        thread.join(timeout=5)
        loop.run_until_complete(service.on_stop())
        loop.close()


def _get(url: str, ca_file: Path, *, auth: tuple[str, str] | None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


@needs_openssl
def test_https_with_credentials_serves_metrics(https_endpoint: tuple[str, Path]) -> None:
    """HTTPS with the right user and password serves /metrics and /readyz."""
    url, ca_file = https_endpoint
    assert url.startswith("https://127.0.0.1:")
    status, body, _ = _get(url + "/metrics", ca_file, auth=("prom", PASSWORD))
    assert status == 200 and b"dqgate_" in body
    assert _get(url + "/readyz", ca_file, auth=("prom", PASSWORD))[0] == 200


@needs_openssl
@pytest.mark.parametrize("auth", [None, ("prom", "wrong"), ("other", PASSWORD), ("prom", "")])
def test_https_without_valid_credentials_is_401(
    https_endpoint: tuple[str, Path], auth: tuple[str, str] | None
) -> None:
    """Missing or wrong credentials get 401 with a Basic challenge, and no metrics."""
    url, ca_file = https_endpoint
    status, body, headers = _get(url + "/metrics", ca_file, auth=auth)
    assert status == 401 and b"dqgate_" not in body
    assert headers["WWW-Authenticate"].startswith("Basic ")


@needs_openssl
def test_plain_http_to_the_tls_port_gets_nothing(https_endpoint: tuple[str, Path]) -> None:
    """The endpoint speaks TLS only: a plain HTTP request gets no metrics."""
    url, _ = https_endpoint
    plain = url.replace("https://", "http://")
    with (
        pytest.raises((urllib.error.URLError, ConnectionError, OSError)),
        urllib.request.urlopen(plain + "/metrics", timeout=5) as response,
    ):
        assert b"dqgate_" not in response.read()
        raise ConnectionError("answered without TLS")
