"""The native decider: per check, when it abstains, and the switch that turns it off."""

from __future__ import annotations

import importlib
import json
import os
import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqgate.suites import CompiledSuite, compile_suite
from dqgate.suites import native as native_module
from dqgate.suites.native_regex import translate
from dqgate.suites.registry import NoNativeForm
from dqgate.verdict import Outcome, Reason

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    dqgate_native = importlib.import_module("dqgate_native")
else:
    dqgate_native = pytest.importorskip(
        "dqgate_native", reason="the native extension is not built (make install)"
    )

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
PASS, FAIL, ERROR, SKIP, UNDECIDED = 0, 1, 2, 3, 4


def _suite(*cfgs: dict[str, Any], native: bool | None = True, **kwargs: Any) -> CompiledSuite:
    return compile_suite(
        {"name": "t", "expectations": [dict(c) for c in cfgs]}, native=native, **kwargs
    )


def _row(raw: bytes, *cfgs: dict[str, Any], max_record_bytes: int = 1000) -> bytes:
    decide = _suite(*(cfgs or ALL), max_record_bytes=max_record_bytes).decider
    assert decide is not None
    return decide(raw)


def _same_verdicts(raws: list[bytes], *cfgs: dict[str, Any]) -> None:
    on, off = _suite(*cfgs), _suite(*cfgs, native=False)
    for raw in raws:
        assert on.evaluate(raw) == off.evaluate(raw), raw
    assert on.evaluate_batch(raws) == off.evaluate_batch(raws)


PLAIN = b'{"s": "abc1", "n": 5, "e": "x", "d": "2024-01-05T10:11:12+01:00"}'


def test_plain_record_is_decided_as_passing() -> None:
    """A record of plain values is decided: state 0, every check passes."""
    assert _row(PLAIN) == bytes([0, PASS, PASS, PASS, PASS, PASS])


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"x": 100000000000000000000}', "an integer outside i64 anywhere"),
        (b'{"x": -9223372036854775809}', "an integer below i64 anywhere"),
        (b'{"s": "a", "s": "b"}', "a duplicate checked key"),
        (b'{"\\u0073": "a", "s": "b"}', "a duplicate checked key, one of them escaped"),
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
def test_decider_abstains_from_the_record(raw: bytes, why: str) -> None:
    """Records Python might decode differently are abstained as a whole (state 2)."""
    assert _row(raw)[0] == 2, why
    _same_verdicts([raw], *ALL)


BRANCH_DOLLAR = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"a$|^c"}}


@pytest.mark.parametrize(
    ("raw", "cfgs", "check", "why"),
    [
        (b'{"d": "2024-01-05 10:11:12"}', ALL, 4, "a date that is not of the canonical shape"),
        (b'{"s": ["a"]}', ALL, 0, "a list under a regex: str() of a list"),
        (b'{"s": "a\\nc"}', (NOT_NULL, BRANCH_DOLLAR), 1, "a newline before a $ not at the end"),
    ],
)
def test_decider_leaves_one_check_to_python(
    raw: bytes, cfgs: tuple[dict[str, Any], ...], check: int, why: str
) -> None:
    """A value one check cannot judge exactly leaves that check undecided (state 1) only."""
    row = _row(raw, *cfgs)
    assert row[0] == 1, why
    assert [i for i, code in enumerate(row[1:]) if code == UNDECIDED] == [check], why
    _same_verdicts([raw], *cfgs)


def test_too_large_record_is_abstained_and_python_says_too_large() -> None:
    """A record over max_record_bytes is left to Python, which gives too_large."""
    raw = b'{"s": "' + b"a" * 200 + b'"}'
    assert _row(raw, REGEX, max_record_bytes=100)[0] == 2
    verdict = _suite(REGEX, max_record_bytes=100).evaluate(raw)
    assert verdict.reasons == (Reason.TOO_LARGE,)


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        (b"{}", [SKIP, SKIP, SKIP, FAIL, SKIP]),
        (b'{"s": null, "n": null, "e": null, "d": null}', [SKIP, SKIP, SKIP, FAIL, SKIP]),
        (b'{"s": 123, "e": "\xc3\xa9"}', [FAIL, SKIP, PASS, PASS, SKIP]),
        (b'{"s": "abc\\u0031", "e": "\\u00e9"}', [PASS, SKIP, PASS, PASS, SKIP]),
        (b'{"s": "ABC", "n": 0, "e": true, "d": "2023-02-29T00:00:00Z"}',
         [FAIL, FAIL, FAIL, PASS, FAIL]),
        (b'{"s": true, "n": true, "e": [1], "d": "2024-02-29T23:59:59-23:59"}',
         [FAIL, PASS, FAIL, PASS, PASS]),
        (b'{"s": 1.5, "n": 9.0000000001, "d": 20240105}', [FAIL, FAIL, SKIP, FAIL, ERROR]),
        (b'{"n": "5", "x": "\\ud83d\\ude00", "y": 1e400}', [SKIP, ERROR, SKIP, FAIL, SKIP]),
        (b'{"s": "abc\\n", "n": 9007199254740993}', [PASS, FAIL, SKIP, FAIL, SKIP]),
        (b'{"s": "a\\nb"}', [FAIL, SKIP, SKIP, FAIL, SKIP]),
    ],
)  # fmt: skip
def test_decider_answers_exactly(raw: bytes, codes: list[int]) -> None:
    """Nulls skip, bools are 1, floats compare exactly, strings under between are errors."""
    assert _row(raw) == bytes([0, *codes])
    _same_verdicts([raw], *ALL)


def test_failing_record_gets_the_pure_verdict() -> None:
    """A decided failing record has the same Verdict (failures, outcome) as without native."""
    raw = b'{"s": "ABC", "n": 0, "e": "y"}'
    verdict = _suite(*ALL).evaluate(raw)
    assert verdict == _suite(*ALL, native=False).evaluate(raw)
    assert verdict.outcome is Outcome.QUARANTINE
    assert len(verdict.failures) == 3


def test_identical_outcomes_share_one_verdict_object() -> None:
    """Records with the same outcome get the same Verdict object, not one each."""
    suite = _suite(*ALL)
    raws = [b'{"s": "A", "e": "x"}', b'{"s": "B", "e": "x", "n": 3}', b'{"s": "ab", "e": "x"}']
    verdicts = suite.evaluate_batch(raws * 3).verdicts
    assert verdicts[0].outcome is Outcome.QUARANTINE
    assert verdicts[0] is verdicts[1] is verdicts[3] is verdicts[4]  # n skips / passes
    assert verdicts[2] is verdicts[5] and verdicts[2] is not verdicts[0]


def test_observed_failure_is_recorded_but_passes() -> None:
    """A failing warning (or mostly < 1) expectation: recorded, outcome pass, as in Python."""
    warn = {**REGEX, "severity": "warning"}
    mostly = {**NOT_NULL, "kwargs": {"column": "e", "mostly": 0.5}}
    raw = b'{"s": "ABC"}'
    verdict = _suite(warn, mostly).evaluate(raw)
    assert verdict == _suite(warn, mostly, native=False).evaluate(raw)
    assert verdict.outcome is Outcome.PASS
    assert len(verdict.failures) == 2


WITHOUT_NATIVE_FORM = [
    {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"^(?!abc)"}},
    {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"(a)\1"}},
] + [
    {"type": f"{_P}match_strftime_format", "kwargs": {"column": "d", "strftime_format": f}}
    for f in ("%b %d %Y", "%Y%m%d")
]


@pytest.mark.parametrize("cfg", WITHOUT_NATIVE_FORM)
def test_a_check_without_native_form_runs_in_python_the_others_natively(
    cfg: dict[str, Any],
) -> None:
    """Per check, never all-or-nothing: the suite stays native for its other checks."""
    suite = _suite(NOT_NULL, BETWEEN, cfg)
    assert suite.native, suite.native_why
    assert [c.native for c in suite.native_checks] == [True, True, False]
    assert suite.native_checks[2].why
    row = _row(b'{"e": null, "n": 50, "s": "abc", "d": "Jan 05 2024"}', NOT_NULL, BETWEEN, cfg)
    assert row == bytes([1, FAIL, FAIL, UNDECIDED])
    raws = [b'{"e": null, "n": 50, "s": "abc", "d": "Jan 05 2024"}', b'{"s": "aa", "d": "x"}']
    _same_verdicts(raws, NOT_NULL, BETWEEN, cfg)


def test_window_and_fallback_suites_use_the_decider() -> None:
    """Window, mostly and fallback expectations no longer turn the decider off."""
    suite = compile_suite("expectations/incident_reports_monitoring.json", native=True)
    assert suite.native, suite.native_why
    assert all(c.native for c in suite.native_checks)


def test_example_suites_run_every_compiled_check_natively() -> None:
    """Both example suites: every compiled expectation has a native form."""
    for path in (
        "expectations/incident_reports.json",
        "expectations/incident_reports_monitoring.json",
    ):
        suite = compile_suite(path, native=True)
        assert [c.why for c in suite.native_checks if not c.native] == []


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


def test_batch_counts_missing_values_without_python_decoding() -> None:
    """decoded and missing of a batch: from the decider, equal to a Python decode's counts."""
    raws = [b'{"s": "a", "e": null}', b'{"n": 1}', b"[]", b'{"e": "x", "s": null}', b"nope"]
    on, off = _suite(*ALL).evaluate_batch(raws), _suite(*ALL, native=False).evaluate_batch(raws)
    assert (on.decoded, on.missing) == (off.decoded, off.missing) == (3, (2, 2, 2, 3))


# --- regexes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\d+$", r"abc$", r"^[a-z]+$", r"^1", r"\.", r"^$", r"^\w+$", r"abc\Z", r"(?a)^\d+$",
        r"^.$", r"^-?\d+\.\d+$", r"e", r"^\[", r"\.0$", r"^\s*$", r"\bx\b", r"[^\x00-\x7f]",
        r"^[-+]?\d*\.?\d+(e[-+]?\d+)?$", r"^R\d{7,}$", r"^\d{3}-\d{2}-\d{4}$", r"a|b|", r"^(ab)*?c",
        r"[^a-c\d]{2,3}", r"\A\S\W\D", r"x{0}y", r"[\]\-^]", r"(?i)^[a-z]+\s?$", r"é|日|\x00",
        r"(?m)^c$", r"(?s)^.*$", r"(?i)ab[c-e]", r"[\d\s]+", r"\W+$", r"(?a)\w\b",
    ],
)  # fmt: skip
def test_translated_regexes_match_like_python(pattern: str) -> None:
    """A translated regex finds a match exactly when re.search does, on every text it decides."""
    try:
        translate(pattern)
    except NoNativeForm:
        pytest.skip(f"{pattern!r} has no native form")
    cfg = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": pattern}}
    decide = _suite(cfg).decider
    assert decide is not None
    search = re.compile(pattern).search
    rng = random.Random(pattern)
    alphabet = "abcxyzABC0123456789 -+.e[]{}_\\^$\n\t\x1c\x85é日\u0661ß"
    texts = ["", " ", "x", "abc", "1", "1.0", "R0000001", "000-12-3456", "[", "-1.5e10", "c\n"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(9))) for _ in range(600)]
    decided = 0
    for text in texts:
        raw = json.dumps({"s": text}, ensure_ascii=rng.random() < 0.5).encode()
        row = decide(raw)
        assert row[0] in (0, 1)
        if row[1] == UNDECIDED:
            continue
        decided += 1
        assert row[1] == (FAIL if search(text) is None else PASS), repr(text)
    assert decided > len(texts) // 3


def test_python_category_tables_are_used_for_unicode_text() -> None:
    """\\d and \\w mean what Python's re means, also for Arabic-Indic digits and 'ß'."""
    cfg = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": r"^\d+\w$"}}
    decide = _suite(cfg).decider
    assert decide is not None
    for text in ("\u0661\u0662\u0663ß", "12_", "12-", "²3x"):
        row = decide(json.dumps({"s": text}).encode())
        assert row[1] == (PASS if re.search(r"^\d+\w$", text) else FAIL), text


@settings(max_examples=400, deadline=None)
@given(value=st.floats(allow_nan=False))
def test_float_repr_is_pythons(value: float) -> None:
    """The decider's str() of a float is Python's repr (regex and length checks read it)."""
    assert dqgate_native.float_repr(value) == repr(value)


@pytest.mark.parametrize(
    "value", [1e16, 1e15, 1e-4, 1e-5, 0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, 123456.0]
)
def test_float_repr_at_the_format_boundaries(value: float) -> None:
    """Exponent notation starts at 1e16 and below 1e-4, as in Python."""
    assert dqgate_native.float_repr(value) == repr(value)
