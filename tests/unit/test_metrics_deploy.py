"""deploy/ and docs/metrics.md agree with the metrics the gate exports (no tools needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from dqgate.metrics import GateMetrics
from dqgate.routing import SourceRecord
from dqgate.suites import WindowResult, compile_suite
from dqgate.verdict import Outcome, Verdict

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "dqgate.json"
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
METRICS_DOC = ROOT / "docs" / "metrics.md"
RAW_NAME = re.compile(r"(?<![:\w])dqgate_[a-z_]+(?![:\w])")
RECORDED_NAME = re.compile(r"\b[a-z_]+:dqgate_[a-z_]+:[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def exported() -> dict[str, str]:
    """Sample name -> family type of everything a busy gate exports."""
    metrics = GateMetrics(CollectorRegistry())
    metrics.declare_route(
        "incidents", compile_suite(ROOT / "expectations" / "incident_reports.json").shape()
    )
    record = SourceRecord(
        topic="in", partition=0, offset=0, timestamp=1, key=None, value=b"x", headers=()
    )
    metrics.observe(
        "incidents", [Verdict(outcome=Outcome.PASS)], [record], decoded=[{}], validation_s=0.1
    )
    metrics.observe_windows(
        "incidents",
        [WindowResult(expectation_id="e", type="t", success=True, observed_value=1.0, records=1)],
    )
    metrics.watch_partitions(lambda: [("incidents", 0, 10, 0)])
    families = text_string_to_metric_families(metrics.render().decode())
    return {sample.name: family.type for family in families for sample in family.samples}


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard JSON."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def dashboard_exprs() -> list[str]:
    """Every PromQL expression of the dashboard's panels."""
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def rule_exprs() -> list[str]:
    """Every expression of the recording and alerting rules."""
    exprs = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    return exprs


def recorded_names() -> set[str]:
    """Names the recording rules define."""
    names = set()
    for path in RULES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            names |= {rule["record"] for rule in group["rules"] if "record" in rule}
    return names


def test_dashboard_and_rules_only_use_exported_metrics(exported: dict[str, str]) -> None:
    """Every dqgate_* name in a panel or a rule is a sample the gate exports."""
    used = {name for expr in dashboard_exprs() + rule_exprs() for name in RAW_NAME.findall(expr)}
    assert used
    assert used <= set(exported), sorted(used - set(exported))


def test_recorded_series_used_anywhere_are_defined() -> None:
    """Every level:metric:operation name in a panel or a rule is a recording rule."""
    used = {m for expr in dashboard_exprs() + rule_exprs() for m in RECORDED_NAME.findall(expr)}
    assert used
    assert used <= recorded_names()


def test_dashboard_has_datasource_and_route_variables() -> None:
    """The dashboard is parameterised by a Prometheus datasource and a multi-route filter."""
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["route"]["multi"] and variables["route"]["includeAll"]
    assert "label_values(dqgate_records_total, route)" in variables["route"]["definition"]


def test_every_panel_uses_the_datasource_variable_and_the_route_filter() -> None:
    """Panels query ${datasource}; route-labelled metrics are filtered by $route."""
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
            expr = target["expr"]
            if "dqgate_last_commit_age_seconds" in expr or "dqgate_build_info" in expr:
                continue
            assert 'route=~"$route"' in expr, (panel["title"], expr)


def test_dashboard_has_the_promised_panels() -> None:
    """Throughput, outcomes, reasons, top expectations and columns, completeness, latency,
    lag and circuit state each have a panel."""
    titles = " | ".join(p["title"].lower() for p in dashboard()["panels"])
    for words in (
        "throughput", "pass / quarantine", "by reason", "top failing expectations",
        "top failing columns", "completeness over time", "latency", "lag", "circuit",
    ):  # fmt: skip
        assert words in titles, words


def test_panel_ids_are_unique_and_panels_are_described() -> None:
    """Grafana needs unique panel ids; every non-row panel says what it shows."""
    panels = dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p.get("description") for p in panels if p["type"] != "row")


def test_provisioning_files_point_at_prometheus_and_the_dashboard_folder() -> None:
    """Grafana provisioning: a Prometheus datasource and a file provider."""
    base = ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load((base / "datasources" / "dqgate-prometheus.yml").read_text())
    assert datasources["datasources"][0]["type"] == "prometheus"
    providers = yaml.safe_load((base / "dashboards" / "dqgate.yml").read_text())
    assert providers["providers"][0]["type"] == "file"
    assert providers["providers"][0]["options"]["path"]


def test_docs_describe_every_exported_metric(exported: dict[str, str]) -> None:
    """docs/metrics.md has a table row for every metric family the gate exports."""
    doc = METRICS_DOC.read_text(encoding="utf-8")
    families = {
        re.sub(r"_(bucket|sum|count)$", "", name) if kind == "histogram" else name
        for name, kind in exported.items()
        if not name.endswith("_created")
    }
    rows = set(re.findall(r"^\| `(dqgate_[a-z_]+)`", doc, flags=re.MULTILINE))
    assert families <= rows, sorted(families - rows)
