"""The audit trail of ``--reveal``: who saw unredacted records, when, of which topic.

``dqgate quarantine show|export|tail --reveal`` turns redaction off. Besides the WARNING
on the operator's own stderr, each use appends JSON lines to the configured audit log
(``audit_log`` in gate.yaml, or ``$DQGATE_AUDIT_LOG`` without ``--config``):

- ``"phase": "start"`` before the first record is read. If that line cannot be written
  the command stops (exit 2) without showing anything: a reveal is never unrecorded;
- ``"phase": "end"`` when the command ends, however it ends, with ``records`` (how many
  records were shown unredacted) and ``outcome`` (``ok``, ``error``, ``interrupted``).

Each line is one ``write`` to a file opened with ``O_APPEND`` (created mode 0600) and
flushed to disk, so concurrent operators never interleave. The fields::

    {"event": "dqgate.quarantine.reveal", "phase", "time" (ISO 8601 UTC), "user" (the
     account of the process uid), "uid", "login" (the login name the environment claims,
     when it differs), "host", "pid", "command", "topic", "selection" (window and
     filters as given), "config", "kafka_user", "records", "outcome"}

Values are never written. The log protects against nothing on its own: point it where
the operators cannot rewrite it (another owner, ``chattr +a``, a log shipper).
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from dqgate.errors import ConfigError

__all__ = ["AUDIT_ENV", "EVENT", "RevealAudit", "audited", "log_reveal"]

AUDIT_ENV: Final = "DQGATE_AUDIT_LOG"
EVENT: Final = "dqgate.quarantine.reveal"
_log = logging.getLogger(__name__)


def log_reveal(*, command: str, topic: str, audit_log: object = None) -> None:
    """Say on stderr that redaction was turned off (who, where, what topic; never values)."""
    if not _log.isEnabledFor(logging.WARNING):  # an audit line: --log-level cannot hide it
        _log.setLevel(logging.WARNING)
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    recorded = (
        f"recorded in the audit log {audit_log}"
        if audit_log is not None
        else "no audit_log is configured, so this is recorded nowhere else"
    )
    _log.warning(
        "--reveal: redaction is off; user %s on host %s ran `dqgate quarantine %s` on "
        "topic %s; record values are shown unmasked; %s",
        user,
        socket.gethostname(),
        command,
        topic,
        recorded,
    )


def _account() -> tuple[str, int]:
    uid = os.getuid()
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name, uid
    except (ImportError, KeyError):
        return str(uid), uid


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


@dataclass(slots=True, kw_only=True)
class RevealAudit:
    """One revealing command: its identity, and how many records it has shown so far."""

    path: Path | None
    command: str
    topic: str
    selection: Mapping[str, Any]
    config: str | None = None
    kafka_user: str | None = None
    records: int = 0
    _base: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        """The start line in the audit log (ConfigError if unwritable), then the WARNING."""
        user, uid = _account()
        login = _login()
        self._base = {
            "event": EVENT,
            "user": user,
            "uid": uid,
            "login": login if login != user else None,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "command": f"quarantine {self.command}",
            "topic": self.topic,
            "selection": dict(self.selection),
            "config": self.config,
            "kafka_user": self.kafka_user,
        }
        try:
            self._append("start")
        except OSError as exc:
            raise ConfigError(
                f"--reveal refused: cannot write the audit log {self.path}: {exc.strerror}; "
                "nothing was shown"
            ) from exc
        log_reveal(command=self.command, topic=self.topic, audit_log=self.path)

    def finish(self, outcome: str) -> None:
        """The end line: how many records were shown and how the command ended."""
        with contextlib.suppress(OSError):  # the start line is there; never mask the outcome
            self._append("end", records=self.records, outcome=outcome)

    def _append(self, phase: str, **extra: Any) -> None:
        if self.path is None:
            return
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = orjson.dumps({"time": now, "phase": phase, **self._base, **extra}) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def audited(audit: RevealAudit | None) -> Iterator[RevealAudit | None]:
    """Start ``audit`` (None: not revealing), yield it, and write its end line."""
    if audit is None:
        yield None
        return
    audit.start()
    outcome = "error"
    try:
        yield audit
        outcome = "ok"
    except (KeyboardInterrupt, GeneratorExit):
        outcome = "interrupted"
        raise
    finally:
        audit.finish(outcome)
