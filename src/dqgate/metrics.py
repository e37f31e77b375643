"""Every dqgate metric, defined once, on an injectable registry.

Labels come from configuration only (route name, expectation id, column, reason, outcome),
never from record values, so their cardinality is bounded by the suites.

=============================================== ==========================================
``dqgate_records_total{route,outcome}``         records routed; outcome pass|quarantine|error
``dqgate_expectation_failures_total``           failures per expectation, enforced and
``{route,expectation,column,reason}``           observed (a record can fail several)
``dqgate_route_paused{route}``                  1 while the circuit breaker holds the route
``dqgate_circuit_breaker_trips_total{route}``   times the breaker paused the route
``dqgate_route_quarantine_ratio{route}``        quarantine ratio over the breaker's window
=============================================== ==========================================
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from dqgate.verdict import Column, Outcome, Verdict

__all__ = ["GateMetrics", "column_label"]


def column_label(column: Column) -> str:
    """A failure's column as a label: the name, names joined by ``,``, or ``""``."""
    if column is None:
        return ""
    if isinstance(column, tuple):
        return ",".join(column)
    return column


class GateMetrics:
    """The gate's metrics on one registry (a fresh ``CollectorRegistry()`` in tests)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.records_total = Counter(
            "dqgate_records_total",
            "Records routed by the gate, by route and outcome (pass, quarantine, error).",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.expectation_failures_total = Counter(
            "dqgate_expectation_failures_total",
            "Expectation failures (enforced and observed), by route, expectation, column "
            "and reason class.",
            ["route", "expectation", "column", "reason"],
            registry=self.registry,
        )
        self.route_paused = Gauge(
            "dqgate_route_paused",
            "1 while the circuit breaker holds the route paused, else 0.",
            ["route"],
            registry=self.registry,
        )
        self.circuit_breaker_trips_total = Counter(
            "dqgate_circuit_breaker_trips_total",
            "Times the circuit breaker paused the route.",
            ["route"],
            registry=self.registry,
        )
        self.route_quarantine_ratio = Gauge(
            "dqgate_route_quarantine_ratio",
            "Quarantine ratio over the circuit breaker's window of recent records.",
            ["route"],
            registry=self.registry,
        )

    def declare_route(self, route: str) -> None:
        """Export the route's series at zero before its first record."""
        for outcome in Outcome:
            self.records_total.labels(route=route, outcome=str(outcome))
        self.route_paused.labels(route=route).set(0)
        self.circuit_breaker_trips_total.labels(route=route)

    def observe(self, route: str, verdicts: Sequence[Verdict]) -> None:
        """Count one batch of verdicts."""
        outcomes: dict[str, int] = {}
        failures: dict[tuple[str, str, str], int] = {}
        for verdict in verdicts:
            outcome = str(verdict.outcome)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            for f in verdict.failures:
                key = (f.expectation_id, column_label(f.column), str(f.reason))
                failures[key] = failures.get(key, 0) + 1
        for outcome, n in outcomes.items():
            self.records_total.labels(route=route, outcome=outcome).inc(n)
        for (expectation, column, reason), n in failures.items():
            self.expectation_failures_total.labels(
                route=route, expectation=expectation, column=column, reason=reason
            ).inc(n)

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
