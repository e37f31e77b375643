"""Session-scoped GX oracle and the parity seed (override with DQGATE_PARITY_SEED)."""

from __future__ import annotations

import os

import pytest

from .oracle import GXOracle

DEFAULT_SEED = 20240105


@pytest.fixture(scope="session")
def gx_oracle() -> GXOracle:
    """One ephemeral GX context for the whole session; GX suites are cached inside."""
    return GXOracle()


@pytest.fixture(scope="session")
def parity_seed() -> int:
    """The seed of every record draw; printed with each summary and mismatch report."""
    return int(os.environ.get("DQGATE_PARITY_SEED", DEFAULT_SEED))
