"""A carriage-return progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_REDRAW_S = 0.1
_BAR = 30


class Progress:
    """``[#####.....]  120/400  30%  replayed 100  refused 20`` on one line, redrawn."""

    def __init__(
        self,
        total: int,
        *,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.total = max(0, total)
        self.done = 0
        self.note = ""
        self._label = label
        self._stream = sys.stderr if stream is None else stream
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._drawn_at = 0.0

    def advance(self, count: int = 1, *, note: str | None = None) -> None:
        """``count`` more items done (redraws at most every 0.1 s)."""
        self.done += count
        if note is not None:
            self.note = note
        now = time.monotonic()
        if self.enabled and now - self._drawn_at >= _REDRAW_S:
            self._drawn_at = now
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def line(self) -> str:
        """The bar as text (without the carriage return)."""
        total = max(self.total, self.done)
        share = self.done / total if total else 1.0
        filled = int(share * _BAR)
        bar = "#" * filled + "." * (_BAR - filled)
        text = f"{self._label}[{bar}] {self.done}/{total} {share:4.0%}"
        return f"{text}  {self.note}" if self.note else text

    def _draw(self) -> None:
        self._stream.write("\r" + self.line() + "\x1b[K")
        self._stream.flush()
