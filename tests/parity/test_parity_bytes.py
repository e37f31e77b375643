"""The gate evaluates raw bytes while GX sees decoded records: both inputs must give one verdict."""

from __future__ import annotations

import json
import random

import pytest

from .cases import ROW_CASES, TABLE_CASES
from .compare import bytes_vs_dict_mismatches, dqgate_verdicts
from .oracle import GXOracle
from .pools import draw_keyed_records, draw_records

pytestmark = pytest.mark.parity

N_RECORDS = 1200
WIDE_INTS = [10**20, -(2**63) - 1, 2**64, 2**1000]


@pytest.mark.parametrize("case", sorted(ROW_CASES | TABLE_CASES))
def test_bytes_and_decoded_record_get_the_same_verdict(case: str, parity_seed: int) -> None:
    """evaluate(json bytes) equals evaluate(dict) per expectation, huge integers included."""
    rng = random.Random(f"{parity_seed}:{case}")
    draw = draw_records if case in ROW_CASES else draw_keyed_records
    records = draw(rng, N_RECORDS)
    cfgs = (ROW_CASES | TABLE_CASES)[case]
    found = bytes_vs_dict_mismatches(cfgs, records, suite_name=f"bytes-{case}")
    assert not found, f"{len(found)} mismatches (seed={parity_seed}):\n" + "\n".join(found[:20])


def test_integers_beyond_64_bits_keep_gx_verdict_as_bytes(gx_oracle: GXOracle) -> None:
    """A 10**20 in the JSON bytes gets GX's verdict on json.loads of those bytes."""
    cfgs = [
        {
            "type": "expect_column_values_to_be_of_type",
            "kwargs": {"column": "v", "type_": "int"},
            "meta": {"id": "int"},
        },
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "v", "regex": r"^-?\d+$"},
            "meta": {"id": "digits"},
        },
    ]
    raws = [json.dumps({"v": n}).encode() for n in WIDE_INTS]
    records = [json.loads(raw) for raw in raws]
    gx = gx_oracle.oracle_verdicts(cfgs, records, ["v"])
    from_bytes = dqgate_verdicts(cfgs, raws, suite_name="wide-ints")
    assert from_bytes == gx
