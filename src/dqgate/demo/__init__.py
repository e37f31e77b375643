"""The mission-story demo: synthetic incident reports with injected, counted defects."""

from __future__ import annotations

from dqgate.demo.generator import (
    CANONICAL_ETHNICITIES,
    DEFECT_REASONS,
    MISSPELLED_ETHNICITIES,
    Defect,
    DefectReport,
    DefectTally,
    GeneratedRecord,
    generate,
    summarise,
)

__all__ = [
    "CANONICAL_ETHNICITIES",
    "DEFECT_REASONS",
    "MISSPELLED_ETHNICITIES",
    "Defect",
    "DefectReport",
    "DefectTally",
    "GeneratedRecord",
    "generate",
    "summarise",
]
