"""Compare dqgate's compiled verdicts with the GX oracle, and report mismatches readably.

With ``check_bytes`` every strict-JSON record is also evaluated as the bytes the gate
consumes, twice: through the native decider (``native=True``, a batch at a time, as the gate
calls it) and through the Python checks alone (``native=False``). GX, the Python path on the
decoded record, the Python path on the bytes and the native path must all agree; the tally
counts these three-way comparisons and how many of them the decider answered itself.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dqgate.suites import compile_suite

from .oracle import GXOracle, expectation_key
from .tally import TALLY, Tally

__all__ = [
    "Mismatch",
    "ParityRun",
    "bytes_vs_dict_mismatches",
    "compare_with_gx",
    "dqgate_verdicts",
    "strict_json",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """One (expectation, record) where dqgate and GX disagree."""

    cfg: Mapping[str, Any]
    record: Mapping[str, Any]
    gx: str
    dqgate: str

    def describe(self) -> str:
        """Expectation config, record repr and both verdicts on one line each."""
        cfg = json.dumps(self.cfg, ensure_ascii=False, default=repr)
        return (
            f"  expectation: {cfg}\n"
            f"  record:      {self.record!r}\n"
            f"  GX: {self.gx}   dqgate: {self.dqgate}"
        )


@dataclass(slots=True, kw_only=True)
class ParityRun:
    """Counts and mismatches of one comparison."""

    seed: int
    compared: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    mismatches: list[Mismatch] = field(default_factory=list)
    uncompared: int = 0
    """Verdicts left out: rows dqgate says error on that GX was not re-run alone for."""

    def summary(self) -> str:
        """One line per expectation type: verdicts compared and GX's verdict mix."""
        lines = []
        for etype in sorted(self.compared):
            mix = ", ".join(f"{v} {self.outcomes[(etype, v)]}" for v in ("pass", "fail", "error"))
            lines.append(
                f"{etype}: {self.compared[etype]} verdicts compared over "
                f"{self.records[etype]} records ({mix}); seed={self.seed}"
            )
        return "\n".join(lines)

    def report(self, limit: int = 40) -> str:
        """Distinct mismatches (same expectation, record and verdicts counted once)."""
        distinct: Counter[str] = Counter(m.describe() for m in self.mismatches)
        shown = [
            f"[{i}] x{count}\n{text}"
            for i, (text, count) in enumerate(distinct.most_common(limit), start=1)
        ]
        return (
            f"{len(self.mismatches)} mismatches ({len(distinct)} distinct) with seed={self.seed} "
            f"(rerun with DQGATE_PARITY_SEED={self.seed}):\n" + "\n".join(shown)
        )


def dqgate_verdicts(
    cfgs: Sequence[Mapping[str, Any]],
    records: Sequence[Mapping[str, Any] | bytes],
    *,
    suite_name: str,
    native: bool | None = None,
) -> dict[tuple[str, int], str]:
    """dqgate's verdict per (expectation id, row), for decoded records (or raw bytes).

    A Failure with ``error=True`` for the expectation means error, any other Failure means fail,
    none means pass. Raw bytes go through ``evaluate_batch`` (the gate's call), records one
    by one through ``evaluate``.
    """
    suite = compile_suite(
        {"name": suite_name, "expectations": [dict(c) for c in cfgs]}, native=native
    )
    keys = [expectation_key(c, i) for i, c in enumerate(cfgs)]
    out: dict[tuple[str, int], str] = {}
    if records and all(type(r) is bytes for r in records):
        verdicts = suite.evaluate_batch(list(records)).verdicts  # type: ignore[arg-type]
        for pos, verdict in enumerate(verdicts):
            for key, outcome in _outcomes(verdict, keys).items():
                out[(key, pos)] = outcome
        return out
    for pos, record in enumerate(records):
        for key, outcome in _per_expectation(suite, record, keys).items():
            out[(key, pos)] = outcome
    return out


def natively_decided(
    cfgs: Sequence[Mapping[str, Any]], raws: Sequence[bytes], *, suite_name: str
) -> set[tuple[str, int]]:
    """The (expectation id, row) verdicts the native decider gave itself (not left to Python)."""
    suite = compile_suite(
        {"name": suite_name, "expectations": [dict(c) for c in cfgs]}, native=True
    )
    decide = suite.decider
    if decide is None:
        return set()
    compiled = [e.expectation_id for e in suite.expectations]
    found = set()
    for pos, raw in enumerate(raws):
        row = decide(raw)
        if row[0] == 2:
            continue
        for key, code in zip(compiled, row[1:], strict=True):
            if code != 4:
                found.add((key, pos))
    return found


def bytes_vs_dict_mismatches(
    cfgs: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]], *, suite_name: str
) -> list[str]:
    """Where ``evaluate(json_bytes)`` and ``evaluate(record)`` disagree, for strict-JSON records.

    The gate sees bytes and GX sees decoded records, so parity only carries over if both agree.
    """
    suite = compile_suite({"name": suite_name, "expectations": [dict(c) for c in cfgs]})
    keys = [expectation_key(c, i) for i, c in enumerate(cfgs)]
    found = []
    for record in records:
        raw = strict_json(record)
        if raw is None:
            continue
        from_dict = _per_expectation(suite, record, keys)
        from_bytes = _per_expectation(suite, raw, keys)
        for index, key in enumerate(keys):
            if from_dict[key] != from_bytes[key]:
                cfg = json.dumps(cfgs[index], ensure_ascii=False, default=repr)
                found.append(
                    f"  expectation: {cfg}\n  bytes: {raw!r}\n"
                    f"  as dict: {from_dict[key]}   as bytes: {from_bytes[key]}"
                )
    return found


def _per_expectation(suite: Any, record: Any, keys: Sequence[str]) -> dict[str, str]:
    try:
        verdict = suite.evaluate(record)
    except Exception as exc:  # noqa: BLE001 - a bug in dqgate is reported, the run goes on
        return dict.fromkeys(keys, f"raised {type(exc).__name__}: {exc}")
    return _outcomes(verdict, keys)


def _outcomes(verdict: Any, keys: Sequence[str]) -> dict[str, str]:
    by_id: dict[str, list[Any]] = {}
    for failure in verdict.failures:
        by_id.setdefault(failure.expectation_id, []).append(failure)
    unknown = set(by_id) - set(keys)
    if unknown:
        raise AssertionError(f"dqgate reported unknown expectation ids {sorted(unknown)}")
    out = {}
    for key in keys:
        failures = by_id.get(key, [])
        if any(f.error for f in failures):
            out[key] = "error"
        else:
            out[key] = "fail" if failures else "pass"
    return out


def strict_json(record: Mapping[str, Any]) -> bytes | None:
    """The record as UTF-8 JSON bytes, or None when it holds NaN or infinities (not JSON)."""
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError:
        return None


def compare_with_gx(
    oracle: GXOracle,
    cfgs: Sequence[Mapping[str, Any]],
    records: list[dict[str, Any]],
    columns: list[str],
    *,
    seed: int,
    suite_name: str,
    check_bytes: bool = False,
    max_alone: int | None = None,
    tally: Tally = TALLY,
) -> ParityRun:
    """Every (expectation, record) verdict of dqgate against GX's, added to the session tally.

    dqgate's errors are passed to the oracle as suspects (rows to re-run alone), which only
    saves GX calls; with ``max_alone`` only that many distinct suspect rows are re-run, and
    the verdicts GX then gives no answer for are left out (counted in ``ParityRun.uncompared``).
    With ``check_bytes`` dqgate also evaluates each strict-JSON record as the
    bytes the gate would consume, and that verdict must equal GX's too.
    """
    ours = dqgate_verdicts(cfgs, records, suite_name=suite_name)
    keys = [expectation_key(c, i) for i, c in enumerate(cfgs)]
    suspects = {
        key: {pos for pos in range(len(records)) if ours[(key, pos)] == "error"} for key in keys
    }
    gx = oracle.oracle_verdicts(
        [dict(c) for c in cfgs], records, columns, suspects=suspects, max_alone=max_alone
    )
    raws = [strict_json(r) for r in records] if check_bytes else []
    byte_positions = [pos for pos, raw in enumerate(raws) if raw is not None]
    byte_values = [raws[pos] or b"" for pos in byte_positions]
    paths: dict[str, dict[tuple[str, int], str]] = {}
    decided: set[tuple[str, int]] = set()
    if byte_positions:
        for label, native in (("native", True), ("python", False)):
            paths[label] = dqgate_verdicts(cfgs, byte_values, suite_name=suite_name, native=native)
        decided = natively_decided(cfgs, byte_values, suite_name=suite_name)
    run = ParityRun(seed=seed)
    for key, cfg in zip(keys, cfgs, strict=True):
        etype = str(cfg["type"])
        run.records[etype] = max(run.records[etype], len(records))
        before, uncompared = len(run.mismatches), run.uncompared
        for pos, record in enumerate(records):
            if (key, pos) not in gx:
                run.uncompared += 1
                continue
            expected, actual = gx[(key, pos)], ours[(key, pos)]
            run.compared[etype] += 1
            run.outcomes[(etype, expected)] += 1
            if expected != actual:
                run.mismatches.append(Mismatch(cfg=cfg, record=record, gx=expected, dqgate=actual))
        three_way = native_decided = 0
        for slot, pos in enumerate(byte_positions):
            if (key, pos) not in gx:
                continue
            three_way += 1
            native_decided += (key, slot) in decided
            for label, found in paths.items():
                actual = found[(key, slot)]
                if actual != gx[(key, pos)]:
                    run.mismatches.append(
                        Mismatch(
                            cfg=cfg,
                            record=records[pos],
                            gx=gx[(key, pos)],
                            dqgate=f"{actual} ({label} path, from the JSON bytes {raws[pos]!r})",
                        )
                    )
        tally.add(
            cfg,
            (gx[(key, pos)] for pos in range(len(records)) if (key, pos) in gx),
            from_bytes=three_way,
            native_decided=native_decided,
            uncompared=run.uncompared - uncompared,
            mismatches=len(run.mismatches) - before,
        )
    return run
