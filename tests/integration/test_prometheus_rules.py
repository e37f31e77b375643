"""deploy/prometheus with Prometheus's own tools: config and rules check, rule unit tests.

``promtool`` comes from Debian's ``prometheus`` package (``make prometheus-tools`` installs
it when missing). On a machine without it the tests skip with that reason; in CI
(``CI=true`` or ``DQGATE_TEST_REQUIRE_TOOLS=1``, which .ci/run sets) they fail instead,
so that a broken install never passes as a skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.tools import missing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RECORDING_RULES = PROMETHEUS_DIR / "rules" / "dqgate-recording.yml"
ALERTING_RULES = PROMETHEUS_DIR / "rules" / "dqgate-alerts.yml"
RULE_TESTS = PROMETHEUS_DIR / "tests" / "dqgate-alerts.test.yml"
METRICS_DOC = ROOT / "docs" / "metrics.md"
NO_PROMTOOL = "promtool is not on PATH: run `make prometheus-tools` (Debian's prometheus package)"
REQUIRED_ALERTS = {
    "QuarantineRatioHigh",
    "ExpectationFailureSpike",
    "FieldCompletenessBelowMostly",
    "GateStalled",
    "CircuitOpen",
    "GateDown",
}


def tool(name: str) -> str:
    """Path of a Prometheus binary; skips the test when it is missing (fails in CI)."""
    path = shutil.which(name)
    if path is None:
        missing(NO_PROMTOOL.replace("promtool", name, 1))
    return path


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; returns the finished process (output captured)."""
    command = [tool("promtool"), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule of the shipped rules file."""
    groups = yaml.safe_load(ALERTING_RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_accepts_the_scrape_configuration() -> None:
    """`promtool check config` accepts prometheus.yml and finds both rule files."""
    result = promtool("check", "config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_promtool_accepts_the_rules() -> None:
    """`promtool check rules` accepts the recording and the alerting rules."""
    result = promtool("check", "rules", RECORDING_RULES, ALERTING_RULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass() -> None:
    """`promtool test rules` passes every synthetic-series test of the alerts."""
    result = promtool("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_unit_tests_fail_when_a_threshold_changes(tmp_path: Path) -> None:
    """The unit tests are not vacuous: a changed QuarantineRatioHigh threshold fails them."""
    rules = tmp_path / "rules"
    tests = tmp_path / "tests"
    rules.mkdir()
    tests.mkdir()
    shutil.copy(RECORDING_RULES, rules)
    changed = ALERTING_RULES.read_text(encoding="utf-8").replace(
        "route:dqgate_quarantine_ratio:rate5m > 0.2", "route:dqgate_quarantine_ratio:rate5m > 0.5"
    )
    (rules / ALERTING_RULES.name).write_text(changed, encoding="utf-8")
    shutil.copy(RULE_TESTS, tests)
    result = promtool("test", "rules", tests / RULE_TESTS.name)
    assert result.returncode != 0
    assert "alertname: QuarantineRatioHigh" in result.stdout + result.stderr


def test_the_issue_alerts_are_all_defined() -> None:
    """Every alert the gate promises exists in the alerting rules."""
    assert {rule["alert"] for rule in alert_rules()} >= REQUIRED_ALERTS


def test_every_alert_has_summary_description_and_a_runbook_section() -> None:
    """Each alert carries the three annotations; its runbook anchor is a docs heading."""
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in METRICS_DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    for rule in alert_rules():
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook"} <= set(annotations), rule["alert"]
        anchor = annotations["runbook"].partition("#")[2]
        assert anchor in headings, f"{rule['alert']}: no heading #{anchor} in docs/metrics.md"


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    """The rule tests expect each alert to fire at least once and to stay quiet once."""
    spec = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    fired: set[str] = set()
    quiet: set[str] = set()
    for group in spec["tests"]:
        for case in group.get("alert_rule_test", []):
            (fired if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names <= fired
    assert names <= quiet
