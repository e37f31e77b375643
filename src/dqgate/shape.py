"""What a suite says about the series a route exports, as a value both sides share.

A suite describes itself (``CompiledSuite.shape()``, ``PassThrough.shape()``); the
metrics take the description (``GateMetrics.declare_route(route, shape)``). Neither side
imports the other: the metrics never see a suite's internals, and a suite never sees a
metric.
"""

from __future__ import annotations

from dataclasses import dataclass

from dqgate.verdict import Column, Failure

__all__ = ["MostlyShape", "SuiteShape"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MostlyShape:
    """An expectation with ``mostly`` < 1 (exported as ``dqgate_expectation_mostly``)."""

    expectation_id: str
    type: str
    column: Column
    mostly: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteShape:
    """A suite's name and hash, and the series a route running it exports (built once)."""

    name: str
    hash: str
    columns: tuple[str, ...] = ()
    """Every column the suite references: one ``dqgate_field_missing_ratio`` each."""
    expectations: tuple[str, ...] = ()
    """Per-record expectation ids (and the decode id): one unexpected ratio each."""
    decode_expectation: str | None = None
    """The expectation id of decode-stage failures (their ratio is over all records)."""
    failures: tuple[Failure, ...] = ()
    """Failures declared at zero: each compiled expectation's usual failure."""
    mostly: tuple[MostlyShape, ...] = ()
