"""Parity of dqgate's compiled per-record verdicts with GX 1.24's engine, core expectation types.

Each case draws 1,200 seeded records from tricky value pools, asks GX (the oracle) and dqgate for
a pass/fail/error verdict per (expectation, record), and requires zero mismatches. Run with ``-s``
to see how many verdicts were compared per type and GX's verdict mix.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from .cases import ROW_CASES, TABLE_CASES
from .compare import compare_with_gx
from .oracle import GXOracle
from .pools import ROW_COLUMNS, TABLE_KEYS, draw_keyed_records, draw_records

pytestmark = pytest.mark.parity

N_RECORDS = 1800
MIN_RECORDS = 1000


def _check(
    oracle: GXOracle,
    case: str,
    cfgs: list[dict[str, Any]],
    records: list[dict[str, Any]],
    columns: list[str],
    seed: int,
) -> None:
    run = compare_with_gx(
        oracle, cfgs, records, columns, seed=seed, suite_name=f"parity-{case}", check_bytes=True
    )
    print(f"\n{run.summary()}")
    assert run.records[case] >= MIN_RECORDS, run.summary()
    assert run.compared[case] >= MIN_RECORDS, run.summary()
    assert not run.mismatches, run.report()


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_row_level_verdicts_match_gx(case: str, gx_oracle: GXOracle, parity_seed: int) -> None:
    """dqgate's per-record verdict equals GX's (pass/fail/error) for every row-level config."""
    records = draw_records(random.Random(f"{parity_seed}:{case}"), N_RECORDS)
    _check(gx_oracle, case, ROW_CASES[case], records, list(ROW_COLUMNS), parity_seed)


@pytest.mark.parametrize("case", sorted(TABLE_CASES))
def test_table_level_verdicts_match_gx(case: str, gx_oracle: GXOracle, parity_seed: int) -> None:
    """dqgate's per-record schema verdict equals GX's on a 1-record batch without columns=."""
    records = draw_keyed_records(random.Random(f"{parity_seed}:{case}"), N_RECORDS)
    _check(gx_oracle, case, TABLE_CASES[case], records, list(TABLE_KEYS), parity_seed)
