"""The opt-in ``dqgate.values`` header: the failing columns' values, redacted.

Off by default: quarantine headers never hold record values. With
``quarantine_values: true`` in gate.yaml, a record quarantined at the validate stage gets
one more header, ``dqgate.values``: a JSON object mapping each column named by an
enforced failure to the record's value there, so that an operator reading the
quarantine topic sees *what* failed without decoding the value. The rules:

- the configured ``redact`` fields are applied first: a failing column that is a redacted
  field shows ``"[redacted]"``; a nested value has its redacted members masked (the same
  rules as ``dqgate quarantine show``);
- a column missing from the record is left out (its failure says ``missing_field``);
- a value whose JSON text is longer than ``quarantine_values_max_bytes`` is replaced by
  ``"[truncated: N bytes]"``;
- decode-stage quarantines (undecodable, not an object, too large) and failures without a
  column get no header: there is no field to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from dqgate.redact import MASK, Redactor, dump_document, load_document
from dqgate.verdict import Stage, Verdict

__all__ = ["DEFAULT_MAX_VALUE_BYTES", "ValuesHeader"]

DEFAULT_MAX_VALUE_BYTES: Final = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class ValuesHeader:
    """Builds the ``dqgate.values`` header value for quarantined records."""

    redactor: Redactor
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES

    def encode(self, value: bytes | None, verdict: Verdict) -> bytes | None:
        """The header value, or None when there is nothing to show."""
        if value is None or verdict.stage is not Stage.VALIDATE:
            return None
        columns = _columns(verdict)
        if not columns:
            return None
        document = load_document(value)
        if not isinstance(document, dict):
            return None
        shown: dict[str, Any] = {}
        for column in columns:
            if column not in document:
                continue
            if self.redactor.active and column.casefold() in self.redactor.fields:
                shown[column] = MASK
                continue
            shown[column] = self._bounded(self._redacted(document[column]))
        return dump_document(shown) if shown else None

    def _redacted(self, item: Any) -> Any:
        if not self.redactor.active:
            return item
        try:
            return self.redactor.walk(item)
        except RecursionError:
            return MASK

    def _bounded(self, item: Any) -> Any:
        size = len(dump_document(item))
        return item if size <= self.max_value_bytes else f"[truncated: {size} bytes]"


def _columns(verdict: Verdict) -> list[str]:
    seen: dict[str, None] = {}
    for failure in verdict.enforced:
        column = failure.column
        names = column if isinstance(column, tuple) else (column,) if column else ()
        for name in names:
            seen.setdefault(name, None)
    return list(seen)
