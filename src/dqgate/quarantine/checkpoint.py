"""Replay progress on disk, so that an interrupted replay resumes without repeating.

One JSON file per (quarantine topic, target, selection) under the state directory
(default ``.dqgate/replay/``): ``<topic>__<target>__<hash>.json``, the hash covering the
target and the selection as written (``--since 2h`` hashes as ``2h``). It holds, per
partition, the last quarantine offset fully handled (replayed and acknowledged by the
broker, refused, or filtered out). It is replaced atomically (write, fsync, rename,
fsync of the directory) after every acknowledged chunk, never before the acks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from dqgate.errors import ConfigError
from dqgate.quarantine.selection import Selection

__all__ = ["DEFAULT_STATE_DIR", "SOURCE_TARGET", "Checkpoint"]

DEFAULT_STATE_DIR: Final = Path(".dqgate") / "replay"
SOURCE_TARGET: Final = "@source"
"""Target label when each record goes back to its own source topic."""
_VERSION: Final = 1


@dataclass(slots=True, kw_only=True)
class Checkpoint:
    """Last handled offset per partition of one replay selection, plus running totals."""

    path: Path
    topic: str
    target: str
    selection: dict[str, Any]
    offsets: dict[int, int] = field(default_factory=dict)
    replayed: int = 0
    refused: int = 0
    complete: bool = False

    @classmethod
    def path_for(cls, state_dir: Path, selection: Selection, target: str) -> Path:
        """Where the checkpoint of this selection and target lives."""
        blob = orjson.dumps(
            {"target": target, "selection": selection.describe()}, option=orjson.OPT_SORT_KEYS
        )
        digest = hashlib.sha256(blob).hexdigest()[:16]
        return state_dir / f"{selection.topic}__{target.lstrip('@')}__{digest}.json"

    @classmethod
    def load(cls, state_dir: Path, selection: Selection, target: str) -> Checkpoint:
        """The saved checkpoint, or a new empty one when none exists."""
        path = cls.path_for(state_dir, selection, target)
        empty = cls(path=path, topic=selection.topic, target=target, selection=selection.describe())
        try:
            raw = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return empty
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(
                f"replay checkpoint {path} is unreadable ({exc}); delete it or pass "
                "--ignore-checkpoint to start the replay over"
            ) from exc
        try:
            if raw["version"] != _VERSION:
                raise ValueError(f"version {raw['version']}")
            empty.offsets = {int(p): int(o) for p, o in raw["offsets"].items()}
            empty.replayed = int(raw["replayed"])
            empty.refused = int(raw["refused"])
            empty.complete = bool(raw["complete"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"replay checkpoint {path} has an unexpected shape ({exc}); delete it or "
                "pass --ignore-checkpoint to start the replay over"
            ) from exc
        return empty

    def save(self) -> None:
        """Write the checkpoint durably (atomic replace, fsync'd)."""
        document = {
            "version": _VERSION,
            "topic": self.topic,
            "target": self.target,
            "selection": self.selection,
            "offsets": {str(p): o for p, o in sorted(self.offsets.items())},
            "replayed": self.replayed,
            "refused": self.refused,
            "complete": self.complete,
            "updated_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
            _fsync_dir(directory)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the replay checkpoint {self.path}: {exc.strerror}; "
                "choose a writable --state-dir"
            ) from exc


def _fsync_dir(directory: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
