"""Which dqgate.* headers of a consumed record the gate believes (no broker)."""

from __future__ import annotations

import pytest

from dqgate.provenance import ORIGINAL_PREFIX, REPLAY_SIG, ReplaySeal, own_headers

SEAL = ReplaySeal(b"k" * 32)
ADDED = [("dqgate.source.offset", b"7")]
REPLAY = [
    ("dqgate.replay.count", b"2"),
    ("dqgate.replay.of", b"in.quarantine/0/41"),
    ("dqgate.replay.at", b"2026-12-04T12:00:00.000Z"),
]


def sealed(
    key: bytes | None = b"k1", value: bytes | None = b"{}"
) -> list[tuple[str, bytes | None]]:
    """Replay headers as the replay tool writes them for this key and value."""
    return [*REPLAY, (REPLAY_SIG, SEAL.sign(REPLAY, key, value))]


def test_records_without_gate_headers_keep_theirs_then_get_the_gates() -> None:
    """The common case: original headers in order, then the gate's."""
    assert own_headers([("origin", b"x")], ADDED) == [("origin", b"x"), *ADDED]


@pytest.mark.parametrize(
    "name",
    ["dqgate.source.offset", "dqgate.source.topic", "dqgate.reasons", "dqgate.failures",
     "dqgate.replay.count", "dqgate.anything"],
)  # fmt: skip
def test_a_forged_gate_header_is_renamed_with_its_value(name: str) -> None:
    """dqgate.X from a producer becomes dqgate.original.X, value unchanged, in place."""
    out = own_headers([("a", b"1"), (name, b"99"), ("b", b"2")], ADDED, seal=SEAL)
    renamed = ORIGINAL_PREFIX + name.removeprefix("dqgate.")
    assert out == [("a", b"1"), (renamed, b"99"), ("b", b"2"), *ADDED]


def test_an_original_header_stays_as_it_is() -> None:
    """A header already marked original is not renamed again (replays carry them)."""
    header = ("dqgate.original.source.offset", b"3")
    assert own_headers([header], ADDED) == [header, *ADDED]


def test_sealed_replay_headers_pass_as_the_gates() -> None:
    """With the shared key the replay tool's headers are kept under their names."""
    headers = sealed()
    assert own_headers(headers, ADDED, seal=SEAL, key=b"k1", value=b"{}") == [*headers, *ADDED]


def test_without_the_key_replay_headers_are_foreign() -> None:
    """A gate without a replay key trusts no replay header."""
    out = own_headers(sealed(), ADDED, seal=None, key=b"k1", value=b"{}")
    assert [n for n, _ in out if n.startswith("dqgate.replay.")] == []


@pytest.mark.parametrize(
    ("headers", "key", "value"),
    [
        pytest.param(sealed(), b"k1", b'{"other": 1}', id="seal copied onto another value"),
        pytest.param(sealed(), b"k2", b"{}", id="seal copied onto another key"),
        pytest.param(
            [("dqgate.replay.count", b"99"), *sealed()[1:]], b"k1", b"{}", id="count changed"
        ),
        pytest.param([*sealed(), ("dqgate.replay.count", b"1")], b"k1", b"{}", id="count twice"),
        pytest.param(sealed()[:2] + sealed()[3:], b"k1", b"{}", id="a header missing"),
        pytest.param(
            [*REPLAY, (REPLAY_SIG, ReplaySeal(b"x" * 32).sign(REPLAY, b"k1", b"{}"))],
            b"k1", b"{}", id="another key",
        ),
    ],
)  # fmt: skip
def test_a_seal_that_does_not_fit_makes_every_replay_header_foreign(
    headers: list[tuple[str, bytes | None]], key: bytes, value: bytes
) -> None:
    """Tampered, copied or incomplete replay headers are renamed, none kept as the gate's."""
    out = own_headers(headers, ADDED, seal=SEAL, key=key, value=value)
    assert not [n for n, _ in out if n.startswith("dqgate.replay.")]
    assert [n for n, _ in out if n.startswith("dqgate.original.replay.")]


def test_a_short_key_is_refused() -> None:
    """A replay key of a few bytes would be guessable."""
    with pytest.raises(ValueError, match="16 bytes"):
        ReplaySeal(b"short")
