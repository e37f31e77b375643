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

MIN_VERDICTS: Final = 1_000_000
"""Issue #13's floor for one run of ``pytest -m parity``: (expectation, record) verdicts on
which GX, the Python path and the native path (from the record's JSON bytes) all agree."""
MIN_NATIVE: Final = 1_000
"""Per compiled type, verdicts the native decider must have given itself (not left to
Python): a decider that silently abstained would compare nothing native."""

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
    three_way: Counter[str] = field(default_factory=Counter)
    native_decided: Counter[str] = field(default_factory=Counter)
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
        native_decided: int = 0,
    ) -> None:
        """Count one expectation's verdicts over a batch of records.

        ``from_bytes``: of those, compared three ways (GX, Python and native from the bytes);
        ``native_decided``: of those, answered by the native decider itself.
        """
        outcomes = Counter(gx_verdicts)
        compared = sum(outcomes.values())
        self.by_type[str(cfg["type"])] += compared
        for verdict, count in outcomes.items():
            self.gx_outcomes[(str(cfg["type"]), verdict)] += count
        for form in condition_forms(cfg.get("kwargs") or {}):
            self.by_form[(kind_of(cfg), form)] += compared
        self.from_bytes += from_bytes
        self.three_way[str(cfg["type"])] += from_bytes
        self.native_decided[str(cfg["type"])] += native_decided
        self.uncompared += uncompared
        self.mismatches += mismatches

    def _outcomes(self, verdict: str) -> int:
        return sum(n for (_, v), n in self.gx_outcomes.items() if v == verdict)

    def shortfalls(self, required_types: Iterable[str]) -> list[str]:
        """Why this tally is not enough for a complete parity run (empty when it is)."""
        found = []
        if self.from_bytes < MIN_VERDICTS:
            found.append(
                f"only {self.from_bytes:,} verdicts compared three ways (GX, Python, native); "
                f"at least {MIN_VERDICTS:,} needed"
            )
        required = sorted(required_types)
        missing = sorted(set(required) - set(self.by_type))
        if missing:
            found.append(f"expectation types never compared: {', '.join(missing)}")
        few = [t for t in required if self.native_decided[t] < MIN_NATIVE]
        if few:
            found.append(
                f"fewer than {MIN_NATIVE:,} verdicts decided natively for: {', '.join(few)}"
            )
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
            f"GX verdicts: {mix}; {self.from_bytes:,} also compared three ways from the JSON "
            f"bytes (GX = Python path = native path), "
            f"{sum(self.native_decided.values()):,} of them decided by the native decider; "
            f"{self.uncompared:,} left uncompared (rows dqgate says error on, not re-run alone)",
        ]
        for etype, count in sorted(self.by_type.items()):
            mix = ", ".join(f"{v} {self.gx_outcomes[(etype, v)]:,}" for v in _VERDICTS)
            lines.append(
                f"  {etype}: {count:,} ({mix}); three ways {self.three_way[etype]:,}, "
                f"native {self.native_decided[etype]:,}"
            )
        for kind in CONDITIONED_KINDS if self.total else ():
            counts = ", ".join(f"{f} {self.by_form[(kind, f)]:,}" for f in CONDITION_FORMS)
            lines.append(f"verdicts under row conditions on {kind}: {counts}")
        return lines


TALLY: Final = Tally()
