"""Expectation configs of the parity tests, per case (an expectation type), with unique meta.id."""

from __future__ import annotations

import math
from typing import Any

from .pools import ROW_COLUMNS

__all__ = ["CONDITION_CASES", "ROW_CASES", "TABLE_CASES"]

_P = "expect_column_values_to_"


def _cfgs(etype: str, *kwargs_list: dict[str, Any]) -> list[dict[str, Any]]:
    """Expectation configs of one type, each with a unique ``meta.id``."""
    short = etype.removeprefix("expect_")
    return [
        {"type": etype, "kwargs": kwargs, "meta": {"id": f"{short}-{i}"}}
        for i, kwargs in enumerate(kwargs_list)
    ]


def _on(columns: tuple[str, ...], *kwargs_list: dict[str, Any]) -> list[dict[str, Any]]:
    """The same kwargs applied to each of ``columns``."""
    return [{"column": c, **kw} for kw in kwargs_list for c in columns]


BOTH = ("any", "text")
NUMERIC = ("any", "num")

ROW_CASES: dict[str, list[dict[str, Any]]] = {
    f"{_P}not_be_null": _cfgs(f"{_P}not_be_null", *_on(ROW_COLUMNS, {})),
    f"{_P}be_null": _cfgs(f"{_P}be_null", *_on(ROW_COLUMNS, {})),
    f"{_P}be_in_set": _cfgs(
        f"{_P}be_in_set",
        *_on(
            ("any",),
            {"value_set": [1]},
            {"value_set": [True, "abc", ""]},
            {"value_set": [0, "0", " ", "é", None]},
            {"value_set": [1.5, 10, math.inf, "2024-01-05", "ab\nc"]},
            {"value_set": []},
        ),
        *_on(("num",), {"value_set": [0, 1, -2.5, 2**63]}, {"value_set": [2**53 + 1, 0.5]}),
        *_on(("num",), {"value_set": [2**53, 1e16, 10**10]}, {"value_set": [0.3, 1e-05, -0.0]}),
        *_on(("text",), {"value_set": ["1", "Jan 5 2024", "日本", "abc\n"]}),
    ),
    f"{_P}not_be_in_set": _cfgs(
        f"{_P}not_be_in_set",
        *_on(
            ("any",),
            {"value_set": [1]},
            {"value_set": [False, "abc", ""]},
            {"value_set": [0, "0", " ", "é", None]},
            {"value_set": []},
        ),
        *_on(("num",), {"value_set": [0, 10.0, -math.inf, 10**20]}),
        *_on(("text",), {"value_set": ["1", "2024-1-5", "日本", "\n"]}),
    ),
    f"{_P}be_between": _cfgs(
        f"{_P}be_between",
        *_on(
            NUMERIC,
            {"min_value": 0, "max_value": 10},
            {"min_value": 0, "max_value": 10, "strict_min": True, "strict_max": True},
            {"min_value": 0},
            {"max_value": 10},
            {"min_value": 0, "strict_min": True},
            {"max_value": 10, "strict_max": True},
        ),
        *_on(
            ("num",),
            {"min_value": -2.5, "max_value": 1e10, "strict_max": True},
            {"min_value": 5, "max_value": 5},
            {"min_value": 1, "max_value": 1},
            {"min_value": 2**53, "max_value": 1e16},
            {"min_value": 10**10 + 1, "strict_min": True},
            {"max_value": 10.000000000000002, "strict_max": True},
        ),
        *_on(
            ("text",),
            {"min_value": "2024-01-01"},
            {"min_value": "2024-01-01", "max_value": "2024-12-31"},
        ),
    ),
    f"{_P}match_regex": _cfgs(
        f"{_P}match_regex",
        *_on(BOTH, {"regex": r"^\d+$"}, {"regex": r"abc$"}, {"regex": r"^[a-z]+$"}),
        *_on(BOTH, {"regex": r"é|日"}, {"regex": r"^1"}, {"regex": r"\."}, {"regex": r"^$"}),
        *_on(("any",), {"regex": r"(?i)^true$"}, {"regex": r"^\s*$"}, {"regex": r"'"}),
        *_on(BOTH, {"regex": r"^\w+$"}, {"regex": r"(?m)^c$"}, {"regex": r"abc\Z"}),
        *_on(("text",), {"regex": r"(?a)^\d+$"}, {"regex": r"^.$"}),
        *_on(("num",), {"regex": r"^-?\d+\.\d+$"}, {"regex": r"e"}),
    ),
    f"{_P}not_match_regex": _cfgs(
        f"{_P}not_match_regex",
        *_on(BOTH, {"regex": r"^\d+$"}, {"regex": r"abc$"}, {"regex": r"\n"}),
        *_on(BOTH, {"regex": r"^$"}, {"regex": r"[^\x00-\x7f]"}),
        *_on(("any",), {"regex": r"^\["}, {"regex": r"(?i)none|nan"}),
        *_on(("num",), {"regex": r"\.0$"}),
    ),
    f"{_P}match_regex_list": _cfgs(
        f"{_P}match_regex_list",
        *_on(
            BOTH,
            {"regex_list": [r"^\d+$", r"^[a-z]+$"]},
            {"regex_list": [r"^\d+$", r"^[a-z]+$"], "match_on": "all"},
            {"regex_list": [r"a", r"b"], "match_on": "any"},
            {"regex_list": [r"a", r"b"], "match_on": "all"},
            {"regex_list": [r"^2024", r"\d$"], "match_on": "all"},
        ),
        *_on(("num",), {"regex_list": [r"^1", r"\.5$"]}),
    ),
    f"{_P}not_match_regex_list": _cfgs(
        f"{_P}not_match_regex_list",
        *_on(
            BOTH,
            {"regex_list": [r"^\d", r"\n"]},
            {"regex_list": [r"abc", r"^$"]},
            {"regex_list": [r"[^\x00-\x7f]", r"\s"]},
        ),
        *_on(("num",), {"regex_list": [r"^-", r"inf"]}),
    ),
    f"{_P}match_strftime_format": _cfgs(
        f"{_P}match_strftime_format",
        *_on(("text",), {"strftime_format": "%d/%m/%Y"}, {"strftime_format": "%H:%M"}),
        *_on(("text",), {"strftime_format": "%Y-%m-%dT%H:%M:%S%z"}, {"strftime_format": "%Y%m%d"}),
        *_on(("text",), {"strftime_format": "%Y-%m-%d %H:%M:%S%z"}, {"strftime_format": "%Y"}),
        *_on(("text",), {"strftime_format": "%Y-%m-%dT%H:%M:%S.%f%z"}),
        *_on(("text",), {"strftime_format": "%m/%d/%Y"}, {"strftime_format": "%Y-%m-%dT%H:%M"}),
        *_on(("text",), {"strftime_format": "%Y-%m-%dT%H:%M:%S"}, {"strftime_format": "%Y%%%m"}),
        *_on(BOTH, {"strftime_format": "%Y-%m-%d"}, {"strftime_format": "%b %d %Y"}),
    ),
    f"{_P}be_dateutil_parseable": _cfgs(f"{_P}be_dateutil_parseable", *_on(BOTH, {})),
    "expect_column_value_lengths_to_be_between": _cfgs(
        "expect_column_value_lengths_to_be_between",
        *_on(
            ("any", "text", "num"),
            {"min_value": 1, "max_value": 3},
            {"min_value": 2},
            {"max_value": 4},
        ),
        *_on(BOTH, {"min_value": 1, "max_value": 3, "strict_min": True, "strict_max": True}),
        *_on(BOTH, {"min_value": 0, "max_value": 0}),
    ),
    "expect_column_value_lengths_to_equal": _cfgs(
        "expect_column_value_lengths_to_equal",
        *_on(("any", "text", "num"), {"value": 3}, {"value": 1}),
        *_on(BOTH, {"value": 0}, {"value": 10}),
    ),
    f"{_P}be_of_type": _cfgs(
        f"{_P}be_of_type",
        *_on(("any",), *({"type_": t} for t in ("int", "float", "str", "bool", "list", "dict"))),
        *_on(("num",), {"type_": "int"}, {"type_": "float"}, {"type_": "bool"}),
        *_on(("text",), {"type_": "str"}),
    ),
    f"{_P}be_in_type_list": _cfgs(
        f"{_P}be_in_type_list",
        *_on(
            ("any",),
            {"type_list": ["int", "float"]},
            {"type_list": ["str"]},
            {"type_list": ["bool", "list", "dict"]},
            {"type_list": ["int"]},
            {"type_list": ["float", "str"]},
        ),
        *_on(("num",), {"type_list": ["float"]}, {"type_list": ["int", "bool"]}),
    ),
}

TABLE_CASES: dict[str, list[dict[str, Any]]] = {
    "expect_column_to_exist": _cfgs(
        "expect_column_to_exist", *({"column": c} for c in ("a", "d", "extra", "never"))
    ),
    "expect_table_columns_to_match_set": _cfgs(
        "expect_table_columns_to_match_set",
        {"column_set": ["a", "b"]},
        {"column_set": ["a", "b"], "exact_match": True},
        {"column_set": ["a", "b"], "exact_match": False},
        {"column_set": ["b", "a", "c", "d"], "exact_match": True},
        {"column_set": ["a", "b", "c", "d", "extra"], "exact_match": True},
        {"column_set": ["extra"], "exact_match": False},
        {"column_set": [], "exact_match": True},
        {"column_set": [], "exact_match": False},
    ),
}


def _cmp(column: str, operator: str, parameter: Any) -> dict[str, Any]:
    return {"type": "comparison", "column": {"name": column}, "operator": operator,
            "parameter": parameter}  # fmt: skip


def _nullity(column: str, is_null: bool) -> dict[str, Any]:
    return {"type": "nullity", "column": {"name": column}, "is_null": is_null}


_CONDITIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", ">", 5)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "!=", 1)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "==", 1)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "==", True)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "<=", 0)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", ">", 1.5)),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "IN", [0, 1, 2])),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "NOT_IN", [0, 1])),
    (f"{_P}not_be_null", {"column": "text"}, _cmp("num", "IN", [])),
    (f"{_P}be_null", {"column": "text"}, _nullity("num", True)),
    (f"{_P}be_null", {"column": "text"}, _nullity("num", False)),
    (
        f"{_P}match_regex",
        {"column": "text", "regex": r"^\d+$"},
        {"type": "and", "conditions": [_cmp("num", ">=", 0), _cmp("num", "<", 10)]},
    ),
    (
        f"{_P}be_in_set",
        {"column": "text", "value_set": ["abc", ""]},
        {"type": "or", "conditions": [_cmp("num", "<", 0), _nullity("num", True)]},
    ),
    (f"{_P}be_between", {"column": "num", "min_value": 0}, _cmp("text", "==", "abc")),
    (f"{_P}be_between", {"column": "num", "max_value": 5}, _cmp("text", "!=", "")),
    (f"{_P}be_between", {"column": "num", "max_value": 5}, _cmp("text", ">", "m")),
    (f"{_P}not_be_null", {"column": "num"}, _cmp("text", "IN", ["abc", "", "1"])),
    (f"{_P}not_be_null", {"column": "num"}, _cmp("text", "==", "ab'c\n")),
    # ERR-poison conditions read the expectation's own column, so isolating them stays cheap:
    (f"{_P}not_be_null", {"column": "text"}, _cmp("text", ">", 1)),
    (f"{_P}not_be_null", {"column": "any"}, _cmp("any", "<", 10)),
    (f"{_P}be_between", {"column": "any", "max_value": 5}, _cmp("any", ">=", 0)),
]

CONDITION_CASES: list[dict[str, Any]] = [
    {"type": etype, "kwargs": {**kwargs, "row_condition": condition}, "meta": {"id": f"cond-{i}"}}
    for i, (etype, kwargs, condition) in enumerate(_CONDITIONS)
]
