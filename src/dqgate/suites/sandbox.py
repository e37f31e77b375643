"""Python's ``re`` in a child process, where an evaluation that overruns its time budget is
killed: the budgeted evaluation behind :mod:`dqgate.suites.regexes`.

Python's regex engine backtracks and cannot be interrupted from another thread, so a
pattern like ``^(a+)+$`` on a crafted value can hold a worker for minutes. The sandbox runs
the same ``re.search`` in a small child interpreter (only ``re`` and ``marshal`` loaded)
and waits at most the budget for its answer; past it, the child is killed (and restarted on
the next call) and the caller gets None. One sandbox per process, its calls serialised by
a lock, so any thread may use it; it starts on first use.
"""

from __future__ import annotations

import atexit
import logging
import marshal
import os
import select
import subprocess
import sys
import threading
import time
from typing import Final

__all__ = ["RegexSandbox", "SandboxUnavailable", "shared_sandbox"]

log = logging.getLogger(__name__)

_START_TIMEOUT_S: Final = 20.0
_CHILD: Final = """
import marshal, re, sys
read, write, flush = sys.stdin.buffer.read, sys.stdout.buffer.write, sys.stdout.buffer.flush
compiled = {}
write(b"R"); flush()
while True:
    head = read(4)
    if len(head) < 4:
        break
    pattern, text = marshal.loads(read(int.from_bytes(head, "little")))
    search = compiled.get(pattern)
    if search is None:
        search = compiled[pattern] = re.compile(pattern).search
    write(b"1" if search(text) is not None else b"0"); flush()
"""


class SandboxUnavailable(Exception):
    """The child interpreter could not be started or stopped answering sensibly."""


class RegexSandbox:
    """``re.search`` in a child interpreter, each call with its own time budget."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self.killed = 0
        """How many evaluations overran their budget (their child was killed)."""

    def search(self, pattern: str, text: str, budget_s: float) -> bool | None:
        """Whether ``re.search(pattern, text)`` matches; None when it took longer than
        ``budget_s`` seconds. Raises SandboxUnavailable when no child can run it."""
        payload = marshal.dumps((pattern, text))
        frame = len(payload).to_bytes(4, "little") + payload
        with self._lock:
            child = self._running()
            assert child.stdin is not None and child.stdout is not None
            try:
                _write_all(child.stdin.fileno(), frame)
                ready, _, _ = select.select([child.stdout.fileno()], [], [], budget_s)
                if not ready:
                    self.killed += 1
                    self._stop()
                    return None
                answer = os.read(child.stdout.fileno(), 1)
            except OSError as exc:
                self._stop()
                raise SandboxUnavailable(f"the regex sandbox failed: {exc}") from exc
            if answer not in (b"0", b"1"):
                self._stop()
                raise SandboxUnavailable("the regex sandbox stopped answering")
            return answer == b"1"

    def _running(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is None:
            return self._child
        try:
            child = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
            )
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start the regex sandbox: {exc}") from exc
        assert child.stdout is not None
        deadline = time.monotonic() + _START_TIMEOUT_S
        ready, _, _ = select.select([child.stdout.fileno()], [], [], _START_TIMEOUT_S)
        if not ready or os.read(child.stdout.fileno(), 1) != b"R" or time.monotonic() > deadline:
            child.kill()
            child.wait()
            raise SandboxUnavailable("the regex sandbox did not start")
        self._child = child
        return child

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        """Stop the child interpreter (a later call starts a new one)."""
        with self._lock:
            self._stop()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


_shared: RegexSandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> RegexSandbox:
    """The process-wide sandbox."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RegexSandbox()
            atexit.register(_shared.close)
        return _shared
