"""The suites the fuzzer drives: every compiled check type, most of their options.

Columns are few (:data:`COLUMNS`), so generated records hit them often. Each check type
appears at least once plain and, for the per-value ones, once under a row condition; a
few run in observe mode (``severity: warning``) or with ``mostly`` (window counters).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["COLUMNS", "FUZZ_SUITES", "fuzz_types"]

COLUMNS: Final = ("a", "b", "n", "s", "d", "j")

_P = "expect_column_values_to_"
_REGEXES: Final = (r"^\d+$", r"(?i)^[a-z]+\s?$", r"é|日|\x00", r"^-?\d+\.\d+(e[-+]?\d+)?$")
_SCHEMA: Final = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}},
    "required": ["a"],
}
_CONDITIONS: Final[tuple[dict[str, Any], ...]] = (
    {"row_condition": {"type": "comparison", "column": {"name": "n"}, "operator": ">",
                       "parameter": 0}},
    {"row_condition": {"type": "nullity", "column": {"name": "a"}, "is_null": False}},
    {"row_condition": {"type": "comparison", "column": {"name": "s"}, "operator": "IN",
                       "parameter": ["x", "y", ""]}},
    {"row_condition": {"type": "or", "conditions": [
        {"type": "comparison", "column": {"name": "b"}, "operator": "!=", "parameter": "z"},
        {"type": "and", "conditions": [
            {"type": "comparison", "column": {"name": "n"}, "operator": "<=", "parameter": 5.5},
            {"type": "nullity", "column": {"name": "d"}, "is_null": True}]}]}},
    {"row_condition": 'col("n")>1', "condition_parser": "great_expectations"},
    {"row_condition": 'col("s").notnull()', "condition_parser": "great_expectations"},
)  # fmt: skip

_COLUMN_CHECKS: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    (f"{_P}not_be_null", {"column": "a"}),
    (f"{_P}be_null", {"column": "d"}),
    (f"{_P}be_in_set", {"column": "s", "value_set": ["x", "y", 1, 2.5, None, True]}),
    (f"{_P}not_be_in_set", {"column": "a", "value_set": [0, "", "null", -1]}),
    (f"{_P}be_between", {"column": "n", "min_value": -10, "max_value": 1e6}),
    (f"{_P}be_between", {"column": "d", "min_value": "2020-01-01", "max_value": "2030-12-31"}),
    (f"{_P}be_between", {"column": "a", "min_value": 0, "strict_min": True}),
    ("expect_column_value_lengths_to_be_between", {"column": "s", "min_value": 1, "max_value": 8}),
    ("expect_column_value_lengths_to_equal", {"column": "b", "value": 3}),
    (f"{_P}match_regex", {"column": "s", "regex": _REGEXES[1]}),
    (f"{_P}match_regex", {"column": "a", "regex": _REGEXES[0]}),
    (f"{_P}not_match_regex", {"column": "b", "regex": _REGEXES[2]}),
    (f"{_P}match_regex_list", {"column": "n", "regex_list": list(_REGEXES), "match_on": "any"}),
    (f"{_P}match_regex_list", {"column": "s", "regex_list": list(_REGEXES[:2]), "match_on": "all"}),
    (f"{_P}not_match_regex_list", {"column": "j", "regex_list": list(_REGEXES)}),
    (f"{_P}match_strftime_format", {"column": "d", "strftime_format": "%Y-%m-%dT%H:%M:%S%z"}),
    (f"{_P}match_strftime_format", {"column": "b", "strftime_format": "%d/%m/%Y"}),
    (f"{_P}be_dateutil_parseable", {"column": "d"}),
    (f"{_P}be_json_parseable", {"column": "j"}),
    (f"{_P}match_json_schema", {"column": "j", "json_schema": _SCHEMA}),
    (f"{_P}be_of_type", {"column": "n", "type_": "float"}),
    (f"{_P}be_of_type", {"column": "a", "type_": "int"}),
    (f"{_P}be_in_type_list", {"column": "b", "type_list": ["str", "int", "bool", "list"]}),
)
_MULTI_CHECKS: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    ("expect_column_pair_values_to_be_equal", {"column_A": "a", "column_B": "n"}),
    ("expect_column_pair_values_a_to_be_greater_than_b",
     {"column_A": "n", "column_B": "a", "or_equal": True, "ignore_row_if": "neither"}),
    ("expect_column_pair_values_to_be_in_set",
     {"column_A": "s", "column_B": "b", "value_pairs_set": [["x", "y"], [1, 2], [None, "z"]]}),
    ("expect_multicolumn_sum_to_equal",
     {"column_list": ["a", "n"], "sum_total": 10, "ignore_row_if": "any_value_is_missing"}),
    ("expect_multicolumn_values_to_be_equal", {"column_list": ["a", "b", "n"]}),
    ("expect_select_column_values_to_be_unique_within_record",
     {"column_list": ["a", "b", "s"], "ignore_row_if": "never"}),
    ("expect_column_to_exist", {"column": "a", "column_index": 0}),
    ("expect_table_columns_to_match_set", {"column_set": list(COLUMNS), "exact_match": False}),
    ("expect_table_column_count_to_equal", {"value": 4}),
    ("expect_table_column_count_to_be_between", {"min_value": 1, "max_value": 6}),
)  # fmt: skip
_TABLE_LEVEL: Final = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_columns_to_match_set",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
    }
)


def _expectation(index: int, etype: str, kwargs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs, "meta": {"id": f"fuzz-{index}"}, **extra}


def _plain() -> dict[str, Any]:
    items = [*_COLUMN_CHECKS, *_MULTI_CHECKS]
    expectations = [_expectation(i, t, dict(kw)) for i, (t, kw) in enumerate(items)]
    # Observe mode and `mostly` (window counters) on a few.
    expectations[0]["severity"] = "warning"
    expectations[4]["kwargs"]["mostly"] = 0.5
    expectations[9]["kwargs"]["mostly"] = 0.9
    return {"name": "fuzz_plain", "expectations": expectations}


def _conditioned() -> dict[str, Any]:
    expectations = []
    items = [(t, kw) for t, kw in (*_COLUMN_CHECKS, *_MULTI_CHECKS) if t not in _TABLE_LEVEL]
    for index, (etype, kwargs) in enumerate(items):
        condition = _CONDITIONS[index % len(_CONDITIONS)]
        expectations.append(_expectation(index, etype, {**kwargs, **condition}))
    return {"name": "fuzz_conditioned", "expectations": expectations}


FUZZ_SUITES: Final[tuple[dict[str, Any], ...]] = (_plain(), _conditioned())


def fuzz_types() -> set[str]:
    """Every expectation type the fuzz suites use."""
    return {e["type"] for suite in FUZZ_SUITES for e in suite["expectations"]}
