"""Session fixtures of the parity suite, and its end-of-session verdict count.

The terminal summary always prints how many (expectation, record) verdicts were compared with
GX. When the whole parity suite ran (no parity test deselected or left out), the session fails
if fewer than ``tally.MIN_VERDICTS`` were compared, or if an expectation type or a row-condition
form was never compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

from dqgate.suites import supported_types

from .oracle import GXOracle
from .pools import PARITY_SEED
from .tally import TALLY

_HERE: Final = Path(__file__).parent


@dataclass(slots=True)
class _Run:
    """Which parity tests were selected and ran, and what the end-of-session check found."""

    selected: int = 0
    ran: int = 0
    partial: bool = False
    problems: list[str] = field(default_factory=list)


_RUN: Final = _Run()


def _is_parity(item: pytest.Item) -> bool:
    return item.path.is_relative_to(_HERE)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """A deselected parity test (-m, -k, --deselect, --lf) means a partial parity run."""
    if any(_is_parity(item) for item in items):
        _RUN.partial = True


def pytest_collection_finish(session: pytest.Session) -> None:
    """Count the selected parity tests; node ids on the command line also mean partial."""
    selected = [item for item in session.items if _is_parity(item)]
    _RUN.selected = len(selected)
    modules = {item.path.name for item in selected}
    every_module = {p.name for p in _HERE.glob("test_*.py")}
    if modules != every_module or any("::" in arg for arg in session.config.args):
        _RUN.partial = True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the parity tests that ran to the end of their call phase."""
    if report.when == "call":
        _RUN.ran += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a complete parity run that compared too few verdicts or missed a type or form."""
    complete = _RUN.selected and not _RUN.partial and _RUN.ran == _RUN.selected
    if complete:
        _RUN.problems = TALLY.shortfalls(supported_types())
        if _RUN.problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the verdict count (and why a complete run failed its floor, if it did)."""
    if not _RUN.selected:
        return
    terminalreporter.section("dqgate parity with GX")
    for line in TALLY.summary(PARITY_SEED):
        terminalreporter.line(line)
    for problem in _RUN.problems:
        terminalreporter.line(f"FAILED: {problem}", red=True, bold=True)


@pytest.fixture(scope="session")
def gx_oracle() -> GXOracle:
    """One ephemeral GX context for the whole session; GX suites are cached inside."""
    return GXOracle()


@pytest.fixture(scope="session")
def parity_seed() -> int:
    """The seed of every record draw (DQGATE_PARITY_SEED); printed with every report."""
    return PARITY_SEED
