"""Every expectation type dqgate knows, registered once: definition, Python and native backends.

One :func:`~dqgate.suites.registry.register` call per type. The Python checks live in
:mod:`dqgate.suites.checks` and :mod:`dqgate.suites.multi`, the native specs in
:mod:`dqgate.suites.native_specs`; this module is the only place that joins a type to them.
Types not registered here are classified by their GX class: map expectations run in GX's
engine (the fallback), batch expectations over windows.
"""

from __future__ import annotations

from typing import Any, Final

from dqgate.suites import checks, multi, native_specs
from dqgate.suites.registry import Mode, Registration, register
from dqgate.verdict import Reason

__all__: list[str] = []

_V: Final = "expect_column_values_to_"
_NOT_A_STRING_DATE: Final = "value is not a string, so it cannot be parsed as a date"
_INCOMPARABLE: Final = "value cannot be compared with the bounds (e.g. text against numbers)"


def _column_exists_message(gx: Any) -> str:
    if gx.column_index:
        return f"field is not at position {gx.column_index}"
    return "required field is absent"


def _columns_match_set_message(gx: Any) -> str:
    return "fields differ from the expected set" if gx.exact_match else "required fields are absent"


def _pair_greater_message(gx: Any) -> str:
    return "A is not greater than B" + (" or equal" if gx.or_equal else "")


# --- nullity and sets -------------------------------------------------------------------

register(
    Registration(
        type=f"{_V}not_be_null",
        reason=Reason.MISSING_FIELD,
        message="required value is missing or null",
        check=checks.build_not_null,
        native=native_specs.not_null,
    )
)
register(
    Registration(
        type=f"{_V}be_null",
        reason=Reason.NOT_IN_SET,
        message="value must be null but is present",
        check=checks.build_be_null,
        native=native_specs.be_null,
    )
)
register(
    Registration(
        type=f"{_V}be_in_set",
        reason=Reason.NOT_IN_SET,
        message="value is not one of the {allowed} allowed values",
        validate=checks.validate_value_set,
        check=checks.build_in_set,
        native=native_specs.in_set,
    )
)
register(
    Registration(
        type=f"{_V}not_be_in_set",
        reason=Reason.NOT_IN_SET,
        message="value is one of the forbidden values",
        validate=checks.validate_value_set,
        check=checks.build_not_in_set,
        native=native_specs.not_in_set,
    )
)

# --- ranges and lengths (bounds: the registry's shared rule) ----------------------------

register(
    Registration(
        type=f"{_V}be_between",
        reason=Reason.OUT_OF_RANGE,
        message=lambda gx: f"value is outside {checks.bounds_text(gx)}",
        error_message=_INCOMPARABLE,
        check=checks.build_between,
        native=native_specs.between,
    )
)
register(
    Registration(
        type="expect_column_value_lengths_to_be_between",
        reason=Reason.WRONG_LENGTH,
        message=lambda gx: f"length is outside {checks.bounds_text(gx)}",
        check=checks.build_lengths_between,
        native=native_specs.lengths_between,
    )
)
register(
    Registration(
        type="expect_column_value_lengths_to_equal",
        reason=Reason.WRONG_LENGTH,
        message="length is not {value:g}",
        check=checks.build_lengths_equal,
        native=native_specs.lengths_equal,
    )
)

# --- patterns ---------------------------------------------------------------------------

register(
    Registration(
        type=f"{_V}match_regex",
        reason=Reason.PATTERN_MISMATCH,
        message="value does not match the required pattern",
        validate=checks.validate_regex,
        check=checks.build_match_regex,
        native=native_specs.match_regex,
    )
)
register(
    Registration(
        type=f"{_V}not_match_regex",
        reason=Reason.PATTERN_MISMATCH,
        message="value matches a forbidden pattern",
        validate=checks.validate_regex,
        check=checks.build_not_match_regex,
        native=native_specs.not_match_regex,
    )
)
register(
    Registration(
        type=f"{_V}match_regex_list",
        reason=Reason.PATTERN_MISMATCH,
        message="value does not match {match_on} of the {patterns} patterns",
        validate=checks.validate_regex_list,
        check=checks.build_match_regex_list,
        native=native_specs.match_regex_list,
    )
)
register(
    Registration(
        type=f"{_V}not_match_regex_list",
        reason=Reason.PATTERN_MISMATCH,
        message="value matches one of the forbidden patterns",
        validate=checks.validate_regex_list,
        check=checks.build_not_match_regex_list,
        native=native_specs.not_match_regex_list,
    )
)

# --- dates ------------------------------------------------------------------------------

register(
    Registration(
        type=f"{_V}match_strftime_format",
        reason=Reason.UNPARSEABLE_DATE,
        message="date does not match the format {strftime_format}",
        error_message=_NOT_A_STRING_DATE,
        check=checks.build_strftime,
        native=native_specs.strftime,
    )
)
register(
    Registration(
        type=f"{_V}be_dateutil_parseable",
        reason=Reason.UNPARSEABLE_DATE,
        message="value is not a parseable date",
        error_message=_NOT_A_STRING_DATE,
        check=checks.build_dateutil,
        native=native_specs.dateutil,
    )
)

# --- types and JSON ---------------------------------------------------------------------

register(
    Registration(
        type=f"{_V}be_of_type",
        reason=Reason.WRONG_TYPE,
        message="value is not of type {type_}",
        validate=checks.validate_type_name,
        check=checks.build_of_type,
        native=native_specs.of_type,
    )
)
register(
    Registration(
        type=f"{_V}be_in_type_list",
        reason=Reason.WRONG_TYPE,
        message="value is not of any type in {type_list}",
        validate=checks.validate_type_list,
        check=checks.build_in_type_list,
        native=native_specs.in_type_list,
    )
)
register(
    Registration(
        type=f"{_V}be_json_parseable",
        reason=Reason.WRONG_TYPE,
        message="value is not a JSON document",
        check=multi.build_json_parseable,
        native=native_specs.json_parseable,
    )
)
register(
    Registration(
        type=f"{_V}match_json_schema",
        reason=Reason.WRONG_TYPE,
        message="value does not match the JSON schema",
        error_message="value is not a JSON string, so it cannot be checked",
        validate=multi.validate_json_schema,
        check=multi.build_json_schema,
        native=native_specs.json_schema,
    )
)

# --- column pairs and multicolumn -------------------------------------------------------

register(
    Registration(
        type="expect_column_pair_values_to_be_equal",
        reason=Reason.NOT_IN_SET,
        message="the two fields differ",
        validate=multi.validate_pair,
        check=multi.build_pair_equal,
        native=native_specs.pair_equal,
    )
)
register(
    Registration(
        type="expect_column_pair_values_a_to_be_greater_than_b",
        reason=Reason.OUT_OF_RANGE,
        message=_pair_greater_message,
        error_message="the two fields cannot be compared (e.g. text and numbers)",
        validate=multi.validate_pair,
        check=multi.build_pair_greater,
        native=native_specs.pair_greater,
    )
)
register(
    Registration(
        type="expect_column_pair_values_to_be_in_set",
        reason=Reason.NOT_IN_SET,
        message="the pair is not one of the {allowed} allowed pairs",
        validate=multi.validate_pairs_set,
        check=multi.build_pair_in_set,
        native=native_specs.pair_in_set,
    )
)
register(
    Registration(
        type="expect_multicolumn_sum_to_equal",
        reason=Reason.OUT_OF_RANGE,
        message="the fields do not sum to {sum_total:g}",
        error_message="the fields cannot be added (e.g. text and numbers)",
        validate=multi.validate_column_list,
        check=multi.build_multi_sum,
        native=native_specs.multi_sum,
    )
)
register(
    Registration(
        type="expect_multicolumn_values_to_be_equal",
        reason=Reason.NOT_IN_SET,
        message="the fields are not all equal",
        validate=multi.validate_column_list,
        check=multi.build_multi_equal,
        native=native_specs.multi_equal,
    )
)
register(
    Registration(
        type="expect_select_column_values_to_be_unique_within_record",
        reason=Reason.NOT_IN_SET,
        message="some of the fields repeat a value",
        error_message="a field holds a list or object, which cannot be compared",
        validate=multi.validate_column_list,
        check=multi.build_unique_within,
        native=native_specs.unique_within,
    )
)

# --- table level: the record's own keys -------------------------------------------------

register(
    Registration(
        type="expect_column_to_exist",
        reason=Reason.MISSING_FIELD,
        whole_record=True,
        message=_column_exists_message,
        check=checks.build_column_exists,
        native=native_specs.column_exists,
    )
)
register(
    Registration(
        type="expect_table_columns_to_match_set",
        reason=Reason.MISSING_FIELD,
        whole_record=True,
        message=_columns_match_set_message,
        check=checks.build_columns_match_set,
        native=native_specs.columns_match_set,
    )
)
register(
    Registration(
        type="expect_table_column_count_to_equal",
        reason=Reason.MISSING_FIELD,
        whole_record=True,
        message="the record does not have {value:g} fields",
        check=multi.build_count_equal,
        native=native_specs.count_equal,
    )
)
register(
    Registration(
        type="expect_table_column_count_to_be_between",
        reason=Reason.MISSING_FIELD,
        whole_record=True,
        message="the number of fields is outside [{min_value}, {max_value}]",
        check=multi.build_count_between,
        native=native_specs.count_between,
    )
)

# --- evaluated over windows, never per record --------------------------------------------

_WINDOW_WHY: Final = "needs many records: evaluated by GX over tumbling windows"
for _type in (
    f"{_V}be_unique",
    f"{_V}be_increasing",
    f"{_V}be_decreasing",
    "expect_column_value_z_scores_to_be_less_than",
    f"{_V}not_be_outliers",
    "expect_compound_columns_to_be_unique",
    "expect_column_type_to_be",
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
    "expect_table_columns_to_match_ordered_list",
):
    register(Registration(type=_type, mode=Mode.WINDOW, why=_WINDOW_WHY))

# --- refused at start-up ----------------------------------------------------------------

_SQL_LIKE: Final = "SQL LIKE patterns have no pandas engine in GX"
for _type, _why in (
    (f"{_V}match_like_pattern", _SQL_LIKE),
    (f"{_V}match_like_pattern_list", _SQL_LIKE),
    (f"{_V}not_match_like_pattern", _SQL_LIKE),
    (f"{_V}not_match_like_pattern_list", _SQL_LIKE),
    ("expect_query_results_to_match_comparison", "it runs SQL queries against a database"),
    ("expect_table_row_count_to_equal_other_table", "it compares two database tables"),
    ("unexpected_rows_expectation", "it runs an SQL query against a database"),
):
    register(Registration(type=_type, mode=Mode.UNSUPPORTED, why=_why))
