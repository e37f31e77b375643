"""Gate workers as child processes: start, wait until ready, scrape, stop or kill.

For the demo, the integration tests and the benchmark. The worker is started as
``python -m dqgate.cli.main run ... --metrics-address 0``; its HTTP URL is read from the
``dqgate: metrics: <url>/metrics`` line it prints on stderr (into ``log_path``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dqgate.errors import GateError

__all__ = ["WorkerProcess", "start_worker"]

_URL_LINE = re.compile(rb"dqgate: metrics: (http://\S+)/metrics")
_POLL_S = 0.2


class WorkerProcess:
    """One ``dqgate run`` child process."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path, *, log_offset: int = 0):
        self.popen = popen
        self.log_path = log_path
        self.url: str | None = None
        self._log_offset = log_offset

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.popen.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the worker's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout_s: float = 120.0) -> str:
        """Wait for the HTTP URL and a 200 from /readyz; returns the base URL."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise GateError(
                    f"gate worker exited with code {self.popen.returncode} during start:\n"
                    f"{self.log_tail()}"
                )
            if self.url is None:
                with self.log_path.open("rb") as log_file:
                    log_file.seek(self._log_offset)
                    found = _URL_LINE.search(log_file.read())
                if found:
                    self.url = found.group(1).decode("ascii")
            if self.url is not None and self._get("/readyz")[0] == 200:
                return self.url
            time.sleep(_POLL_S)
        raise GateError(f"gate worker not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def status(self) -> dict[str, Any]:
        """The worker's /healthz document ({} when unreachable)."""
        code, body = self._get("/healthz")
        return json.loads(body) if code == 200 else {}

    def metrics(self) -> str:
        """The worker's /metrics text ('' when unreachable)."""
        code, body = self._get("/metrics")
        return body.decode("utf-8") if code == 200 else ""

    def post(
        self, path: str, *, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> int:
        """POST to the worker's HTTP endpoint; returns the status code (0: unreachable)."""
        if self.url is None:
            return 0
        request = urllib.request.Request(
            self.url + path, method="POST", data=body, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, wait up to ``timeout_s`` (then SIGKILL); returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.popen.wait())

    def kill(self) -> int:
        """SIGKILL now; returns the exit code."""
        if self.alive():
            self.popen.kill()
        return int(self.popen.wait())

    def _get(self, path: str) -> tuple[int, bytes]:
        if self.url is None:
            return 0, b""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()
        except OSError:
            return 0, b""


def start_worker(
    args: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    log_level: str = "WARNING",
) -> WorkerProcess:
    """Start ``dqgate run <args> --metrics-address 0``, output appended to ``log_path``."""
    command = [
        sys.executable, "-m", "dqgate.cli.main", "--log-level", log_level, "run", *args,
        "--metrics-address", "0",
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        offset = log_file.tell()
        popen = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    return WorkerProcess(popen, log_path, log_offset=offset)
