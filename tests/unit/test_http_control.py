"""The control endpoint: off by default, its own token, JSON only, same origin, honest answers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client import CollectorRegistry

from dqgate.config import ENV_VARS, HttpAddress, HttpSecurityConfig, build_config, load_config
from dqgate.errors import ConfigError
from dqgate.gate import http as http_module
from dqgate.gate.http import HttpService, ResumeResult, exposure_warnings
from dqgate.metrics import GateMetrics

TOKEN = "control-token-8c1d0e4f2a7b"
PASSWORD = "scrape-pw-3b9e77a1"
SUITE = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
ROUTE = {"source": "in", "suite": str(SUITE), "clean": "ok", "quarantine": "bad"}
JSON = {"Content-Type": "application/json"}
REFUSED_LOG = logging.getLogger("dqgate.gate.http.refused")
"""Where the endpoint logs refused requests (rate-limited by its QuietLogFilter)."""


def _config(**extra: Any) -> dict[str, Any]:
    return {"kafka": {"bootstrap_servers": "127.0.0.1:9092"}, "routes": [ROUTE], **extra}


def _security(*, control: bool = True, basic_auth: bool = True) -> HttpSecurityConfig:
    http: dict[str, Any] = {"control_enabled": control}
    environ = {"DQGATE_HTTP_CONTROL_TOKEN": TOKEN}
    if basic_auth:
        http["basic_auth_username"] = "prom"
        environ["DQGATE_HTTP_BASIC_AUTH_PASSWORD"] = PASSWORD
    return build_config(_config(http=http), environ=environ).http


@dataclass
class Routes:
    """The gate's side of the resume contract: which routes exist and which are paused."""

    paused: dict[str, bool] = field(default_factory=lambda: {"orders": True, "payments": False})
    calls: list[str] = field(default_factory=list)

    async def resume(self, route: str) -> ResumeResult:
        self.calls.append(route)
        if route not in self.paused:
            return ResumeResult.UNKNOWN
        if not self.paused[route]:
            return ResumeResult.NOT_PAUSED
        self.paused[route] = False
        return ResumeResult.RESUMED


@contextmanager
def served(
    security: HttpSecurityConfig, *, host: str = "127.0.0.1"
) -> Iterator[tuple[str, Routes]]:
    """A real HttpService bound to ``host`` on a free port, served from a thread."""
    routes = Routes()
    loop = asyncio.new_event_loop()
    service = HttpService(
        address=HttpAddress(host=host, port=0),
        metrics=GateMetrics(CollectorRegistry()),
        status=lambda: {"ready": True},
        resume=routes.resume,
        security=security,
        loop=loop,
    )
    url = loop.run_until_complete(service.bind())
    done = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(done.wait()), daemon=True)
    thread.start()
    try:
        yield url, routes
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(timeout=5)
        loop.run_until_complete(service.on_stop())
        loop.close()


@pytest.fixture
def gate() -> Iterator[tuple[str, Routes]]:
    """Control enabled, basic auth on the read endpoints, on 127.0.0.1."""
    with served(_security()) as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def fresh_refusal_log() -> None:
    """Each test starts with no refusal cause already logged in this interval."""
    for quiet in REFUSED_LOG.filters:
        assert isinstance(quiet, http_module.QuietLogFilter)
        quiet.flush(final=True)


def _request(
    url: str,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    data: bytes | None = b"",
) -> tuple[int, Any, Any]:
    request = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def _bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


def _basic(user: str = "prom", password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- configuration ------------------------------------------------------------------------


def test_control_is_off_by_default() -> None:
    """Without configuration the control endpoints are disabled and have no token."""
    http = build_config(_config(), environ={}).http
    assert http.control_enabled is False and http.control_token is None


def test_control_keys_have_environment_variables() -> None:
    """DQGATE_HTTP_CONTROL_ENABLED / _TOKEN / _TOKEN_FILE come from the schema."""
    assert ENV_VARS["DQGATE_HTTP_CONTROL_ENABLED"] == "http.control_enabled"
    assert ENV_VARS["DQGATE_HTTP_CONTROL_TOKEN"] == "http.control_token"
    assert ENV_VARS["DQGATE_HTTP_CONTROL_TOKEN_FILE"] == "http.control_token_file"


def test_control_token_is_never_read_from_the_yaml(tmp_path: Path) -> None:
    """http.control_token in the file is refused, pointing at the variable and the file key."""
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(_config(http={"control_enabled": True, "control_token": TOKEN})))
    with pytest.raises(ConfigError, match="DQGATE_HTTP_CONTROL_TOKEN") as caught:
        load_config(path, environ={})
    assert TOKEN not in str(caught.value) and "control_token_file" in str(caught.value)


def test_control_token_from_a_file_is_masked(tmp_path: Path) -> None:
    """http.control_token_file (relative to the YAML) is read; repr never shows the token."""
    (tmp_path / "control.token").write_text(TOKEN + "\n")
    path = tmp_path / "gate.yaml"
    http = {"control_enabled": True, "control_token_file": "control.token"}
    path.write_text(yaml.safe_dump(_config(http=http)))
    config = load_config(path, environ={})
    assert config.http.control_token is not None
    assert config.http.control_token.reveal() == TOKEN
    assert TOKEN not in repr(config)


def test_enabled_control_without_a_token_is_refused() -> None:
    """control_enabled alone fails at start, naming both ways to give the token."""
    with pytest.raises(ConfigError, match=r"DQGATE_HTTP_CONTROL_TOKEN or http\.control_token_file"):
        build_config(_config(http={"control_enabled": True}), environ={})


def test_a_short_control_token_is_refused() -> None:
    """A token under 16 characters fails at start, without quoting it."""
    with pytest.raises(ConfigError, match="shorter than 16") as caught:
        build_config(
            _config(http={"control_enabled": True}),
            environ={"DQGATE_HTTP_CONTROL_TOKEN": "hunter2"},
        )
    assert "hunter2" not in str(caught.value)


def test_the_scrape_password_as_control_token_is_refused() -> None:
    """The control token must differ from the basic-auth password."""
    with pytest.raises(ConfigError, match="own token"):
        build_config(
            _config(http={"control_enabled": True, "basic_auth_username": "prom"}),
            environ={
                "DQGATE_HTTP_CONTROL_TOKEN": PASSWORD,
                "DQGATE_HTTP_BASIC_AUTH_PASSWORD": PASSWORD,
            },
        )


def test_control_over_plain_http_off_loopback_is_refused() -> None:
    """The token would travel in clear: refused at start unless TLS or loopback."""
    with pytest.raises(ConfigError, match="in clear"):
        build_config(
            _config(metrics_address="0.0.0.0:9464", http={"control_enabled": True}),
            environ={"DQGATE_HTTP_CONTROL_TOKEN": TOKEN},
        )


# --- refusals -----------------------------------------------------------------------------


def test_disabled_control_refuses_even_the_right_token() -> None:
    """With control off, a well-formed resume gets 403 and the gate is never asked."""
    with served(_security(control=False)) as (url, routes):
        status, body, _ = _request(url + "/routes/orders/resume", headers=_bearer())
    assert status == 403 and b"http.control_enabled" in body
    assert routes.calls == [] and routes.paused["orders"] is True


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token", "Bearer ", "Token " + TOKEN, TOKEN],
)
def test_resume_without_the_control_token_is_401(
    gate: tuple[str, Routes], authorization: str | None
) -> None:
    """No token or a wrong one: 401 with a Bearer challenge, the route stays paused."""
    url, routes = gate
    headers = dict(JSON)
    if authorization is not None:
        headers["Authorization"] = authorization
    status, _, response_headers = _request(url + "/routes/orders/resume", headers=headers)
    assert status == 401 and response_headers["WWW-Authenticate"].startswith("Bearer ")
    assert routes.calls == [] and routes.paused["orders"] is True


@pytest.mark.parametrize("authorization", [_basic(), f"Bearer {PASSWORD}"])
def test_the_scrape_credential_cannot_resume(gate: tuple[str, Routes], authorization: str) -> None:
    """The basic-auth pair reads /metrics but gets 401 on the control endpoint."""
    url, routes = gate
    assert _request(url + "/metrics", method="GET", headers={"Authorization": _basic()})[0] == 200
    headers = {"Authorization": authorization, **JSON}
    assert _request(url + "/routes/orders/resume", headers=headers)[0] == 401
    assert routes.calls == [] and routes.paused["orders"] is True


def test_the_control_token_cannot_read_metrics(gate: tuple[str, Routes]) -> None:
    """The credentials are separate both ways: the control token gets 401 on /metrics."""
    url, _ = gate
    status, body, _ = _request(url + "/metrics", method="GET", headers=_bearer(), data=None)
    assert status == 401 and b"dqgate_" not in body


@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://127.0.0.1"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_origin_requests_are_refused(
    gate: tuple[str, Routes], browser: dict[str, str]
) -> None:
    """Even with the token and JSON, a request from another origin gets 403."""
    url, routes = gate
    status, _, _ = _request(url + "/routes/orders/resume", headers={**_bearer(), **browser})
    assert status == 403
    assert routes.calls == [] and routes.paused["orders"] is True


def test_a_same_origin_request_is_served(gate: tuple[str, Routes]) -> None:
    """An Origin equal to the endpoint's own and Sec-Fetch-Site same-origin are accepted."""
    url, routes = gate
    browser = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    assert _request(url + "/routes/orders/resume", headers={**_bearer(), **browser})[0] == 200
    assert routes.paused["orders"] is False


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_resume_without_a_json_content_type_is_415(
    gate: tuple[str, Routes], content_type: str | None
) -> None:
    """Only application/json is accepted: the simple types a form can post are refused."""
    url, routes = gate
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    status, _, _ = _request(url + "/routes/orders/resume", headers=headers, data=b"{}")
    assert status == 415
    assert routes.calls == [] and routes.paused["orders"] is True


def test_a_body_that_is_not_a_json_object_is_400(gate: tuple[str, Routes]) -> None:
    """Declared JSON must be JSON: a garbage body gets 400 and nothing is resumed."""
    url, routes = gate
    status, _, _ = _request(url + "/routes/orders/resume", headers=_bearer(), data=b"route=x")
    assert status == 400 and routes.calls == []


# --- answers ------------------------------------------------------------------------------


def test_resume_of_a_paused_route_is_200(gate: tuple[str, Routes]) -> None:
    """A paused route is resumed: 200, and a second request then gets 409."""
    url, routes = gate
    status, body, _ = _request(url + "/routes/orders/resume", headers=_bearer(), data=b"{}")
    assert status == 200 and json.loads(body) == {"route": "orders", "resumed": True}
    assert routes.paused["orders"] is False
    assert _request(url + "/routes/orders/resume", headers=_bearer())[0] == 409


def test_resume_of_a_route_that_is_not_paused_is_409(gate: tuple[str, Routes]) -> None:
    """A route that was running gets 409 and says it was not paused."""
    url, routes = gate
    status, body, _ = _request(url + "/routes/payments/resume", headers=_bearer())
    assert status == 409 and json.loads(body)["resumed"] is False
    assert routes.calls == ["payments"]


def test_resume_of_an_unknown_route_is_404(gate: tuple[str, Routes]) -> None:
    """A route name the gate does not have gets 404."""
    url, _ = gate
    status, body, _ = _request(url + "/routes/nope/resume", headers=_bearer())
    assert status == 404 and "nope" in json.loads(body)["error"]


def test_control_requests_are_logged_with_client_and_route(
    gate: tuple[str, Routes], caplog: pytest.LogCaptureFixture
) -> None:
    """Served and refused requests both name the client address and the route."""
    url, _ = gate
    with caplog.at_level(logging.WARNING, logger="dqgate.gate.http"):
        _request(url + "/routes/orders/resume", headers=_bearer())
        _request(url + "/routes/payments/resume", headers=JSON)
    served_line, refused_line = (r.getMessage() for r in caplog.records)
    assert "127.0.0.1" in served_line and "'orders'" in served_line and "resumed" in served_line
    assert "127.0.0.1" in refused_line and "'payments'" in refused_line
    assert "401" in refused_line and TOKEN not in caplog.text


def test_a_flood_of_refused_requests_logs_one_line(
    gate: tuple[str, Routes], caplog: pytest.LogCaptureFixture
) -> None:
    """50 unauthenticated requests: one log line; the rest are counted, not written."""
    url, _ = gate
    quiet = REFUSED_LOG.filters[0]
    assert isinstance(quiet, http_module.QuietLogFilter)
    before = sum(quiet.suppressed.values())
    with caplog.at_level(logging.WARNING, logger="dqgate.gate.http"):
        for _ in range(50):
            _request(url + "/routes/orders/resume", headers=JSON)
    assert len(caplog.records) == 1
    assert sum(quiet.suppressed.values()) - before == 49


# --- exposure -----------------------------------------------------------------------------


def test_non_loopback_bind_without_auth_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Binding 0.0.0.0 with neither TLS nor basic auth warns at start, pointing at the docs."""
    with (
        caplog.at_level(logging.WARNING, logger="dqgate.gate.http"),
        served(HttpSecurityConfig(), host="0.0.0.0") as (url, _),
    ):
        status = _request(url.replace("0.0.0.0", "127.0.0.1") + "/healthz", method="GET")[0]
    assert status == 200
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert "0.0.0.0" in text and "no TLS and no authentication" in text
    assert "docs/metrics.md" in text


def test_loopback_bind_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    """The default loopback address starts quietly."""
    with caplog.at_level(logging.WARNING, logger="dqgate.gate.http"), served(HttpSecurityConfig()):
        pass
    assert caplog.records == []


@pytest.mark.parametrize(
    ("host", "security", "expected"),
    [
        ("::1", HttpSecurityConfig(), []),
        ("localhost", HttpSecurityConfig(), []),
        ("::", HttpSecurityConfig(), ["no TLS and no authentication"]),
        ("gate.internal", HttpSecurityConfig(), ["no TLS and no authentication"]),
        (
            "0.0.0.0",
            HttpSecurityConfig(tls_certfile="c.pem", tls_keyfile="k.pem"),
            ["no authentication"],
        ),
        (
            "0.0.0.0",
            HttpSecurityConfig(
                tls_certfile="c.pem", tls_keyfile="k.pem", basic_auth_username="prom"
            ),
            [],
        ),
    ],
)
def test_exposure_warnings(host: str, security: HttpSecurityConfig, expected: list[str]) -> None:
    """Only a non-loopback address missing TLS or authentication warns, saying which."""
    warnings = exposure_warnings(HttpAddress(host=host, port=9464), security)
    assert len(warnings) == len(expected)
    for warning, missing in zip(warnings, expected, strict=True):
        assert f"has {missing}:" in warning


# --- outside the faust worker -------------------------------------------------------------


def test_the_service_runs_as_a_plain_object_on_its_own_loop() -> None:
    """Built without a loop, bind() and on_stop() awaited in asyncio.run: serves, then closes."""
    routes = Routes()

    async def main() -> tuple[int, int, bool]:
        service = HttpService(
            address=HttpAddress(host="127.0.0.1", port=0),
            metrics=GateMetrics(CollectorRegistry()),
            status=lambda: {"ready": True},
            resume=routes.resume,
            security=_security(basic_auth=False),
        )
        url = await service.bind()
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/readyz") as ready:
                ready_status = ready.status
            async with session.post(
                url + "/routes/orders/resume", headers=_bearer(), json={}
            ) as resumed:
                resume_status = resumed.status
        await service.on_stop()
        try:
            _, writer = await asyncio.open_connection(*url.rsplit("/", 1)[1].split(":"))
        except OSError:
            return ready_status, resume_status, True
        writer.close()
        return ready_status, resume_status, False

    assert asyncio.run(main()) == (200, 200, True)
    assert routes.paused["orders"] is False
