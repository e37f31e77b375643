"""Where the deployment tests find their tools, and what they do when one is missing.

helm and kubecheck are built into the git-ignored ``.tools/bin`` by ``make helm-tools``;
buildah, podman, runc, debootstrap (``make container-tools``), promtool (``make
prometheus-tools``) and systemd-analyze come from Debian's packages. A missing tool
skips its tests with the command that installs it, except in CI (``CI=true`` or
``DQGATE_TEST_REQUIRE_TOOLS=1``, which .ci/run sets), where it fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
CONTAINERS_CONF = ROOT / ".tools" / "containers" / "containers.conf"
INSTALL = {
    "helm": "make helm-tools",
    "kubecheck": "make helm-tools",
    "buildah": "make container-tools",
    "podman": "make container-tools",
    "runc": "make container-tools",
    "debootstrap": "make container-tools",
    "promtool": "make prometheus-tools",
}


def tools_required() -> bool:
    """True in CI: a missing tool fails the test instead of skipping it."""
    flags = (os.environ.get(v, "").lower() for v in ("CI", "DQGATE_TEST_REQUIRE_TOOLS"))
    return any(flag in ("1", "true", "yes") for flag in flags)


def missing(reason: str) -> NoReturn:
    """Skip the test with ``reason``, or fail it when tools are required (CI)."""
    if tools_required():
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str) -> str:
    """The path of tool ``name`` (.tools/bin first, then PATH); skips or fails when absent."""
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed: run `{INSTALL.get(name, 'its install')}`")
        raise AssertionError("unreachable")
    return found


def dqgate(*args: str | Path, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """Run this checkout's ``dqgate`` command line (the test interpreter's)."""
    command = [sys.executable, "-m", "dqgate.cli.main", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
