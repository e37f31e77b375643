"""Parity with GX for structured row conditions (comparison, nullity, and, or).

A record the condition does not select passes; a condition GX cannot evaluate on a record
(e.g. ``"abc" > 1``) is an error for that record.
"""

from __future__ import annotations

import random

import pytest

from .cases import CONDITION_CASES
from .compare import compare_with_gx
from .oracle import GXOracle
from .pools import ROW_COLUMNS, draw_records

pytestmark = pytest.mark.parity

N_RECORDS = 1200


def test_conditioned_verdicts_match_gx(gx_oracle: GXOracle, parity_seed: int) -> None:
    """dqgate's verdict equals GX's for expectations carrying a structured row_condition."""
    records = draw_records(random.Random(f"{parity_seed}:conditions"), N_RECORDS)
    run = compare_with_gx(
        gx_oracle,
        CONDITION_CASES,
        records,
        list(ROW_COLUMNS),
        seed=parity_seed,
        suite_name="parity-conditions",
        check_bytes=True,
    )
    print(f"\n{run.summary()}")
    assert sum(run.compared.values()) == N_RECORDS * len(CONDITION_CASES)
    assert not run.mismatches, run.report()
