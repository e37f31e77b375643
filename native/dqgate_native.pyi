"""Type stubs of the optional native decider (see src/lib.rs and dqgate/suites/native.py)."""

from collections.abc import Sequence

class Decider:
    """Decides records for one compiled suite, check by check, or says it cannot."""

    def __init__(
        self,
        max_record_bytes: int,
        columns: Sequence[str],
        checks: Sequence[tuple[str, Sequence[int], object, object]],
    ) -> None: ...
    def decide(self, raw: bytes) -> bytes:
        """The row of one record: state (0 decided, 1 partly, 2 abstained), one code per check."""
    def decide_many(
        self, values: list[object], spans: int = 0
    ) -> tuple[bytes, list[int], int, bytes]:
        """(rows, missing per column, records parsed, spans) for a batch, without the GIL."""
    @property
    def checks(self) -> int: ...

class Regex:
    """A translated regex: ``re.search``'s answer in linear time on the texts it is exact for."""

    def __init__(self, source: str, ascii_only: bool, newline: int) -> None: ...
    def search(self, text: str) -> bool | None:
        """Whether re.search finds a match; None outside the translation's domain."""

def regex_error(source: str) -> str | None:
    """Why a translated regex does not build, or None."""

def float_repr(value: float) -> str:
    """Python's repr of a float, as the decider computes it."""
