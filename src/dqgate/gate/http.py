"""The worker's small HTTP endpoint (aiohttp), on 127.0.0.1 by default.

With ``http.tls_certfile`` / ``http.tls_keyfile`` it serves HTTPS only (TLS 1.2+); with
``http.basic_auth_username`` and its password every path answers 401 without them
(compared in constant time). Neither is on by default: the default address is loopback.

=============================== =========================================================
``GET /metrics``                Prometheus text format of the gate's registry
``GET /healthz``                200 while the worker's event loop runs, with route states
``GET /readyz``                 200 while consuming and committing (:mod:`dqgate.gate.readiness`),
                                503 with the reasons otherwise
``POST /routes/<route>/resume`` close the route's circuit breaker and fetch again
=============================== =========================================================
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST

from dqgate.config import HttpAddress, HttpSecurityConfig
from dqgate.errors import ConfigError
from dqgate.metrics import GateMetrics

__all__ = ["HttpService"]

log = logging.getLogger(__name__)


class HttpService(Service):
    """Serves metrics, health, readiness and the resume control while the worker runs."""

    def __init__(
        self,
        *,
        address: HttpAddress,
        metrics: GateMetrics,
        status: Callable[[], dict[str, Any]],
        resume: Callable[[str], Awaitable[bool]],
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
        middlewares = [self._authenticate] if self._security.basic_auth_username else []
        webapp = web.Application(middlewares=middlewares)
        webapp.router.add_get("/metrics", self._get_metrics)
        webapp.router.add_get("/healthz", self._get_health)
        webapp.router.add_get("/readyz", self._get_ready)
        webapp.router.add_post("/routes/{route}/resume", self._post_resume)
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
        return self.url

    def _ssl_context(self) -> ssl.SSLContext | None:
        security = self._security
        if security.tls_certfile is None or security.tls_keyfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(security.tls_certfile, security.tls_keyfile)
        return context

    @web.middleware
    async def _authenticate(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self._authorized(request.headers.get("Authorization", "")):
            return web.Response(
                status=401,
                text="authentication required\n",
                headers={"WWW-Authenticate": 'Basic realm="dqgate", charset="UTF-8"'},
            )
        return await handler(request)

    def _authorized(self, header: str) -> bool:
        """True for ``Basic base64(user:password)`` matching the configured pair."""
        scheme, _, token = header.partition(" ")
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

    async def on_start(self) -> None:
        await self.bind()

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
        if not await self._resume(route):
            return web.json_response({"error": f"no route named {route!r}"}, status=404)
        return web.json_response({"route": route, "resumed": True})
