"""Value semantics shared by the compiled checks, matching pandas under ``dtype=object``.

GX evaluates a record's field inside ``pd.DataFrame(records, columns=..., dtype=object)``:
a missing key becomes NaN, and NaN, None, ``pd.NA`` and NaT are all *null*. Strings
checks see ``astype(str)``, which is ``str(value)`` for every JSON type.
"""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

__all__ = ["MISSING", "is_null"]


class _Missing:
    """Sentinel for a key absent from the record (pandas turns it into NaN)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

# Types whose instances are never null: the fast path for decoded JSON.
_NEVER_NULL: Final = frozenset({str, int, bool, list, dict, tuple})


def is_null(value: Any) -> bool:
    """True where ``pandas.isna`` is True for this cell: None, NaN, NA, NaT or a missing key."""
    if value is None or value is MISSING:
        return True
    kind = type(value)
    if kind in _NEVER_NULL:
        return False
    if kind is float:
        return math.isnan(value)
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return result is True or (type(result).__name__ == "bool_" and bool(result))
