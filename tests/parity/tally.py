"""Session-wide tally of the (expectation, record) verdicts compared with GX, and what they covered.

``compare.compare_with_gx`` adds every comparison here; ``conftest.py`` prints the tally at the
end of the session and fails the run when the whole parity suite ran but compared too few
verdicts or left an expectation type or a row-condition form untested.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .condition_strategies import CONDITION_FORMS, condition_forms
from .oracle import TABLE_TYPES

__all__ = ["CONDITIONED_KINDS", "MIN_VERDICTS", "TALLY", "Tally", "kind_of"]

MIN_VERDICTS: Final = 200_000
"""The issue's floor for one run of ``pytest -m parity``."""

CONDITIONED_KINDS: Final = ("column map", "column pair", "multicolumn")
_VERDICTS: Final = ("pass", "fail", "error")
"""Kinds of expectation on which every row-condition form must be compared."""


def kind_of(cfg: Mapping[str, Any]) -> str:
    """column map, column pair, multicolumn or table (schema-level, per record keys)."""
    if cfg["type"] in TABLE_TYPES:
        return "table"
    kwargs = cfg.get("kwargs") or {}
    if "column_A" in kwargs:
        return "column pair"
    return "multicolumn" if "column_list" in kwargs else "column map"


@dataclass(slots=True)
class Tally:
    """Counts of one session: verdicts per type, GX's verdict mix, condition forms, mismatches."""

    by_type: Counter[str] = field(default_factory=Counter)
    gx_outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_form: Counter[tuple[str, str]] = field(default_factory=Counter)
    from_bytes: int = 0
    uncompared: int = 0
    mismatches: int = 0

    @property
    def total(self) -> int:
        """Every (expectation, record) verdict compared with GX so far."""
        return sum(self.by_type.values())

    def add(
        self,
        cfg: Mapping[str, Any],
        gx_verdicts: Iterable[str],
        *,
        from_bytes: int,
        uncompared: int,
        mismatches: int,
    ) -> None:
        """Count one expectation's verdicts over a batch of records."""
        outcomes = Counter(gx_verdicts)
        compared = sum(outcomes.values())
        self.by_type[str(cfg["type"])] += compared
        for verdict, count in outcomes.items():
            self.gx_outcomes[(str(cfg["type"]), verdict)] += count
        for form in condition_forms(cfg.get("kwargs") or {}):
            self.by_form[(kind_of(cfg), form)] += compared
        self.from_bytes += from_bytes
        self.uncompared += uncompared
        self.mismatches += mismatches

    def _outcomes(self, verdict: str) -> int:
        return sum(n for (_, v), n in self.gx_outcomes.items() if v == verdict)

    def shortfalls(self, required_types: Iterable[str]) -> list[str]:
        """Why this tally is not enough for a complete parity run (empty when it is)."""
        found = []
        if self.total < MIN_VERDICTS:
            found.append(f"only {self.total:,} verdicts compared; at least {MIN_VERDICTS:,} needed")
        missing = sorted(set(required_types) - set(self.by_type))
        if missing:
            found.append(f"expectation types never compared: {', '.join(missing)}")
        for kind in CONDITIONED_KINDS:
            forms = [f for f in CONDITION_FORMS if not self.by_form[(kind, f)]]
            if forms:
                found.append(f"row-condition forms never compared on {kind}: {', '.join(forms)}")
        return found

    def summary(self, seed: int) -> list[str]:
        """Lines for the end-of-session report."""
        mix = ", ".join(f"{v} {self._outcomes(v):,}" for v in _VERDICTS)
        lines = [
            f"{self.total:,} (expectation, record) verdicts compared with GX "
            f"over {len(self.by_type)} expectation types; {self.mismatches} mismatches; "
            f"DQGATE_PARITY_SEED={seed}",
            f"GX verdicts: {mix}; {self.from_bytes:,} also compared from the JSON bytes; "
            f"{self.uncompared:,} left uncompared (rows dqgate says error on, not re-run alone)",
        ]
        for etype, count in sorted(self.by_type.items()):
            mix = ", ".join(f"{v} {self.gx_outcomes[(etype, v)]:,}" for v in _VERDICTS)
            lines.append(f"  {etype}: {count:,} ({mix})")
        for kind in CONDITIONED_KINDS if self.total else ():
            counts = ", ".join(f"{f} {self.by_form[(kind, f)]:,}" for f in CONDITION_FORMS)
            lines.append(f"verdicts under row conditions on {kind}: {counts}")
        return lines


TALLY: Final = Tally()
