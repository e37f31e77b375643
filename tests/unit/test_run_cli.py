"""`dqgate run`'s command line: what operators' scripts rely on."""

from __future__ import annotations


def test_run_help_lists_every_exit_code() -> None:
    """`dqgate run --help` names each exit code an operator's supervisor can act on."""
    import subprocess
    import sys

    from dqgate.gate.exits import ExitCode

    shown = subprocess.run(
        [sys.executable, "-m", "dqgate.cli.main", "run", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    codes = {int(line.split()[0]) for line in shown.split("exit codes:")[1].splitlines()[1:7]}
    assert codes == {int(code) for code in ExitCode}
    assert "safe to restart" in shown
