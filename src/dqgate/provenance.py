"""Which ``dqgate.*`` headers of a consumed record the gate believes.

The lineage and verdict headers on every output are the gate's own. A producer can put
any header on a source record, ``dqgate.source.offset`` or ``dqgate.reasons`` included;
such a header is kept, byte for byte, under ``dqgate.original.<rest of the name>`` (one
that already starts with ``dqgate.original.`` stays as it is), so nothing the producer
sent is lost and nothing it sent is mistaken for the gate's.

The replay headers (``dqgate.replay.count``, ``.of``, ``.at``) are the one exception:
``dqgate quarantine replay`` writes them, and the gate keeps them when it can tell that
the replay tool did, by ``dqgate.replay.sig``: an HMAC-SHA256, under a key that the gate
and the replay tool share (``replay.key_file``), over the replay headers and the digests
of the record's key and value. Without a valid seal they are foreign like any other:
renamed, so a forged ``dqgate.replay.count`` cannot make a record unreplayable, and a
copied seal does not fit another record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

__all__ = [
    "DQGATE_PREFIX",
    "ORIGINAL_PREFIX",
    "REPLAY_HEADERS",
    "REPLAY_SIG",
    "ReplaySeal",
    "own_headers",
]

Header = tuple[str, bytes | None]

DQGATE_PREFIX: Final = "dqgate."
ORIGINAL_PREFIX: Final = "dqgate.original."
REPLAY_COUNT: Final = "dqgate.replay.count"
REPLAY_OF: Final = "dqgate.replay.of"
REPLAY_AT: Final = "dqgate.replay.at"
REPLAY_SIG: Final = "dqgate.replay.sig"
REPLAY_HEADERS: Final = (REPLAY_COUNT, REPLAY_OF, REPLAY_AT)
"""The replay headers a seal covers, in the order they are signed."""
_CONTEXT: Final = b"dqgate replay seal v1\x00"
_MIN_KEY_BYTES: Final = 16


def _digest(data: bytes | None) -> bytes:
    return b"\x00" if data is None else b"\x01" + hashlib.sha256(data).digest()


class ReplaySeal:
    """Signs (the replay tool) and checks (the gate) the replay headers of a record."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"a replay key needs at least {_MIN_KEY_BYTES} bytes")
        self._key = key

    def sign(self, replay: Sequence[Header], key: bytes | None, value: bytes | None) -> bytes:
        """The ``dqgate.replay.sig`` value for these replay headers on this record."""
        message = self._message(replay, key, value)
        return hmac.new(self._key, message, hashlib.sha256).hexdigest().encode()

    def verify(self, headers: Sequence[Header], key: bytes | None, value: bytes | None) -> bool:
        """True when ``headers`` hold each replay header once and a seal that fits them."""
        found: dict[str, list[bytes | None]] = {}
        for name, data in headers:
            if name.startswith("dqgate.replay."):
                found.setdefault(name, []).append(data)
        signature = found.pop(REPLAY_SIG, None)
        if signature is None or len(signature) != 1 or signature[0] is None:
            return False
        if set(found) != set(REPLAY_HEADERS) or any(len(v) != 1 for v in found.values()):
            return False
        replay = [(name, found[name][0]) for name in REPLAY_HEADERS]
        return hmac.compare_digest(self.sign(replay, key, value), signature[0])

    @staticmethod
    def _message(replay: Sequence[Header], key: bytes | None, value: bytes | None) -> bytes:
        parts = [_CONTEXT]
        for name, data in replay:
            parts += [name.encode(), b"\x00", _digest(data)]
        parts += [_digest(key), _digest(value)]
        return b"".join(parts)


def own_headers(
    original: Sequence[Header],
    added: list[Header],
    *,
    seal: ReplaySeal | None = None,
    key: bytes | None = None,
    value: bytes | None = None,
) -> list[Header]:
    """The output's headers: the record's own (foreign ``dqgate.*`` ones renamed), then the
    gate's ``added`` ones."""
    if not any(name.startswith(DQGATE_PREFIX) for name, _ in original):
        return [*original, *added]
    sealed = seal is not None and seal.verify(original, key, value)
    kept: list[Header] = []
    for name, data in original:
        if (
            name.startswith(DQGATE_PREFIX)
            and not name.startswith(ORIGINAL_PREFIX)
            and not (sealed and (name in REPLAY_HEADERS or name == REPLAY_SIG))
        ):
            name = ORIGINAL_PREFIX + name[len(DQGATE_PREFIX) :]
        kept.append((name, data))
    return [*kept, *added]
