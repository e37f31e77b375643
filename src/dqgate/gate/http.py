"""The worker's small HTTP endpoint (aiohttp), on 127.0.0.1 by default.

Two kinds of endpoints, each with its own credential:

=============================== =========================================================
``GET /metrics``                Prometheus text format of the gate's registry
``GET /healthz``                200 while the worker's event loop runs, with route states
``GET /readyz``                 200 while consuming and committing (:mod:`dqgate.gate.readiness`),
                                503 with the reasons otherwise
``POST /routes/<route>/resume`` control: close the route's circuit breaker and fetch again;
                                200 resumed, 409 not paused, 404 no such route
=============================== =========================================================

Read endpoints: with ``http.basic_auth_username`` and its password (the scrape credential)
they answer 401 without them (compared in constant time). With ``http.tls_certfile`` /
``http.tls_keyfile`` everything is served over HTTPS only (TLS 1.2+). Neither is on by
default: the default address is loopback, and :func:`exposure_warnings` (logged by
:meth:`HttpService.bind`) warns about a non-loopback address without TLS and authentication.

Control endpoints are off unless ``http.control_enabled``; then a request needs
``Authorization: Bearer <http.control_token>`` (never the scrape credential),
``Content-Type: application/json`` (a body, if any, is a JSON object), and no sign of a
browser page on another origin (an ``Origin`` other than the endpoint's own,
``Sec-Fetch-Site`` other than ``same-origin`` or ``none``). Each control request is logged
with the client address and the route; refusals at most once per cause every 30 s
(:mod:`dqgate.gate.quiet`), so nobody can flood the log through the port.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Final

from aiohttp import web
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST
from yarl import URL

from dqgate.config import HttpAddress, HttpSecurityConfig
from dqgate.errors import ConfigError
from dqgate.gate.quiet import QuietLogFilter
from dqgate.metrics import GateMetrics

__all__ = ["HttpService", "ResumeResult", "exposure_warnings"]

log = logging.getLogger(__name__)
_refused = logging.getLogger(f"{__name__}.refused")
_refused.addFilter(QuietLogFilter())

_CONTROL: Final = "control"
_BODY_MAX_BYTES: Final = 1024
_SAME_ORIGIN_FETCH: Final = frozenset({"same-origin", "none"})
_ROUTE_SHOWN_CHARS: Final = 120


class ResumeResult(StrEnum):
    """What a resume request did; the callback's answer, the endpoint's status code."""

    UNKNOWN = "unknown"
    """No route has that name (404)."""
    NOT_PAUSED = "not_paused"
    """The route was not paused; nothing changed (409)."""
    RESUMED = "resumed"
    """The route was paused and fetches again (200)."""


Resume = Callable[[str], Awaitable[ResumeResult]]
"""``resume(route_name)``: close the route's breaker, resume fetching, say what it did."""


def exposure_warnings(address: HttpAddress, security: HttpSecurityConfig) -> list[str]:
    """Start-up warnings for an endpoint others can reach without TLS or authentication."""
    if address.is_loopback:
        return []
    missing = [
        what
        for what, on in (
            ("no TLS", security.uses_tls),
            ("no authentication", security.basic_auth_username is not None),
        )
        if not on
    ]
    if not missing:
        return []
    return [
        f"metrics_address {address} is not a loopback address and the HTTP endpoint has "
        f"{' and '.join(missing)}: anyone who reaches the port reads /metrics, /healthz and "
        "/readyz (route, topic, suite and column names, lag). Set http.tls_certfile, "
        "http.tls_keyfile and http.basic_auth_username with its password, or keep "
        "127.0.0.1 and expose it through an authenticating proxy (docs/metrics.md, "
        "'Exposing /metrics safely')"
    ]


class HttpService(Service):
    """Serves metrics, health, readiness and (when enabled) the resume control.

    A ``mode.Service`` for the faust worker, or a plain object: ``await bind()`` on any
    event loop, ``await on_stop()`` to close it.
    """

    def __init__(
        self,
        *,
        address: HttpAddress,
        metrics: GateMetrics,
        status: Callable[[], dict[str, Any]],
        resume: Resume,
        security: HttpSecurityConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.address = address
        self._security = security or HttpSecurityConfig()
        self.url: str | None = None
        self._metrics = metrics
        self._status = status
        self._resume = resume
        self._runner: web.AppRunner | None = None

    async def bind(self) -> str:
        """Start listening (before the worker, so a taken port fails fast); returns the URL."""
        if self.url is not None:
            return self.url
        webapp = web.Application(middlewares=[self._guard], client_max_size=_BODY_MAX_BYTES)
        webapp.router.add_get("/metrics", self._get_metrics)
        webapp.router.add_get("/healthz", self._get_health)
        webapp.router.add_get("/readyz", self._get_ready)
        webapp.router.add_post("/routes/{route}/resume", self._post_resume, name=_CONTROL)
        runner = web.AppRunner(webapp, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            context = self._ssl_context()
        except (OSError, ssl.SSLError) as exc:
            await runner.cleanup()
            raise ConfigError(
                f"http.tls_certfile / http.tls_keyfile: cannot load the certificate and key "
                f"({exc}); give a PEM certificate and its unencrypted PEM key"
            ) from exc
        site = web.TCPSite(runner, self.address.host, self.address.port, ssl_context=context)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"metrics_address {self.address}: cannot listen ({exc.strerror}); choose "
                "another port with DQGATE_METRICS_ADDRESS / --metrics-address, 0 for any "
                "free port, or off"
            ) from exc
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if context is not None else "http"
        self.url = f"{scheme}://{shown}:{port}"
        for warning in exposure_warnings(self.address, self._security):
            log.warning("%s", warning)
        return self.url

    def _ssl_context(self) -> ssl.SSLContext | None:
        security = self._security
        if security.tls_certfile is None or security.tls_keyfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(security.tls_certfile, security.tls_keyfile)
        return context

    async def on_start(self) -> None:
        await self.bind()

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.url = None

    # --- who may call what ------------------------------------------------------------

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Control paths need the control checks; everything else the scrape credential."""
        if request.match_info.route.name == _CONTROL:
            refusal = self._refuse_control(request)
            return refusal if refusal is not None else await handler(request)
        if self._security.basic_auth_username is not None and not self._basic_ok(request):
            return web.Response(
                status=401,
                text="authentication required\n",
                headers={"WWW-Authenticate": 'Basic realm="dqgate", charset="UTF-8"'},
            )
        return await handler(request)

    def _basic_ok(self, request: web.Request) -> bool:
        """True for ``Basic base64(user:password)`` matching the configured pair."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(token.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        expected_user = (self._security.basic_auth_username or "").encode()
        secret = self._security.basic_auth_password
        expected_password = secret.reveal().encode() if secret is not None else b""
        user_ok = hmac.compare_digest(user, expected_user)
        password_ok = hmac.compare_digest(password, expected_password)
        return bool(sep) and user_ok and password_ok

    def _bearer_ok(self, request: web.Request) -> bool:
        """True for ``Bearer <control token>``; the scrape credential never matches."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        secret = self._security.control_token
        if scheme.lower() != "bearer" or secret is None:
            return False
        return hmac.compare_digest(token.strip().encode(), secret.reveal().encode())

    def _refuse_control(self, request: web.Request) -> web.Response | None:
        """The response refusing a control request, or None to serve it."""
        if not self._security.control_enabled:
            return _refuse(request, 403, "control endpoints are off (http.control_enabled)")
        if not _same_origin(request):
            return _refuse(request, 403, "cross-origin request")
        if not self._bearer_ok(request):
            response = _refuse(request, 401, "control token missing or wrong")
            response.headers["WWW-Authenticate"] = 'Bearer realm="dqgate-control"'
            return response
        if request.content_type.lower() != "application/json":
            return _refuse(request, 415, "Content-Type must be application/json")
        return None

    # --- handlers -----------------------------------------------------------------------

    async def _get_metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=self._metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def _get_health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self._status()})

    async def _get_ready(self, request: web.Request) -> web.Response:
        status = self._status()
        return web.json_response(status, status=200 if status.get("ready") else 503)

    async def _post_resume(self, request: web.Request) -> web.Response:
        route = request.match_info["route"]
        body = await request.read()
        if body.strip() and not _is_json_object(body):
            return _refuse(request, 400, "the body must be empty or a JSON object")
        result = await self._resume(route)
        log.warning(
            "control: client %s asked to resume route %r: %s",
            request.remote,
            route[:_ROUTE_SHOWN_CHARS],
            result.value,
        )
        if result is ResumeResult.UNKNOWN:
            return web.json_response({"error": f"no route named {route!r}"}, status=404)
        if result is ResumeResult.NOT_PAUSED:
            return web.json_response(
                {"route": route, "resumed": False, "error": "the route is not paused"},
                status=409,
            )
        return web.json_response({"route": route, "resumed": True})


def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
    """A JSON error response, logged with the client address and the route."""
    route = request.match_info.get("route", "")[:_ROUTE_SHOWN_CHARS]
    _refused.warning(
        "control request refused (%d, " + reason + "): client %s, route %r",
        status,
        request.remote,
        route,
    )
    return web.json_response({"error": reason}, status=status)


def _same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from a page on another origin."""
    if request.headers.get("Sec-Fetch-Site", "none").lower() not in _SAME_ORIGIN_FETCH:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        theirs = URL(origin)
        ours = URL(f"{request.scheme}://{request.host}")
    except ValueError:
        return False
    if theirs.host is None:  # "null": a sandboxed or file:// page
        return False
    return (theirs.scheme, theirs.host, theirs.port) == (ours.scheme, ours.host, ours.port)


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False
