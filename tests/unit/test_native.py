"""The native decider: when it abstains, when a suite uses it, and the switch that turns it off."""

from __future__ import annotations

import importlib
import os
import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from dqgate.suites import CompiledSuite, compile_suite
from dqgate.suites import native as native_module
from dqgate.suites.native import SKIP_SHIFT, rust_regex
from dqgate.verdict import Outcome, Reason

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    importlib.import_module("dqgate_native")
else:
    pytest.importorskip("dqgate_native", reason="the native extension is not built (make install)")

_P = "expect_column_values_to_"
REGEX = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"^[a-z]+\d*$"}}
BETWEEN = {"type": f"{_P}be_between", "kwargs": {"column": "n", "min_value": 1, "max_value": 9}}
IN_SET = {"type": f"{_P}be_in_set", "kwargs": {"column": "e", "value_set": ["é", "x"]}}
NOT_NULL = {"type": f"{_P}not_be_null", "kwargs": {"column": "e"}}
DATE = {
    "type": f"{_P}match_strftime_format",
    "kwargs": {"column": "d", "strftime_format": "%Y-%m-%dT%H:%M:%S%z"},
}
ALL = (REGEX, BETWEEN, IN_SET, NOT_NULL, DATE)


def _suite(*cfgs: dict[str, Any], native: bool | None = True, **kwargs: Any) -> CompiledSuite:
    return compile_suite(
        {"name": "t", "expectations": [dict(c) for c in cfgs]}, native=native, **kwargs
    )


def _decider(*cfgs: dict[str, Any], max_record_bytes: int = 1000) -> Callable[[bytes], int | None]:
    decide = _suite(*cfgs, max_record_bytes=max_record_bytes).decider
    assert decide is not None
    return decide


PLAIN = b'{"s": "abc1", "n": 5, "e": "x", "d": "2024-01-05T10:11:12+01:00"}'


def test_plain_record_is_decided_as_passing() -> None:
    """A record of plain values is decided: no check fails or skips."""
    assert _decider(*ALL)(PLAIN) == 0


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"s": "abc\xc3\xa9"}', "non-ASCII text under a regex"),
        (b'{"s": "abc\\u00e9"}', "an escape under a regex"),
        (b'{"s": "abc\\n"}', "a newline under a regex"),
        (b'{"s": true}', "a bool under a regex"),
        (b'{"s": 1.5}', "a float under a regex"),
        (b'{"n": true}', "a bool under between (True == 1)"),
        (b'{"n": 5.0}', "a float under between"),
        (b'{"n": 9007199254740993}', "an integer beyond 2**53 under between"),
        (b'{"n": "5"}', "a string under between (an error in Python)"),
        (b'{"d": 20240105}', "a number under strftime (an error in Python)"),
        (b'{"d": "2024-01-05 10:11:12"}', "a date that is not of the canonical shape"),
        (b'{"x": 100000000000000000000}', "an integer outside i64 anywhere"),
        (b'{"x": -9223372036854775809}', "an integer below i64 anywhere"),
        (b'{"s": "a", "s": "b"}', "a duplicate checked key"),
        (b'{"\\u0073": "abc"}', "a key with an escape"),
        (b'{"s": "abc", "x": "\xff"}', "invalid UTF-8"),
        (b'{"s": "abc", "x": "\xed\xa0\x80"}', "a surrogate encoded in UTF-8"),
        (b'{"s": "abc", "x": "\\ud800"}', "a lone surrogate escape"),
        (b'{"s": "abc", "x": "\\udc00\\ud800"}', "surrogates in the wrong order"),
        (b'{"s": "abc", "x": NaN}', "NaN"),
        (b'{"s": "abc", "x": "a\tb"}', "a raw control character"),
        (b'{"s": "abc", "x": 01}', "a leading zero"),
        (b'{"s": "abc",}', "a trailing comma"),
        (b'\xef\xbb\xbf{"s": "abc"}', "a byte order mark"),
        (b'["s"]', "not an object"),
        (b'{"s": "abc"} {}', "trailing data"),
        (b'{"x": ' + b"[" * 70 + b"]" * 70 + b"}", "deep nesting"),
        (b"", "no bytes"),
    ],
)
def test_decider_abstains(raw: bytes, why: str) -> None:
    """Inputs whose Python verdict the decider cannot be sure of are undecided."""
    assert _decider(*ALL)(raw) is None, why


def test_too_large_record_is_undecided_and_python_says_too_large() -> None:
    """A record over max_record_bytes is left to Python, which gives too_large."""
    raw = b'{"s": "' + b"a" * 200 + b'"}'
    assert _decider(REGEX, max_record_bytes=100)(raw) is None
    verdict = _suite(REGEX, max_record_bytes=100).evaluate(raw)
    assert verdict.reasons == (Reason.TOO_LARGE,)


@pytest.mark.parametrize(
    ("raw", "fails", "skips"),
    [
        (b"{}", {3}, {0, 1, 2, 4}),  # missing: not_null fails, the rest skip
        (b'{"s": null, "n": null, "e": null, "d": null}', {3}, {0, 1, 2, 4}),
        (b'{"s": 123, "e": "\xc3\xa9"}', {0}, {1, 4}),  # str(123) is no word; UTF-8 member
        (b'{"s": "ABC", "n": 0, "e": true, "d": "2023-02-29T00:00:00Z"}', {0, 1, 2, 4}, set()),
        (b'{"e": [1], "d": "2024-02-29T23:59:59-23:59"}', {2}, {0, 1}),
        (b'{"n": 9, "x": "\\ud83d\\ude00", "y": 1e400, "y": 2}', {3}, {0, 2, 4}),
    ],
)
def test_decider_answers_exactly(raw: bytes, fails: set[int], skips: set[int]) -> None:
    """Nulls skip, bools and lists are never in a set of strings, impossible dates fail."""
    decision = _decider(*ALL)(raw)
    assert decision is not None
    assert {i for i in range(5) if decision >> i & 1} == fails
    assert {i for i in range(5) if decision >> (i + SKIP_SHIFT) & 1} == skips
    assert _suite(*ALL).evaluate(raw) == _suite(*ALL, native=False).evaluate(raw)


def test_failing_record_gets_the_pure_verdict() -> None:
    """A decided failing record has the same Verdict (failures, outcome) as without native."""
    raw = b'{"s": "ABC", "n": 0, "e": "y"}'
    verdict = _suite(*ALL).evaluate(raw)
    assert verdict == _suite(*ALL, native=False).evaluate(raw)
    assert verdict.outcome is Outcome.QUARANTINE
    assert len(verdict.failures) == 3


def test_observed_failure_is_recorded_but_passes() -> None:
    """A failing warning (or mostly < 1) expectation: recorded, outcome pass, as in Python."""
    warn = {**REGEX, "severity": "warning"}
    mostly = {**NOT_NULL, "kwargs": {"column": "e", "mostly": 0.5}}
    raw = b'{"s": "ABC"}'
    verdict = _suite(warn, mostly).evaluate(raw)
    assert verdict == _suite(warn, mostly, native=False).evaluate(raw)
    assert verdict.outcome is Outcome.PASS
    assert len(verdict.failures) == 2


@pytest.mark.parametrize(
    "cfg",
    [
        {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": "(?i)abc"}},
        {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"^(?!abc)"}},
        {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"(a)\1"}},
        {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": "é|日"}},
        {
            "type": f"{_P}match_strftime_format",
            "kwargs": {"column": "d", "strftime_format": "%b %d %Y"},
        },
        {
            "type": f"{_P}match_strftime_format",
            "kwargs": {"column": "d", "strftime_format": "%Y%m%d"},
        },
        {"type": f"{_P}be_between", "kwargs": {"column": "n", "min_value": "2024-01-01"}},
        {"type": f"{_P}be_in_set", "kwargs": {"column": "n", "value_set": [1, 2]}},
        {
            "type": f"{_P}value_lengths_to_equal".replace(_P, "expect_column_"),
            "kwargs": {"column": "s", "value": 3},
        },
        {
            "type": f"{_P}not_be_null",
            "kwargs": {
                "column": "s",
                "row_condition": {"type": "nullity", "column": {"name": "n"}, "is_null": False},
            },
        },
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "s"}},
    ],
)
def test_suite_with_a_check_without_native_form_stays_pure(cfg: dict[str, Any]) -> None:
    """One expectation the decider cannot express (or a window one) keeps the suite pure."""
    suite = _suite(NOT_NULL, cfg)
    assert not suite.native
    assert suite.native_why


def test_example_suite_uses_the_decider() -> None:
    """The example suite expectations/incident_reports.json is decided natively."""
    suite = compile_suite("expectations/incident_reports.json")
    assert suite.native, suite.native_why


def test_environment_variable_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """DQGATE_NATIVE=0 compiles pure suites; native=True overrides it."""
    monkeypatch.setenv("DQGATE_NATIVE", "0")
    assert not _suite(*ALL, native=None).native
    assert _suite(*ALL, native=True).native
    monkeypatch.setenv("DQGATE_NATIVE", "1")
    assert _suite(*ALL, native=None).native


def test_missing_extension_falls_back_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without dqgate_native the suite is pure and gives the same verdicts."""
    monkeypatch.setattr(native_module, "_native_module", lambda: None)
    suite = _suite(*ALL)
    assert not suite.native
    assert "not installed" in suite.native_why
    assert suite.evaluate(PLAIN) == _suite(*ALL, native=False).evaluate(PLAIN)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\d+$", r"abc$", r"^[a-z]+$", r"^1", r"\.", r"^$", r"^\w+$", r"abc\Z", r"(?a)^\d+$",
        r"^.$", r"^-?\d+\.\d+$", r"e", r"^\[", r"\.0$", r"^\s*$", r"\bx\b", r"[^\x00-\x7f]",
        r"^[-+]?\d*\.?\d+(e[-+]?\d+)?$", r"^R\d{7,}$", r"^\d{3}-\d{2}-\d{4}$", r"a|b|", r"^(ab)*?c",
        r"[^a-c\d]{2,3}", r"\A\S\W\D", r"x{0}y", r"[\]\-^]",
    ],
)  # fmt: skip
def test_translated_regexes_match_like_python(pattern: str) -> None:
    """A translated regex finds a match on printable ASCII exactly when re.search does."""
    assert rust_regex(pattern) is not None
    cfg = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": pattern}}
    decide = _decider(cfg)
    search = re.compile(pattern).search
    rng = random.Random(pattern)
    alphabet = "abcxyzABC0123456789 -+.e[]{}_\\^$"
    texts = ["", " ", "x", "abc", "1", "1.0", "R0000001", "000-12-3456", "[", "-1.5e10"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(9))) for _ in range(600)]
    for text in texts:
        raw = b'{"s": "' + text.replace("\\", "\\\\").encode() + b'"}'
        decision = decide(raw)
        if "\\" in text:
            assert decision is None  # an escape: undecided
            continue
        assert decision is not None
        assert bool(decision & 1) == (search(text) is None), text
