"""The layering of src/dqgate, read from the imports of every module (AST, no import)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "dqgate"


def module_name(path: Path) -> str:
    """``dqgate.x.y`` of ``src/dqgate/x/y.py`` (a package: its ``__init__``)."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module ``source`` imports, anywhere in it (lazy imports in functions too):
    ``from a import b`` yields ``a`` and ``a.b`` (b may be a submodule); relative imports
    are resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)


def imports_of(path: Path) -> set[str]:
    """The modules imported by the source file ``path``."""
    return set(
        imported(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    )


def within(name: str, package: str) -> bool:
    """True when module ``name`` is ``package`` or inside it."""
    return name == package or name.startswith(package + ".")


def violations(files: list[Path], forbidden: str) -> list[str]:
    """``file: module`` for each import of ``forbidden`` (or a module inside it)."""
    return sorted(
        f"{path.relative_to(SRC)}: {name}"
        for path in files
        for name in imports_of(path)
        if within(name, forbidden)
    )


def files(*patterns: str) -> list[Path]:
    """The source files matching the glob ``patterns`` under src/dqgate (never none)."""
    found = sorted({p for pattern in patterns for p in PACKAGE.glob(pattern)})
    assert found, f"no source file matches {patterns}: the test would check nothing"
    return found


def test_the_import_walker_sees_lazy_relative_and_package_imports() -> None:
    """The walker finds imports inside functions, `from dqgate import gate` and `..gate`."""
    source = (
        "import os\n"
        "from dqgate import gate\n"
        "def f():\n"
        "    from dqgate.gate.worker import run_gate\n"
        "    from ..gate import connection\n"
        "    from . import reader\n"
    )
    found = set(imported(source, "dqgate.quarantine.context"))
    assert {"os", "dqgate.gate", "dqgate.gate.worker", "dqgate.gate.connection"} <= found
    assert "dqgate.quarantine.reader" in found
    assert within("dqgate.gate.worker", "dqgate.gate")
    assert not within("dqgate.gateway", "dqgate.gate")


def test_quarantine_imports_nothing_from_the_gate() -> None:
    """No module under dqgate/quarantine imports dqgate.gate (Kafka settings, the partition
    reader and redaction are neutral modules both use)."""
    assert violations(files("quarantine/**/*.py"), "dqgate.gate") == []


def test_metrics_import_nothing_from_the_suites() -> None:
    """No metrics or quality module imports dqgate.suites: a suite describes its shape
    (dqgate.shape.SuiteShape), the metrics take the description."""
    checked = files("metrics*.py", "metrics/**/*.py", "quality*.py", "quality/**/*.py")
    assert violations(checked, "dqgate.suites") == []


def test_the_gate_imports_nothing_from_the_quarantine_tools() -> None:
    """No module under dqgate/gate imports dqgate.quarantine (redaction is shared)."""
    assert violations(files("gate/**/*.py"), "dqgate.quarantine") == []


@pytest.mark.parametrize("harness", ["dqgate.testing", "dqgate.demo"])
def test_the_engine_and_the_tools_import_no_harness_or_demo_code(harness: str) -> None:
    """The gate and the quarantine commands import neither the test and benchmark harness
    nor the demo."""
    assert violations(files("gate/**/*.py", "quarantine/**/*.py"), harness) == []


@pytest.mark.parametrize(
    "forbidden", ["dqgate.gate", "dqgate.quarantine", "dqgate.suites", "dqgate.metrics"]
)
def test_the_shared_modules_take_no_side(forbidden: str) -> None:
    """The modules both sides share (client settings, partition reader, redaction, suite
    shape, routing, provenance, verdicts) import neither side."""
    shared = files(
        "kafka/clients.py", "kafka/reader.py", "redact.py", "shape.py", "routing.py",
        "provenance.py", "verdict.py",
    )  # fmt: skip
    assert violations(shared, forbidden) == []
