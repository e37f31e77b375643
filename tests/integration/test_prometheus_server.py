"""A real Prometheus server scrapes a running gate: dashboard, rules and alerts end to end.

Prometheus (Debian's ``prometheus`` package, ``make prometheus-tools``) is started on
127.0.0.1 with a temporary data directory, a 1 s scrape and evaluation interval and the
shipped rules; only the alerts' ``for`` durations are shortened. The gate routes generated
incident reports with 10% defects, then with 70%: QuarantineRatioHigh must stay inactive
in the first phase and fire in the second.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import create_topic, run_sync
from dqgate.kafka.ports import free_ports
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import WorkerProcess, start_worker

from .test_prometheus_rules import ALERTING_RULES, RECORDING_RULES, tool

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "expectations" / "incident_reports.json"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "dqgate.json"
MISSING_ETHNICITY_RATE = 0.76
LOW_DEFECTS, HIGH_DEFECTS = 0.1, 0.7
PHASE_RECORDS = 20_000
GRAFANA_VARIABLES = {"$route": ".*", "$__rate_interval": "30s", "$__range": "10m"}


class Prometheus:
    """A Prometheus server of this test: started, queried, stopped."""

    def __init__(self, workdir: Path, target: str) -> None:
        rules = workdir / "rules"
        rules.mkdir(parents=True)
        (rules / RECORDING_RULES.name).write_text(RECORDING_RULES.read_text())
        alerts = re.sub(r"(?m)^(\s+)for: .*$", r"\1for: 3s", ALERTING_RULES.read_text())
        (rules / ALERTING_RULES.name).write_text(alerts)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules / RECORDING_RULES.name), str(rules / ALERTING_RULES.name)],
            "scrape_configs": [
                {"job_name": "dqgate", "static_configs": [{"targets": [target]}]},
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "prometheus.log"
        command = [
            tool("prometheus"),
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until /-/ready answers 200."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"Prometheus not ready:\n{self.log.read_text()}")

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; returns its ``data`` (an API error fails the test)."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as r:
                body = json.load(r)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        assert body["status"] == "success", (path, params, body)
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def scalar(self, expr: str) -> float | None:
        """The single value of an instant query (None when empty)."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def alert_state(self, name: str) -> set[str]:
        """States of the active alerts called ``name`` (pending, firing)."""
        alerts = self.api("alerts")["alerts"]
        return {a["state"] for a in alerts if a["labels"]["alertname"] == name}

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def wait_until(check: Any, what: str, timeout_s: float = 120.0) -> Any:
    """Poll ``check()`` every 0.5 s until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, expression with Grafana's variables filled in) for every target."""
    board = json.loads(DASHBOARD.read_text())
    exprs = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs.append((panel["title"], expr))
    return exprs


def rule_exprs() -> list[str]:
    """Every expression of the shipped recording and alerting rules."""
    exprs = []
    for path in (RECORDING_RULES, ALERTING_RULES):
        for group in yaml.safe_load(path.read_text())["groups"]:
            exprs += [rule["expr"] for rule in group["rules"]]
    return exprs


def long_strings(values: list[bytes]) -> set[str]:
    """Distinctive record values: every string of 8+ characters in the JSON records."""
    found = set()
    for value in values:
        try:
            record = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            found |= {v for v in record.values() if isinstance(v, str) and len(v) >= 8}
    return found


class Run:
    """The gate, Prometheus and what was fed, shared by the module's tests."""

    def __init__(self, bootstrap: str, worker: WorkerProcess, prometheus: Prometheus) -> None:
        self.bootstrap = bootstrap
        self.worker = worker
        self.prometheus = prometheus
        self.source = ""
        self.started_s = time.time()
        self.fed: list[bytes] = []

    def feed(self, count: int, *, seed: int, defect_rate: float) -> None:
        """Produce generated records and wait until Prometheus saw them all routed."""
        values = [
            r.value
            for r in generate(
                count, seed=seed, defect_rate=defect_rate,
                missing_ethnicity_rate=MISSING_ETHNICITY_RATE,
            )
        ]  # fmt: skip
        options = {"bootstrap_servers": self.bootstrap}
        run_sync(produce(options, self.source, [FeedRecord(key=None, value=v) for v in values]))
        self.fed += values
        total = len(self.fed)
        wait_until(
            lambda: self.prometheus.scalar("sum(dqgate_records_total)") == total,
            f"Prometheus to see {total} routed records\n{self.worker.log_tail()}",
        )


@pytest.fixture(scope="module")
def run(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory, gate_engine: str
) -> Iterator[Run]:
    """A gate worker on a fresh 3-partition topic, scraped by Prometheus every second."""
    tmp = tmp_path_factory.mktemp("prometheus")
    source = f"dqgate-test-prom-{uuid.uuid4().hex}"
    run_sync(create_topic(kafka_bootstrap, source, partitions=3))
    config = {
        "kafka": {"bootstrap_servers": kafka_bootstrap},
        "group_id": f"dqgate-test-{uuid.uuid4().hex[:12]}",
        "routes": [
            {
                "name": "incidents", "source": source, "suite": str(SUITE),
                "clean": f"{source}.clean", "quarantine": f"{source}.quarantine",
            }
        ],
        "commit_interval_s": 1.0,
        "session_timeout_s": 6.0,
        "metrics_window_records": 10_000,
    }  # fmt: skip
    (tmp / "gate.yaml").write_text(yaml.safe_dump(config))
    worker = start_worker(["--config", str(tmp / "gate.yaml")], log_path=tmp / "worker.log")
    prometheus: Prometheus | None = None
    try:
        url = worker.wait_ready()
        prometheus = Prometheus(tmp, url.removeprefix("http://"))
        prometheus.wait_ready()
        wait_until(lambda: prometheus and prometheus.scalar('up{job="dqgate"}') == 1, "a scrape")
        shared = Run(kafka_bootstrap, worker, prometheus)
        shared.source = source
        shared.feed(PHASE_RECORDS, seed=7, defect_rate=LOW_DEFECTS)
        yield shared
    finally:
        if prometheus is not None:
            prometheus.stop()
        worker.kill()


def test_rule_and_dashboard_expressions_evaluate_without_error(run: Run) -> None:
    """Every expression of the alerting and recording rules and of the dashboard is valid."""
    for expr in rule_exprs():
        run.prometheus.query(expr)
    for _, expr in dashboard_exprs():
        run.prometheus.query(expr)


def test_every_dashboard_expression_returns_data(run: Run) -> None:
    """Over the workload, each panel query has at least one series with a real number."""

    def empty_panels() -> list[tuple[str, str]]:
        end = time.time()
        empty = []
        for title, expr in dashboard_exprs():
            result = run.prometheus.api(
                "query_range", query=expr, start=run.started_s, end=end, step="1s"
            )["result"]
            numbers = [float(v) for series in result for _, v in series["values"]]
            if not any(not math.isnan(n) for n in numbers):
                empty.append((title, expr))
        return empty

    # The last windows close, then a scrape and a rule evaluation follow: wait for that,
    # not for a fixed time.
    empty = empty_panels()
    deadline = time.monotonic() + 60
    while empty and time.monotonic() < deadline:
        time.sleep(0.5)
        empty = empty_panels()
    assert not empty, empty


def test_ethnicity_completeness_matches_the_generator(run: Run) -> None:
    """dqgate_field_missing_ratio{column="ethnicity"} is the generator's rate within 2 pp."""
    ratio = run.prometheus.scalar(
        'dqgate_field_missing_ratio{route="incidents",column="ethnicity"}'
    )
    assert ratio is not None
    assert abs(ratio - MISSING_ETHNICITY_RATE) <= 0.02


def test_lag_drains_to_zero_and_commits_stay_recent(run: Run) -> None:
    """Once everything is routed the lag of every partition is 0 and commits are recent."""

    def drained() -> list[dict[str, Any]]:
        found = run.prometheus.query('dqgate_consumer_lag_records{route="incidents"}')
        return found if found and all(float(s["value"][1]) == 0 for s in found) else []

    lags = wait_until(drained, "the consumer lag to drain", timeout_s=30)
    assert {s["metric"]["partition"] for s in lags} == {"0", "1", "2"}
    age = run.prometheus.scalar("dqgate_last_commit_age_seconds")
    assert age is not None and age < 30


def test_no_record_value_reaches_metrics_or_prometheus(run: Run) -> None:
    """No distinctive record value is in /metrics or among Prometheus's label values."""
    distinctive = long_strings(run.fed)
    assert len(distinctive) > 1_000
    text = run.worker.metrics()
    assert "dqgate_records_total" in text
    labels: set[str] = set()
    for name in run.prometheus.api("labels"):
        labels |= set(run.prometheus.api(f"label/{name}/values"))
    for value in distinctive:
        assert value not in text
        assert value not in labels


def test_quarantine_ratio_high_fires_when_defects_rise(run: Run) -> None:
    """10% defects: QuarantineRatioHigh stays inactive; at 70% it reaches firing."""
    ratio = run.prometheus.scalar('route:dqgate_quarantine_ratio:rate5m{route="incidents"}')
    assert ratio is not None and ratio < 0.2
    assert run.prometheus.alert_state("QuarantineRatioHigh") == set()
    run.feed(PHASE_RECORDS, seed=8, defect_rate=HIGH_DEFECTS)
    wait_until(
        lambda: "firing" in run.prometheus.alert_state("QuarantineRatioHigh"),
        "QuarantineRatioHigh to fire",
        timeout_s=60,
    )
    ratio = run.prometheus.scalar('route:dqgate_quarantine_ratio:rate5m{route="incidents"}')
    assert ratio is not None and ratio > 0.2
