"""Fuzzing the decoder and every compiled check: no exception escapes, every verdict is
pass / quarantine / error and well-formed (see oracle.py).

Sizes come from the environment, so CI runs a short version and ``make fuzz`` the long
one: ``DQGATE_FUZZ_INPUTS`` records for the seeded mutational fuzzer (default 20,000),
``DQGATE_FUZZ_EXAMPLES`` examples per Hypothesis test (default 200, each a batch of up
to 20 records), ``DQGATE_FUZZ_SEED`` to replay a run (printed on failure).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dqgate.suites import CompiledSuite, compile_suite, supported_types
from dqgate.verdict import Outcome, Reason

from .inputs import MARKER, NASTY, InputFactory, RaisingMapping
from .oracle import check_verdict, tally
from .suites import COLUMNS, FUZZ_SUITES, fuzz_types

pytestmark = pytest.mark.fuzz

FUZZ_INPUTS = int(os.environ.get("DQGATE_FUZZ_INPUTS") or 20_000)
FUZZ_EXAMPLES = int(os.environ.get("DQGATE_FUZZ_EXAMPLES") or 200)
FUZZ_SEED = int(os.environ.get("DQGATE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
BATCH = 500
MAX_RECORD_BYTES = 4096  # small, so that "too large" is reached too

FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def suites() -> list[CompiledSuite]:
    """The fuzz suites, compiled once."""
    return [compile_suite(s, max_record_bytes=MAX_RECORD_BYTES) for s in FUZZ_SUITES]


def _evaluate_all(
    suites: list[CompiledSuite], records: list[Any], counts: Counter[str], *, single_every: int = 1
) -> None:
    """Each record through ``evaluate_many`` of every suite, and every ``single_every``-th
    record through ``evaluate`` too; every verdict checked, outcomes counted.

    Raw bytes (what the gate consumes) also feed the tumbling windows; mappings go
    through window-less batches (see the windows finding at the end of this module).
    """
    raws = [r for r in records if isinstance(r, bytes)]
    mappings = [r for r in records if not isinstance(r, bytes)]
    for suite in suites:
        for batch, windows in ((raws, True), (mappings, False)):
            verdicts = suite.evaluate_many(batch, windows=windows)
            assert len(verdicts) == len(batch)
            for verdict, record in zip(verdicts, batch, strict=True):
                counts[str(check_verdict(verdict, suite, record))] += 1
        if raws:  # the gate's call: same verdicts, counts that add up, a window input
            evaluated = suite.evaluate_batch(raws)
            assert evaluated.verdicts == suite.evaluate_many(raws, windows=False)
            assert 0 <= evaluated.decoded <= len(raws)
            assert len(evaluated.missing) == len(suite.columns)
            assert all(0 <= m <= evaluated.decoded for m in evaluated.missing)
            if evaluated.window_input is not None:
                assert evaluated.window_input.objects == evaluated.decoded
        for record in records[::single_every]:
            check_verdict(suite.evaluate(record), suite, record)
        suite.windows.flush()
        suite.windows.drain()


def test_fuzz_suites_cover_every_compiled_check_type(suites: list[CompiledSuite]) -> None:
    """The fuzz suites use every registered check type and compile without GX fallback."""
    assert fuzz_types() == set(supported_types())
    assert not any(s.has_fallback for s in suites)


def test_generated_and_mutated_records_give_valid_verdicts(suites: list[CompiledSuite]) -> None:
    """DQGATE_FUZZ_INPUTS seeded records (bytes and mappings) through both suites."""
    factory = InputFactory(FUZZ_SEED)
    counts: Counter[str] = Counter()
    started = time.monotonic()
    remaining = FUZZ_INPUTS
    try:
        while remaining > 0:
            batch = list(factory.inputs(min(BATCH, remaining)))
            _evaluate_all(suites, batch, counts, single_every=10)
            remaining -= len(batch)
    except BaseException as exc:
        raise AssertionError(f"fuzz failure with DQGATE_FUZZ_SEED={FUZZ_SEED}: {exc!r}") from exc
    elapsed_s = time.monotonic() - started
    print(
        f"\nfuzzed {FUZZ_INPUTS} inputs x {len(suites)} suites (seed {FUZZ_SEED}) in "
        f"{elapsed_s:.1f} s: {tally(counts)}"
    )
    assert sum(counts.values()) == FUZZ_INPUTS * len(suites)
    assert all(counts[str(o)] > 0 for o in ("pass", "quarantine", "error")) or FUZZ_INPUTS < 1000


@FUZZ
@given(raws=st.lists(st.binary(max_size=MAX_RECORD_BYTES + 64), min_size=1, max_size=20))
def test_arbitrary_bytes_give_valid_verdicts(
    suites: list[CompiledSuite], raws: list[bytes]
) -> None:
    """Any bytes at all are a verdict (mostly undecodable), never an exception."""
    _evaluate_all(suites, raws, Counter())


_JSON = st.recursive(
    st.one_of(
        st.sampled_from([v for v in NASTY if not isinstance(v, list | dict)]),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.just(MARKER),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(COLUMNS), children, max_size=4),
    ),
    max_leaves=12,
)
_RECORDS = st.dictionaries(
    st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), _JSON, max_size=len(COLUMNS) + 2
)


def _encode(record: dict[str, Any]) -> bytes:
    import json

    return json.dumps(record).encode("utf-8", "surrogatepass")


@FUZZ
@given(records=st.lists(_RECORDS, min_size=1, max_size=20))
def test_json_records_give_valid_verdicts(
    suites: list[CompiledSuite], records: list[dict[str, Any]]
) -> None:
    """JSON objects of any shape, as bytes and as mappings, are valid verdicts."""
    _evaluate_all(suites, [_encode(r) for r in records], Counter())
    _evaluate_all(suites, list(records), Counter())


_ANYTHING = st.one_of(
    _JSON,
    st.builds(object),
    st.binary(max_size=8),
    st.floats(),
    st.decimals(),
    st.datetimes(),
    st.complex_numbers(),
    st.frozensets(st.integers(), max_size=3),
    st.tuples(st.integers(), st.text(max_size=3)),
)


@FUZZ
@given(
    records=st.lists(
        st.dictionaries(st.sampled_from(COLUMNS), _ANYTHING, max_size=len(COLUMNS)),
        min_size=1,
        max_size=20,
    )
)
def test_python_mappings_give_valid_verdicts(
    suites: list[CompiledSuite], records: list[Mapping[str, Any]]
) -> None:
    """Mappings holding any Python value (NaN, Decimal, bytes, sets, objects) are verdicts."""
    _evaluate_all(suites, list(records), Counter())


@FUZZ
@given(value=st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers(), max_size=3)))
def test_non_mapping_objects_are_not_an_object(suites: list[CompiledSuite], value: Any) -> None:
    """A decoded value that is not a mapping is quarantined as not_an_object, not a crash."""
    counts: Counter[str] = Counter()
    _evaluate_all(suites, [value], counts)
    assert set(counts) == {str(Outcome.QUARANTINE)}
    for suite in suites:
        for verdict in (suite.evaluate(value), *suite.evaluate_many([value], windows=False)):
            assert verdict.outcome is Outcome.QUARANTINE
            assert verdict.reasons == (Reason.NOT_AN_OBJECT,), (suite.name, value, verdict)


@pytest.mark.parametrize("depth", [400, 1000])
def test_deeply_nested_record_is_a_verdict(suites: list[CompiledSuite], depth: int) -> None:
    """A record nested hundreds of levels deep is a verdict (a few hundred bytes)."""
    raw = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    for suite in suites:
        check_verdict(suite.evaluate(raw), suite, raw)


@pytest.mark.parametrize("value", [Decimal("sNaN"), "raising-mapping"])
def test_window_counters_turn_check_errors_into_verdicts(
    suites: list[CompiledSuite], value: Any
) -> None:
    """A mapping that makes a check raise is an error verdict in a windowed batch too."""
    record = RaisingMapping() if value == "raising-mapping" else {"n": value, "s": value}
    for suite in suites:
        check_verdict(suite.evaluate(record), suite, record)  # fine
        check_verdict(suite.evaluate_many([record])[0], suite, record)
