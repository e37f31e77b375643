"""Bounded time per record for regexes (issue #16 point 3): linear time where the native
engine is exact, a budgeted evaluation otherwise, an evaluation_error past the budget."""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dqgate.cli.main import main
from dqgate.errors import SuiteError
from dqgate.suites import CompiledSuite, compile_suite
from dqgate.suites.regexes import RegexBudgetExceeded, searcher
from dqgate.suites.sandbox import RegexSandbox
from dqgate.verdict import Outcome, Reason

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    importlib.import_module("dqgate_native")
else:
    pytest.importorskip("dqgate_native", reason="the native extension is not built (make install)")

_P = "expect_column_values_to_"
BUDGET_S = 0.3
SLACK_S = 5.0
"""Room for starting the sandbox's child interpreter on a busy machine."""
EVIL = "a" * 40 + "b"
"""Minutes of backtracking for ``(a+)+$`` in Python's re; microseconds in linear time."""


def _suite(regex: str, *, native: bool | None = True, **kwargs: Any) -> CompiledSuite:
    cfg = {"type": f"{_P}match_regex", "kwargs": {"column": "s", "regex": regex},
           "meta": {"id": "s_shape"}}  # fmt: skip
    return compile_suite(
        {"name": "redos", "expectations": [cfg]},
        native=native,
        regex_budget_s=BUDGET_S,
        **kwargs,
    )


def _timed(suite: CompiledSuite, raw: bytes) -> tuple[Any, float]:
    started = time.monotonic()
    verdict = suite.evaluate_batch([raw]).verdicts[0]
    return verdict, time.monotonic() - started


def test_nested_quantifiers_run_in_linear_time_natively() -> None:
    """^(a+)+$ on a crafted value: decided by the native engine at once, GX's answer (fail)."""
    suite = _suite(r"^(a+)+$")
    raw = json.dumps({"s": "a" * 100_000 + "b"}).encode()
    verdict, elapsed = _timed(suite, raw)
    assert verdict.outcome is Outcome.QUARANTINE and verdict.reasons == (Reason.PATTERN_MISMATCH,)
    assert elapsed < 1.0
    assert suite.evaluate(json.dumps({"s": "aaaa"}).encode()).outcome is Outcome.PASS


def test_abstained_record_still_gets_the_linear_engine() -> None:
    """A lone surrogate elsewhere sends the record to Python; its regex stays linear."""
    suite = _suite(r"^(a+)+$")
    raw = b'{"s": "' + EVIL.encode() + b'", "x": "\\ud800"}'
    decide = suite.decider
    assert decide is not None and decide(raw)[0] == 2  # abstained as a whole
    verdict, elapsed = _timed(suite, raw)
    assert verdict.reasons == (Reason.PATTERN_MISMATCH,)
    assert elapsed < 1.0


@pytest.mark.parametrize(
    ("regex", "text", "why"),
    [
        (r"^(?=a)(a+)+$", EVIL, "a lookahead: no linear-time form"),
        (r"(a+)+\b$", "é" + EVIL, r"\b on non-ASCII text"),
        (r"(a+)+$|^x", EVIL + "\nx", "a $ not at the end, and a newline"),
    ],
)
def test_redos_outside_the_linear_engine_is_an_error_within_the_budget(
    regex: str, text: str, why: str
) -> None:
    """Where only Python's re can answer, it runs under the budget: past it, evaluation_error."""
    suite = _suite(regex)
    verdict, elapsed = _timed(suite, json.dumps({"s": text}).encode())
    assert verdict.outcome is Outcome.ERROR, why
    assert verdict.reasons == (Reason.EVALUATION_ERROR,), why
    assert elapsed < BUDGET_S + SLACK_S, why
    ok, elapsed = _timed(suite, json.dumps({"s": "aaa"}).encode())  # the sandbox restarted
    assert ok.outcome is Outcome.PASS
    assert elapsed < SLACK_S


def test_budget_holds_in_a_worker_thread() -> None:
    """The gate may evaluate off its event loop: the budget does not need the main thread."""
    suite = _suite(r"^(?=a)(a+)+$")
    found: list[tuple[Any, float]] = []
    worker = threading.Thread(
        target=lambda: found.append(_timed(suite, json.dumps({"s": EVIL}).encode()))
    )
    worker.start()
    worker.join(BUDGET_S + SLACK_S + 5)
    assert not worker.is_alive()
    ((verdict, elapsed),) = found
    assert verdict.outcome is Outcome.ERROR and elapsed < BUDGET_S + SLACK_S


def test_pure_python_suite_budgets_nested_quantifiers() -> None:
    """With the decider off, patterns with nested quantifiers still run under the budget."""
    suite = _suite(r"^(a+)+$", native=False)
    verdict, elapsed = _timed(suite, json.dumps({"s": EVIL}).encode())
    assert verdict.reasons == (Reason.EVALUATION_ERROR,)
    assert elapsed < BUDGET_S + SLACK_S


def test_json_schema_pattern_runs_under_the_budget() -> None:
    """A JSON Schema pattern that jsonschema evaluates (subset left) is budgeted too."""
    schema = {"type": "string", "pattern": r"^(?=a)(a+)+$", "uniqueItems": True}
    cfg = {"type": f"{_P}match_json_schema", "kwargs": {"column": "j", "json_schema": schema}}
    suite = compile_suite({"name": "j", "expectations": [cfg]}, regex_budget_s=BUDGET_S)
    raw = json.dumps({"j": json.dumps(EVIL)}).encode()
    verdict, elapsed = _timed(suite, raw)
    assert verdict.reasons == (Reason.EVALUATION_ERROR,)
    assert elapsed < BUDGET_S + SLACK_S
    assert _timed(suite, json.dumps({"j": '"aaa"'}).encode())[0].outcome is Outcome.PASS


def test_searcher_gives_re_search_answers_when_it_finishes() -> None:
    """Through the linear engine, in process or in the sandbox: re.search's answer."""
    for pattern in (r"^(?=a)(a+)+$", r"^(a+)+$", r"(?i)straße\b", r"x"):
        for linear in (True, False):
            search = searcher(pattern, linear=linear, budget_s=5.0)
            for text in ("aaa", "aab", "STRASSE", "straße x", "x", ""):
                assert search(text) == (re.search(pattern, text) is not None), (pattern, text)
    with pytest.raises(RegexBudgetExceeded):
        searcher(r"^(?=a)(a+)+$", linear=True, budget_s=BUDGET_S)(EVIL)


def test_sandbox_kills_an_overrun_and_answers_again() -> None:
    """Past the budget the child is killed (None); the next call starts a new one."""
    sandbox = RegexSandbox()
    try:
        assert sandbox.search(r"^a+$", "aaa", 5.0) is True
        assert sandbox.search(r"^(a+)+$", EVIL, BUDGET_S) is None
        assert sandbox.killed == 1
        assert sandbox.search(r"b$", EVIL, 5.0) is True
    finally:
        sandbox.close()


def test_budget_must_be_positive() -> None:
    """regex_budget_s is checked when the suite is compiled."""
    with pytest.raises(SuiteError, match="regex_budget_s"):
        compile_suite({"name": "b", "expectations": []}, regex_budget_s=0)


def test_warnings_name_each_nested_quantifier_pattern() -> None:
    """CompiledSuite.regex_warnings: one line per risky pattern, naming the expectation."""
    assert _suite(r"^R\d{7,}$").regex_warnings == ()
    (line,) = _suite(r"^(a+)+$").regex_warnings
    assert "expectation #0 s_shape (expect_column_values_to_match_regex)" in line
    assert "'^(a+)+$' has nested quantifiers" in line
    assert f"at most {BUDGET_S:g} s" in line


def test_suites_check_warns_about_nested_quantifiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dqgate suites check prints the warning (stderr; in --json per suite) and exits 0."""
    path = tmp_path / "s.json"
    kwargs = {"column": "s", "regex_list": ["^x", "(\\w+\\s?)*$"]}
    cfg = {"type": f"{_P}match_regex_list", "kwargs": kwargs, "meta": {"id": "words"}}
    path.write_text(json.dumps({"name": "s", "expectations": [cfg]}))
    assert main(["suites", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: s: expectation #0 words (expect_column_values_to_match_regex_list)" in err
    assert main(["suites", "check", "--json", str(path)]) == 0
    (suite,) = json.loads(capsys.readouterr().out)["suites"]
    assert len(suite["warnings"]) == 1 and "nested quantifiers" in suite["warnings"][0]
