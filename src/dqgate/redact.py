"""Mask sensitive fields of record values in every human and export output.

The fields come from the gate configuration (``redact: [person_name, id_number]``) plus
``--redact`` on the command line. Rules, when at least one field is configured:

- a value that is a JSON object: every member whose key is a redacted field, at any
  depth (inside nested objects and arrays), gets the value ``"[redacted]"``; keys are
  matched case-insensitively. A value without such a member is shown byte for byte;
- any other value (not UTF-8, not JSON, truncated JSON, a JSON array or scalar) is
  masked whole: it may hold the same data without field names (an array of the
  object's values, a CSV line), so only its size is shown;
- a key that is a JSON object is field-redacted like a value; other keys are shown
  (keys are identifiers operators need, and never field-named data);
- a non-dqgate header whose name is a redacted field is masked;
- the opt-in ``dqgate.values`` header (the failing columns' values, already redacted by
  the gate with its own list) is redacted again like a value, with this list.

``--reveal`` turns all of it off (and is audited: :mod:`dqgate.quarantine.audit`). With no
field configured, nothing is redacted.

The gate applies the same rules to the opt-in ``dqgate.values`` header
(:mod:`dqgate.gate.values`), and the quarantine commands to what they show, so this
module belongs to neither side.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from dqgate.provenance import DQGATE_PREFIX
from dqgate.routing import VALUES, Header

__all__ = [
    "MASK",
    "JsonNumber",
    "Redactor",
    "Shown",
    "configured_fields",
    "dump_document",
    "load_document",
]

MASK: Final = "[redacted]"


def configured_fields(config: object) -> tuple[str, ...]:
    """The ``redact`` list of a GateConfig (empty when the configuration has none)."""
    fields: Iterable[str] = getattr(config, "redact", ()) or ()
    return tuple(fields)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shown:
    """Bytes safe to show (``data``), or None with ``masked`` when nothing may be shown."""

    data: bytes | None
    redacted: bool = False
    """True when at least one field was replaced by the mask."""
    masked: bool = False
    """True when the whole value was withheld (``size`` bytes)."""
    size: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Redactor:
    """Applies the redaction rules (see the module docstring)."""

    fields: frozenset[str] = frozenset()
    reveal: bool = False

    @classmethod
    def of(cls, fields: Iterable[str], *, reveal: bool = False) -> Redactor:
        """A redactor for ``fields`` (compared case-insensitively)."""
        return cls(
            fields=frozenset(f.strip().casefold() for f in fields if f.strip()), reveal=reveal
        )

    @property
    def active(self) -> bool:
        """True when something is to be redacted."""
        return bool(self.fields) and not self.reveal

    def value(self, raw: bytes | None) -> Shown:
        """A record value as it may be shown."""
        if raw is None or not self.active:
            return Shown(data=raw, size=0 if raw is None else len(raw))
        document = load_document(raw)
        if not isinstance(document, dict):
            return Shown(data=None, masked=True, size=len(raw))
        return self._redacted(raw, document)

    def key(self, raw: bytes | None) -> Shown:
        """A record key as it may be shown (only JSON-object keys are redacted)."""
        if raw is None or not self.active:
            return Shown(data=raw, size=0 if raw is None else len(raw))
        document = load_document(raw) if raw.lstrip().startswith(b"{") else None
        if not isinstance(document, dict):
            return Shown(data=raw, size=len(raw))
        return self._redacted(raw, document)

    def headers(self, headers: Iterable[Header]) -> tuple[tuple[str, Shown], ...]:
        """Headers as they may be shown; dqgate's own hold no values but ``dqgate.values``."""
        out = []
        for name, raw in headers:
            if name == VALUES:  # the opt-in failing values: a JSON object of fields
                out.append((name, self.value(raw)))
                continue
            size = 0 if raw is None else len(raw)
            hidden = (
                self.active
                and not name.startswith(DQGATE_PREFIX)
                and name.casefold() in self.fields
            )
            shown = (
                Shown(data=None, masked=True, size=size) if hidden else Shown(data=raw, size=size)
            )
            out.append((name, shown))
        return tuple(out)

    def _redacted(self, raw: bytes, document: dict[str, Any]) -> Shown:
        try:
            masked, changed = self._walk(document)
            if not changed:
                return Shown(data=raw, size=len(raw))
            return Shown(data=dump_document(masked), redacted=True, size=len(raw))
        except RecursionError:  # absurdly deep: show nothing rather than risk a leak
            return Shown(data=None, masked=True, size=len(raw))

    def walk(self, node: Any) -> Any:
        """``node`` (a decoded JSON value) with redacted members masked at any depth."""
        return self._walk(node)[0]

    def _walk(self, node: Any) -> tuple[Any, bool]:
        if isinstance(node, dict):
            changed = False
            out: dict[str, Any] = {}
            for k, v in node.items():
                if str(k).casefold() in self.fields:
                    out[k], changed = MASK, True
                else:
                    out[k], sub = self._walk(v)
                    changed = changed or sub
            return out, changed
        if isinstance(node, list):
            items = [self._walk(v) for v in node]
            return [v for v, _ in items], any(c for _, c in items)
        return node, False


class JsonNumber:
    """A JSON number with a fraction or exponent, kept as written (``1e400`` stays ``1e400``).

    Python floats cannot hold every JSON number (``1e400`` becomes ``inf``, which
    ``json.dumps`` writes as the invalid ``Infinity``; ``0.1000000000000000055`` loses
    digits), so a redacted value keeps the text of each number it did not mask.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"JsonNumber({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_document(raw: bytes) -> Any:
    """The decoded JSON document, or None (never equal to a dict) when there is none.

    The standard library, not orjson: orjson silently turns integers beyond 64 bits
    into floats, and a redacted value must keep every other member exact. Numbers with
    a fraction or exponent are :class:`JsonNumber`; ``NaN`` and ``Infinity``, which
    Python accepts but JSON does not, make the value not JSON.
    """
    try:
        return json.loads(
            raw.decode("utf-8"), parse_float=JsonNumber, parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def dump_document(document: Any) -> bytes:
    """Compact, valid JSON, non-ASCII kept as is (what the quarantine commands show)."""
    parts: list[str] = []
    _dump(document, parts)
    return "".join(parts).encode("utf-8")


def _dump(node: Any, parts: list[str]) -> None:
    if isinstance(node, JsonNumber):
        parts.append(node.text)
    elif isinstance(node, dict):
        parts.append("{")
        for i, (key, value) in enumerate(node.items()):
            if i:
                parts.append(",")
            parts.append(json.dumps(str(key), ensure_ascii=False))
            parts.append(":")
            _dump(value, parts)
        parts.append("}")
    elif isinstance(node, list | tuple):
        parts.append("[")
        for i, value in enumerate(node):
            if i:
                parts.append(",")
            _dump(value, parts)
        parts.append("]")
    else:  # str, int, bool, None; a float that is not finite has no JSON form: ValueError
        parts.append(json.dumps(node, ensure_ascii=False, allow_nan=False))
