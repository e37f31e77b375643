"""The public surface of ``import dqgate``: its names, and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import dqgate
import dqgate.errors

HEAVY = ("pandas", "numpy", "great_expectations")


def test_the_public_names_are_pinned() -> None:
    """Adding or removing a public name is a deliberate change of this list."""
    assert dqgate.__all__ == [
        "BrokerError",
        "CompiledSuite",
        "ConfigError",
        "DQGateError",
        "DeliveryError",
        "Failure",
        "GateError",
        "Outcome",
        "Policy",
        "Reason",
        "SuiteError",
        "UnsupportedExpectationError",
        "Verdict",
        "__version__",
        "compile_suite",
        "load_suite",
    ]
    for name in dqgate.__all__:
        assert getattr(dqgate, name) is not None


def test_every_public_exception_type_is_exported() -> None:
    """Callers catch dqgate's errors from the package itself."""
    errors = {n for n in dqgate.errors.__all__ if n.endswith("Error")}
    assert errors <= set(dqgate.__all__)


def loaded_after(code: str) -> list[str]:
    """The heavy modules loaded in a fresh interpreter after running ``code``."""
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_dqgate_leaves_pandas_numpy_and_gx_out() -> None:
    """`import dqgate` does not pay for Great Expectations; the suite API loads on use."""
    assert loaded_after("import dqgate") == []
    import dqgate.suites

    assert dqgate.load_suite is dqgate.suites.load_suite


def test_dqgate_help_leaves_pandas_numpy_and_gx_out() -> None:
    """`dqgate --help` answers without importing GX, pandas or numpy."""
    code = (
        "import contextlib, io\n"
        "from dqgate.cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])"
    )
    assert loaded_after(code) == []
