"""``--expectation`` and ``--column`` checked against the suites of ``--config``.

A filter naming an expectation id or a column that no suite of the configuration has
would select nothing and read as "nothing quarantined"; with ``--config`` it is an
error naming the known ones. Known ids are every id an expectation can carry in the
``dqgate.failures`` header (its dqgate id, GX ``id``, ``meta.id``, ``meta.dqgate.id``),
so records quarantined before an id scheme change still match. Without ``--config``
nothing is checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from dqgate.errors import ConfigError

__all__ = ["check_filters", "known_filters"]

_COLUMN_KWARGS: Final = ("column", "column_A", "column_B", "column_list", "column_set")


def _ids(raw: Mapping[str, Any]) -> Iterable[str]:
    if raw.get("id"):
        yield str(raw["id"])
    meta = raw.get("meta")
    if isinstance(meta, Mapping):
        if meta.get("id"):
            yield str(meta["id"])
        dq = meta.get("dqgate")
        if isinstance(dq, Mapping) and dq.get("id"):
            yield str(dq["id"])


def _columns(raw: Mapping[str, Any]) -> Iterable[str]:
    kwargs = raw.get("kwargs")
    if not isinstance(kwargs, Mapping):
        return
    for key in _COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            yield value
        elif isinstance(value, list | tuple):
            yield from (str(v) for v in value)


def known_filters(config: Any) -> tuple[set[str], set[str]]:
    """(expectation ids, columns) of every route's suite (SuiteError when one cannot load)."""
    from dqgate.suites import load_suite

    ids: set[str] = set()
    columns: set[str] = set()
    for route in config.routes:
        loaded = load_suite(route.suite, suite_parameters=dict(route.suite_parameters))
        for e in loaded.expectations:
            ids.add(e.expectation_id)
            ids.update(_ids(e.raw))
            columns.update(_columns(e.raw))
    return ids, columns


def _unknown(kind: str, flag: str, given: Iterable[str], known: set[str], origin: str) -> None:
    missing = [g for g in given if g not in known]
    if not missing:
        return
    first = missing[0]
    close = difflib.get_close_matches(first, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        f"{flag} {first!r}: no suite of {origin} has this {kind}{hint}; it would select "
        f"nothing. Known: {', '.join(sorted(known)) or 'none'}"
    )


def check_filters(config: Any, expectations: Iterable[str], columns: Iterable[str]) -> None:
    """ConfigError when a filter names an expectation id or a column no suite has."""
    expectations, columns = list(expectations), list(columns)
    if config is None or not (expectations or columns):
        return
    ids, known_columns = known_filters(config)
    _unknown("expectation id", "--expectation", expectations, ids, config.origin)
    _unknown("column", "--column", columns, known_columns, config.origin)
