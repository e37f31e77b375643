"""Human output: records, topic summaries and counts, safe to print on a terminal.

Bytes are decoded as UTF-8; invalid bytes print as ``\\xNN``, a backslash as ``\\\\``,
and every control or invisible formatting character (newline, escape, bidi overrides...)
prints escaped, so a record can never move the cursor or recolour the terminal. On a
terminal, lines are cut to its width with ``…``; when stdout is not a terminal (a pipe,
a file) nothing is cut, so scripts and ``| less -S`` see whole lines.
"""

from __future__ import annotations

import shutil
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, Final, Literal, TypeAlias

from dqgate.quarantine.envelope import QuarantinedRecord
from dqgate.quarantine.selection import format_ms
from dqgate.redact import Redactor, Shown
from dqgate.routing import VALUES

__all__ = ["cut", "format_record", "safe_text", "table", "terminal_width"]

Width: TypeAlias = int | Literal["terminal"] | None
_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_LABEL: Final = 9


def terminal_width() -> int | None:
    """Columns of the terminal stdout is; None (do not cut) when stdout is not a terminal."""
    try:
        interactive = sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        interactive = False
    if not interactive:
        return None
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def safe_text(raw: bytes | None) -> str:
    """Bytes as printable text: invalid UTF-8 and control characters escaped."""
    if raw is None:
        return "(null)"
    text = raw.decode("utf-8", errors="surrogateescape")
    return "".join(_escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable() and unicodedata.category(ch) != "Cf":
        return ch
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an invalid byte, smuggled through by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cut(text: str, width: int | None) -> str:
    """``text`` cut to ``width`` characters, ending with ``…`` when cut (None: never)."""
    if width is None or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def _shown(shown: Shown) -> str:
    if shown.masked:
        return f"[masked: {shown.size} bytes; redacted fields configured, --reveal shows it]"
    text = safe_text(shown.data)
    return f"(redacted) {text}" if shown.redacted else text


def format_record(
    record: QuarantinedRecord, redactor: Redactor, *, width: Width = "terminal"
) -> list[str]:
    """The lines describing one record (no trailing blank line).

    ``width``: cut lines to this many characters; ``"terminal"`` (default): the
    terminal's width, or no cut when stdout is not a terminal; None: no cut.
    """
    cols = terminal_width() if width == "terminal" else width
    head = f"{record.where}  {format_ms(record.timestamp_ms)}"
    if record.source_where is not None:
        head += f"  from {record.source_where}"
    lines = [cut(head, cols)]
    if record.suite is not None or record.stage is not None:
        suite = f"suite {safe_text((record.suite or '?').encode())}"
        stage = f"  stage {safe_text((record.stage or '?').encode())}"
        reasons = f"  reasons {','.join(record.reasons) or '-'}"
        lines.append(cut(f"  {suite}{stage}{reasons}", cols))
    for failure in record.failures:
        column = ",".join(failure.columns) or "-"
        line = f"  ✗ {failure.expectation_id}  {failure.type}  column={column}  {failure.reason}"
        lines.append(cut(safe_text(line.encode()), cols))
    if record.replay_count or record.replay_of:
        of = safe_text((record.replay_of or "-").encode())
        count = "?" if record.replay_count is None else str(record.replay_count)
        lines.append(cut(f"  replay #{count} of {of}", cols))
    if record.problems:
        lines.append(cut(f"  unreadable headers: {', '.join(record.problems)}", cols))
    lines.append(cut(f"  {'key':<{_LABEL}}{_shown(redactor.key(record.key))}", cols))
    lines.append(cut(f"  {'value':<{_LABEL}}{_shown(redactor.value(record.value))}", cols))
    values = record.header(VALUES)
    if values is not None:
        ((_, shown),) = redactor.headers([(VALUES, values)])
        lines.append(cut(f"  {'failing':<{_LABEL}}{_shown(shown)}", cols))
    for name, header in redactor.headers(record.user_headers):
        lines.append(
            cut(f"  {'header':<{_LABEL}}{safe_text(name.encode())}: {_shown(header)}", cols)
        )
    return lines


def table(
    headings: Sequence[str], rows: Sequence[Sequence[Any]], *, width: Width = "terminal"
) -> list[str]:
    """Left-aligned columns (numbers right-aligned), each line cut to ``width`` (as in
    :func:`format_record`: by default the terminal's, and never when not a terminal)."""
    cols = terminal_width() if width == "terminal" else width
    cells = [[safe_text(str(c).encode()) for c in row] for row in rows]
    sizes = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
        for i, h in enumerate(headings)
    ]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) for r in rows)
        for i in range(len(headings))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(s) if n else v.ljust(s) for v, s, n in zip(values, sizes, numeric, strict=True)
        ]
        return cut("  ".join(parts).rstrip(), cols)

    return [line(list(headings)), *(line(r) for r in cells)]
