"""Default reason class per expectation type; a suite may override it in ``meta.dqgate.reason``."""

from __future__ import annotations

from typing import Final

from dqgate.verdict import Reason

__all__ = ["DEFAULT_REASONS", "default_reason"]

DEFAULT_REASONS: Final[dict[str, Reason]] = {
    "expect_column_to_exist": Reason.MISSING_FIELD,
    "expect_table_columns_to_match_set": Reason.MISSING_FIELD,
    "expect_column_values_to_not_be_null": Reason.MISSING_FIELD,
    "expect_column_values_to_be_null": Reason.NOT_IN_SET,
    "expect_column_values_to_be_in_set": Reason.NOT_IN_SET,
    "expect_column_values_to_not_be_in_set": Reason.NOT_IN_SET,
    "expect_column_values_to_be_between": Reason.OUT_OF_RANGE,
    "expect_column_values_to_match_regex": Reason.PATTERN_MISMATCH,
    "expect_column_values_to_not_match_regex": Reason.PATTERN_MISMATCH,
    "expect_column_values_to_match_regex_list": Reason.PATTERN_MISMATCH,
    "expect_column_values_to_not_match_regex_list": Reason.PATTERN_MISMATCH,
    "expect_column_values_to_match_strftime_format": Reason.UNPARSEABLE_DATE,
    "expect_column_values_to_be_dateutil_parseable": Reason.UNPARSEABLE_DATE,
    "expect_column_value_lengths_to_be_between": Reason.WRONG_LENGTH,
    "expect_column_value_lengths_to_equal": Reason.WRONG_LENGTH,
    "expect_column_values_to_be_of_type": Reason.WRONG_TYPE,
    "expect_column_values_to_be_in_type_list": Reason.WRONG_TYPE,
    "expect_column_values_to_be_json_parseable": Reason.WRONG_TYPE,
    "expect_column_values_to_match_json_schema": Reason.WRONG_TYPE,
    "expect_column_pair_values_to_be_equal": Reason.NOT_IN_SET,
    "expect_column_pair_values_a_to_be_greater_than_b": Reason.OUT_OF_RANGE,
    "expect_column_pair_values_to_be_in_set": Reason.NOT_IN_SET,
    "expect_multicolumn_sum_to_equal": Reason.OUT_OF_RANGE,
    "expect_multicolumn_values_to_be_equal": Reason.NOT_IN_SET,
    "expect_select_column_values_to_be_unique_within_record": Reason.NOT_IN_SET,
    "expect_table_column_count_to_equal": Reason.MISSING_FIELD,
    "expect_table_column_count_to_be_between": Reason.MISSING_FIELD,
}


def default_reason(expectation_type: str) -> Reason:
    """The reason class a failure of this type reports unless the suite overrides it."""
    return DEFAULT_REASONS.get(expectation_type, Reason.EVALUATION_ERROR)
