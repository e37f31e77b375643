"""The GX oracle on its own: known GX 1.24 row semantics from the team notes, and the harness."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dqgate.verdict import PASS

from . import compare
from .oracle import GXOracle, expectation_key
from .tally import Tally

pytestmark = pytest.mark.parity

COLUMNS = ["v", "w"]


def _one(
    gx_oracle: GXOracle, etype: str, records: list[dict[str, Any]], **kwargs: Any
) -> list[str]:
    cfg = {"type": etype, "kwargs": {"column": "v", **kwargs}, "meta": {"id": "e"}}
    verdicts = gx_oracle.oracle_verdicts([cfg], records, COLUMNS)
    return [verdicts[("e", i)] for i in range(len(records))]


def test_string_in_between_errors_only_its_own_row(gx_oracle: GXOracle) -> None:
    """GX errors the whole batch on "5" in a between-check; the oracle pins it to that row."""
    records: list[dict[str, Any]] = [{"v": 5}, {"v": "5"}, {"v": 11}, {}, {"v": True}]
    verdicts = _one(
        gx_oracle, "expect_column_values_to_be_between", records, min_value=0, max_value=10
    )
    assert verdicts == ["pass", "error", "fail", "pass", "pass"]


def test_in_set_uses_python_equality(gx_oracle: GXOracle) -> None:
    """1, 1.0 and True are all in [1]; "1" and [1] are not."""
    records: list[dict[str, Any]] = [{"v": 1}, {"v": 1.0}, {"v": True}, {"v": "1"}, {"v": [1]}]
    verdicts = _one(gx_oracle, "expect_column_values_to_be_in_set", records, value_set=[1])
    assert verdicts == ["pass", "pass", "pass", "fail", "fail"]


def test_strftime_is_lenient_and_errors_on_non_strings(gx_oracle: GXOracle) -> None:
    """%Y-%m-%d accepts "2024-1-5", rejects "05/01/2024", and errors on an int."""
    records: list[dict[str, Any]] = [{"v": "2024-1-5"}, {"v": "05/01/2024"}, {"v": 20240105}]
    verdicts = _one(
        gx_oracle,
        "expect_column_values_to_match_strftime_format",
        records,
        strftime_format="%Y-%m-%d",
    )
    assert verdicts == ["pass", "fail", "error"]


def test_missing_none_and_nan_are_null_but_empty_string_is_not(gx_oracle: GXOracle) -> None:
    """not_be_null fails a missing key, None and NaN, and passes ""."""
    records: list[dict[str, Any]] = [{}, {"v": None}, {"v": math.nan}, {"v": ""}]
    verdicts = _one(gx_oracle, "expect_column_values_to_not_be_null", records)
    assert verdicts == ["fail", "fail", "fail", "pass"]


def test_dict_as_first_unexpected_value_does_not_crash(gx_oracle: GXOracle) -> None:
    """A dict as the first unexpected value is a plain fail (GX's formatting bug is avoided)."""
    records: list[dict[str, Any]] = [{"v": {"k": 1}}, {"v": "abc"}, {"v": {"k": "abc"}}]
    verdicts = _one(gx_oracle, "expect_column_values_to_match_regex", records, regex="^abc$")
    assert verdicts == ["fail", "pass", "fail"]


def test_results_are_matched_by_key_not_by_order(gx_oracle: GXOracle) -> None:
    """An errored expectation comes first in GX's results; verdicts still land on the right one."""
    cfgs = [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "v", "value_set": [1]}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "v", "min_value": 0},
            "meta": {"id": "between"},
        },
    ]
    records: list[dict[str, Any]] = [{"v": 1}, {"v": "x"}]
    verdicts = gx_oracle.oracle_verdicts(cfgs, records, COLUMNS)
    assert verdicts == {
        ("0", 0): "pass",
        ("0", 1): "fail",
        ("between", 0): "pass",
        ("between", 1): "error",
    }


def test_table_level_types_see_only_the_record_keys(gx_oracle: GXOracle) -> None:
    """column_to_exist and columns_to_match_set judge each record's own key set."""
    cfgs = [
        {"type": "expect_column_to_exist", "kwargs": {"column": "v"}, "meta": {"id": "exists"}},
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["v", "w"]},
            "meta": {"id": "exact"},
        },
    ]
    records: list[dict[str, Any]] = [{"v": None}, {}, {"w": 1, "v": [1]}, {"w": 1}]
    verdicts = gx_oracle.oracle_verdicts(cfgs, records, COLUMNS)
    assert [verdicts[("exists", i)] for i in range(4)] == ["pass", "fail", "pass", "fail"]
    assert [verdicts[("exact", i)] for i in range(4)] == ["fail", "fail", "pass", "fail"]


def test_expectation_key_prefers_id_then_meta_id_then_index() -> None:
    """The key is the GX id if set, else meta.id, else the index as a string."""
    assert expectation_key({"id": "a", "meta": {"id": "b"}}, 3) == "a"
    assert expectation_key({"meta": {"id": "b"}}, 3) == "b"
    assert expectation_key({"meta": {}}, 3) == "3"


def test_mismatch_report_names_config_record_and_both_verdicts(
    gx_oracle: GXOracle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dqgate that passes everything is caught, and the report says where and how."""

    class PassEverything:
        def evaluate(self, record: object) -> object:
            return PASS

    monkeypatch.setattr(compare, "compile_suite", lambda source, native=None: PassEverything())
    cfg = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "v", "max_value": 10},
        "meta": {"id": "max10"},
    }
    records: list[dict[str, Any]] = [{"v": 1}, {"v": 11}, {"v": "x"}]
    run = compare.compare_with_gx(
        gx_oracle, [cfg], records, COLUMNS, seed=7, suite_name="t", tally=Tally()
    )
    assert [(m.record, m.gx, m.dqgate) for m in run.mismatches] == [
        ({"v": 11}, "fail", "pass"),
        ({"v": "x"}, "error", "pass"),
    ]
    report = run.report()
    assert '"max_value": 10' in report
    assert "{'v': 'x'}" in report
    assert "GX: error   dqgate: pass" in report
    assert "seed=7" in report


def test_gx_ignores_row_condition_when_listing_pair_in_set_failures(gx_oracle: GXOracle) -> None:
    """GX 1.24 bug: a pair outside the set errors even where row_condition excludes its row.

    ``ColumnPairValuesInSet.condition_domain_keys`` lacks ``row_condition``, so the excluded
    row is listed as unexpected and GX then rejects its own inconsistent counts. dqgate skips
    the row, as for every other type; the generated configs of this type carry no condition.
    """
    cfg = {
        "type": "expect_column_pair_values_to_be_in_set",
        "kwargs": {
            "column_A": "v",
            "column_B": "w",
            "value_pairs_set": [[0, 0]],
            "row_condition": _comparison("v", "==", 0),
        },
        "meta": {"id": "e"},
    }
    records: list[dict[str, Any]] = [{"v": 0, "w": 0}, {"v": 1, "w": 0}]
    verdicts = gx_oracle.oracle_verdicts([cfg], records, COLUMNS)
    assert [verdicts[("e", i)] for i in range(2)] == ["pass", "error"]


def test_gx_cannot_filter_on_a_list_holding_only_infinity(gx_oracle: GXOracle) -> None:
    """GX renders ``IN [inf]`` as a pandas query that fails, so every row errors."""
    cfg = {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "w", "row_condition": _comparison("v", "IN", [math.inf])},
        "meta": {"id": "e"},
    }
    records: list[dict[str, Any]] = [{"v": math.inf}, {"v": 1}]
    verdicts = gx_oracle.oracle_verdicts([cfg], records, COLUMNS)
    assert [verdicts[("e", i)] for i in range(2)] == ["error", "error"]


def test_a_validate_call_that_raises_is_an_error_for_its_rows(gx_oracle: GXOracle) -> None:
    """A metric error GX raises instead of reporting (of_type, dict < str) errors that row."""
    records: list[dict[str, Any]] = [{"v": "a"}, {"v": {"k": 1}}, {"v": "z"}]
    verdicts = _one(
        gx_oracle,
        "expect_column_values_to_be_of_type",
        records,
        type_="str",
        row_condition=_comparison("v", "<", "m"),
    )
    assert verdicts == ["pass", "error", "pass"]


BETWEEN_RECORDS: list[dict[str, Any]] = [
    {"v": 1}, {"v": "x"}, {"v": 20}, {"v": "x"}, {}, {"v": "y"}, {"v": 5}, {"v": [1]},
]  # fmt: skip
BETWEEN = {
    "type": "expect_column_values_to_be_between",
    "kwargs": {"column": "v", "min_value": 0, "max_value": 10},
    "meta": {"id": "e"},
}


def test_suspects_change_the_gx_calls_not_the_verdicts(gx_oracle: GXOracle) -> None:
    """Rows re-run alone (suspects), rows halved (none suspected) and no hint agree."""
    plain = gx_oracle.oracle_verdicts([BETWEEN], BETWEEN_RECORDS, COLUMNS)
    hinted = gx_oracle.oracle_verdicts(
        [BETWEEN], BETWEEN_RECORDS, COLUMNS, suspects={"e": {1, 3, 5, 7}}
    )
    bisected = gx_oracle.oracle_verdicts([BETWEEN], BETWEEN_RECORDS, COLUMNS, suspects={"e": set()})
    assert [plain[("e", i)] for i in range(8)] == [
        "pass", "error", "fail", "error", "pass", "error", "pass", "error",
    ]  # fmt: skip
    assert hinted == plain
    assert bisected == plain


def test_max_alone_leaves_the_other_suspects_without_a_verdict(gx_oracle: GXOracle) -> None:
    """With max_alone=1 only one distinct suspect row (and its twins) is re-run alone."""
    verdicts = gx_oracle.oracle_verdicts(
        [BETWEEN], BETWEEN_RECORDS, COLUMNS, suspects={"e": {1, 3, 5, 7}}, max_alone=1
    )
    assert sorted(i for (_, i) in verdicts) == [0, 1, 2, 3, 4, 6]
    assert verdicts[("e", 1)] == verdicts[("e", 3)] == "error"


def _comparison(column: str, operator: str, parameter: Any) -> dict[str, Any]:
    return {"type": "comparison", "column": {"name": column}, "operator": operator,
            "parameter": parameter}  # fmt: skip
