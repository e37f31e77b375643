"""The parity harness itself: the session tally, its floor, and the condition-form census."""

from __future__ import annotations

from typing import Any

import pytest

from .condition_strategies import CONDITION_FORMS, condition_forms
from .tally import MIN_NATIVE, MIN_VERDICTS, Tally, kind_of

pytestmark = pytest.mark.parity


def _cfg(etype: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs}


def _cmp(column: str, operator: str, parameter: Any) -> dict[str, Any]:
    return {"type": "comparison", "column": {"name": column}, "operator": operator,
            "parameter": parameter}  # fmt: skip


def test_condition_forms_include_the_parts_of_and_and_or() -> None:
    """An OR holding an AND of a comparison and a nullity counts all four forms."""
    condition = {
        "type": "or",
        "conditions": [
            {"type": "and", "conditions": [_cmp("a", "<", 1), {"type": "nullity"}]},
            _cmp("b", "IN", [1]),
        ],
    }
    found = condition_forms({"row_condition": condition})
    assert found == {"or", "and", "comparison <", "comparison IN", "nullity"}
    assert condition_forms({"row_condition": 'col("a")>1'}) == {"legacy"}
    assert condition_forms({}) == set()


def test_kind_of_tells_column_map_pair_multicolumn_and_table() -> None:
    """The kind follows the kwargs (column_A, column_list) or the schema-level type."""
    assert kind_of(_cfg("expect_column_values_to_be_null", column="a")) == "column map"
    assert kind_of(_cfg("expect_column_pair_values_to_be_equal", column_A="a")) == "column pair"
    assert kind_of(_cfg("expect_multicolumn_sum_to_equal", column_list=["a"])) == "multicolumn"
    assert kind_of(_cfg("expect_table_column_count_to_equal", value=1)) == "table"


def test_a_small_tally_falls_short_on_count_types_native_and_forms() -> None:
    """Too few three-way verdicts, an untested type, too little native, untested forms."""
    tally = Tally()
    cfg = _cfg("expect_column_values_to_be_null", column="a", row_condition=_cmp("a", "==", 1))
    tally.add(
        cfg, ["pass", "fail", "error"], from_bytes=2, native_decided=1, uncompared=0, mismatches=0
    )
    problems = tally.shortfalls(["expect_column_values_to_be_null", "expect_column_to_exist"])
    assert problems[0] == (
        f"only 2 verdicts compared three ways (GX, Python, native); at least {MIN_VERDICTS:,} "
        "needed"
    )
    assert problems[1] == "expectation types never compared: expect_column_to_exist"
    assert problems[2] == (
        f"fewer than {MIN_NATIVE:,} verdicts decided natively for: "
        "expect_column_to_exist, expect_column_values_to_be_null"
    )
    assert "comparison ==" not in problems[3]
    assert problems[3].startswith("row-condition forms never compared on column map: ")
    assert len(problems) == 6  # count, types, native, and one line per conditioned kind


def test_a_large_tally_covering_everything_has_no_shortfall() -> None:
    """Enough verdicts over every required type and every form on each kind pass the floor."""
    tally = Tally()
    etypes = {
        "column map": "expect_column_values_to_be_null",
        "column pair": "expect_column_pair_values_to_be_equal",
        "multicolumn": "expect_multicolumn_values_to_be_equal",
    }
    columns = {"column map": {"column": "a"}, "column pair": {"column_A": "a"}}
    for kind, etype in etypes.items():
        for form in CONDITION_FORMS:
            condition: Any = (
                'col("a")>1'
                if form == "legacy"
                else _cmp("a", form.split()[1], 1)
                if form.startswith("comparison")
                else {"type": form, "conditions": []}
            )
            kwargs = {**columns.get(kind, {"column_list": ["a"]}), "row_condition": condition}
            verdicts = ["pass"] * (MIN_VERDICTS // 30)
            tally.add(
                _cfg(etype, **kwargs),
                verdicts,
                from_bytes=len(verdicts),
                native_decided=MIN_NATIVE,
                uncompared=0,
                mismatches=0,
            )
    assert tally.from_bytes >= MIN_VERDICTS
    assert tally.shortfalls(etypes.values()) == []
