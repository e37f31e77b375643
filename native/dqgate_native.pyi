"""Type stubs of the optional native decider (see src/lib.rs and dqgate/suites/native.py)."""

from collections.abc import Sequence

MAX_CHECKS: int

class Decider:
    """Decides records for one compiled suite, or says it cannot (``None``)."""

    def __init__(
        self, max_record_bytes: int, checks: Sequence[tuple[str, str, object]]
    ) -> None: ...
    def decide(self, raw: bytes) -> int | None:
        """Fail bits (0..n) | skip bits (64..64+n), or None when undecided."""
    @property
    def checks(self) -> int: ...
