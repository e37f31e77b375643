"""The native decider gives the pure-Python verdict for every record, check by check.

Each test evaluates the same raw bytes with the native decider on and off and requires equal
Verdicts, record by record (``evaluate``) and per batch (``evaluate_batch``: verdicts, the
decoded count, the missing counts per column and the windows' input), for generated
incident reports, for every compiled type's generated configs (row conditions, ``mostly``
and severities included) on the tricky value pools, and for Hypothesis-drawn JSON of any
shape (nulls, bools, floats, huge integers, non-ASCII text, escapes, duplicate and missing
keys, non-objects, byte mutations). It also counts the check verdicts the decider gave
itself, so a decider that silently always abstained would fail here. The comparison of the
native path with GX's engine runs in every parity test that compares from the JSON bytes
(``compare.compare_with_gx``); one more here takes the example suite.
"""

from __future__ import annotations

import importlib
import json
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from dqgate.demo.generator import generate
from dqgate.suites import CompiledSuite, WindowConfig, compile_suite, supported_types

from .compare import compare_with_gx
from .oracle import GXOracle
from .pools import ANY, GEN_COLUMNS, PARITY_SEED, draw_gen_records, draw_table_records
from .strategies import ROW_TYPES, TABLE_TYPES, expectation_configs, table_configs

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    importlib.import_module("dqgate_native")
else:
    pytest.importorskip("dqgate_native", reason="the native extension is not built (make install)")

pytestmark = pytest.mark.parity

SUITE: Final = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
POOL_RECORDS: Final = 700
EXAMPLES: Final = int(os.environ.get("DQGATE_NATIVE_EXAMPLES") or 300)
"""Hypothesis examples of the drawn-JSON test (each up to 25 records, 6 byte forms each)."""
_DECODE_REASONS: Final = frozenset({"undecodable", "not_an_object", "too_large"})
_UNDECIDED: Final = 4


def _pair(source: Any, **kwargs: Any) -> tuple[CompiledSuite, CompiledSuite]:
    on = compile_suite(source, native=True, **kwargs)
    off = compile_suite(source, native=False, **kwargs)
    assert on.native, on.native_why
    assert not off.native
    return on, off


def _compare(on: CompiledSuite, off: CompiledSuite, raws: Sequence[bytes]) -> tuple[int, int]:
    """Assert equal verdicts one by one and per batch; (check verdicts decided natively, all)."""
    decide = on.decider
    assert decide is not None
    decided = total = 0
    for raw in raws:
        expected = off.evaluate(raw)
        assert on.evaluate(raw) == expected, f"seed={PARITY_SEED} record={raw!r}"
        row = decide(raw)
        total += len(row) - 1
        if row[0] != 2:
            decided += sum(code != _UNDECIDED for code in row[1:])
    assert on.evaluate_batch(list(raws)) == off.evaluate_batch(list(raws))
    return decided, total


@pytest.mark.parametrize(
    ("seed_", "defect_rate"), [(1, 0.0), (2, 0.1), (3, 0.1), (4, 0.5), (5, 1.0)]
)
def test_generated_incident_reports_get_the_pure_verdict(seed_: int, defect_rate: float) -> None:
    """Generated incident reports: same Verdict either way; the decider takes the clean ones."""
    on, off = _pair(SUITE)
    records = list(generate(4000, seed=seed_, defect_rate=defect_rate))
    decided, total = _compare(on, off, [r.value for r in records])
    objects = sum(1 for r in records if r.defect is None or r.reason not in _DECODE_REASONS)
    clean = sum(1 for r in records if r.defect is None)
    checks = len(on.expectations)
    print(f"\nseed {seed_}, defects {defect_rate:.0%}: {decided}/{total} decided natively")
    assert decided >= clean * checks  # every check of every clean record is decided
    if defect_rate <= 0.1:
        assert decided >= 0.95 * total
    assert decided <= objects * checks


def test_windows_count_the_same_with_the_decider() -> None:
    """The windows' input of each batch gives the same mostly ratios either way."""
    window = WindowConfig(window_records=700, window_seconds=None)
    on, off = _pair(SUITE)
    aggregators = [s.new_window_aggregator(window) for s in (on, off)]
    raws = [r.value for r in generate(5000, seed=11, defect_rate=0.2)]
    for start in range(0, len(raws), 333):
        batch = raws[start : start + 333]
        for suite, aggregator in zip((on, off), aggregators, strict=True):
            assert aggregator is not None
            aggregator.add(suite.evaluate_batch(batch).window_input)
    results = []
    for aggregator in aggregators:
        assert aggregator is not None
        aggregator.flush()
        results.append(aggregator.drain())
    assert results[0] == results[1]
    assert len(results[0]) >= 6  # one mostly expectation; a window per 700 decoded records


def _encodings(record: Any) -> Iterable[bytes]:
    """The value as compact UTF-8 JSON, with \\u escapes, and with spaces and a newline."""
    for ensure_ascii in (False, True):
        try:
            text = json.dumps(record, ensure_ascii=ensure_ascii, allow_nan=False)
        except ValueError:  # NaN or infinity: not JSON, so the decoder's verdict
            yield json.dumps(record).encode()
            return
        yield text.encode("utf-8", "surrogatepass")
    yield (" \n" + json.dumps(record, indent=1, ensure_ascii=False) + "\r\n").encode(
        "utf-8", "surrogatepass"
    )


_PER_TYPE: Final = settings(
    max_examples=3,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=(HealthCheck.too_slow,),
)


@pytest.mark.parametrize("etype", ROW_TYPES)
@_PER_TYPE
@seed(PARITY_SEED)
@given(data=st.data())
def test_every_row_type_gets_the_pure_verdict_on_the_pools(etype: str, data: st.DataObject) -> None:
    """Generated configs of one type (every condition form) on the tricky pools, as bytes."""
    cfgs = data.draw(expectation_configs(etype), label="configs")
    on, off = _pair({"name": f"native-{etype}", "expectations": cfgs})
    rng = random.Random(f"{PARITY_SEED}:native:{etype}:{data.draw(st.integers(0, 99))}")
    records: list[Any] = draw_gen_records(rng, POOL_RECORDS, missing_rate=0.15)
    records += [{column: value} for value in ANY for column in ("x y", "num", "text")]
    decided, total = _compare(on, off, [raw for r in records for raw in _encodings(r)])
    print(f"\n{etype}: {len(cfgs)} configs, {decided}/{total} check verdicts decided natively")
    assert decided > 0


@_PER_TYPE
@seed(PARITY_SEED)
@given(data=st.data())
def test_table_types_get_the_pure_verdict(data: st.DataObject) -> None:
    """Schema-level configs (keys, key order, key count) on records with varied key sets."""
    cfgs = data.draw(table_configs(per_type=3), label="configs")
    on, off = _pair({"name": "native-table", "expectations": cfgs})
    records = draw_table_records(random.Random(f"{PARITY_SEED}:native-table"), POOL_RECORDS)
    decided, total = _compare(on, off, [raw for r in records for raw in _encodings(r)])
    assert decided > 0.8 * total


def test_example_suite_from_bytes_matches_gx(gx_oracle: GXOracle) -> None:
    """The example suite, native on, from the generated records' bytes, equals GX's verdicts."""
    cfgs = json.loads(SUITE.read_text(encoding="utf-8"))["expectations"]
    records = [
        decoded
        for r in generate(3000, seed=21, defect_rate=0.3)
        if isinstance(decoded := _loads(r.value), dict)
    ]
    columns = list(compile_suite(SUITE).columns)
    run = compare_with_gx(
        gx_oracle,
        cfgs,
        records,
        columns,
        seed=PARITY_SEED,
        suite_name="parity-native-incident",
        check_bytes=True,
    )
    print(f"\n{run.summary()}")
    assert sum(run.compared.values()) >= 14 * 2500, run.summary()
    assert not run.mismatches, run.report()


@pytest.mark.parametrize("regex", [r"^(a+)+$", r"^(\w+\s?)*$", r"(a|aa)+b", r"^(?=a)(a+)+$"])
def test_nested_quantifier_patterns_match_gx_on_growing_values(
    regex: str, gx_oracle: GXOracle
) -> None:
    """Patterns that backtrack exponentially in Python, on values up to 17 characters (GX
    still finishes): dqgate's verdict (linear time, or budgeted) equals GX's."""
    cfgs = [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "s", "regex": regex},
         "meta": {"id": "nested"}},
        {"type": "expect_column_values_to_not_match_regex",
         "kwargs": {"column": "s", "regex": regex}, "meta": {"id": "nested-not"}},
    ]  # fmt: skip
    records = [
        {"s": text}
        for k in range(17)
        for text in ("a" * k, "a" * k + "b", "ab " * (k // 3) + "!", "a" * k + "\n", "é" * k)
    ]
    run = compare_with_gx(
        gx_oracle,
        cfgs,
        records,
        ["s"],
        seed=PARITY_SEED,
        suite_name="parity-nested",
        check_bytes=True,
    )
    assert sum(run.compared.values()) == 2 * len(records)
    assert not run.mismatches, run.report()


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- Hypothesis: JSON of any shape under drawn configs of every compiled type ----------------

_KEYS: Final = tuple(GEN_COLUMNS)
_STRINGS: Final = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789-:TZ+ .eE", max_size=26),
    st.sampled_from([v for v in ANY if isinstance(v, str)]),
)
_SCALARS: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    _STRINGS,
)
_VALUES: Final = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)
_RECORDS: Final = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=4)), _VALUES, max_size=7),
    _VALUES,  # a JSON value that is not an object, now and then
)


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    """One byte-level change: a flip, a cut, a duplicated member or an inserted token."""
    kind = rng.randrange(4)
    at = rng.randrange(len(raw) + 1)
    if kind == 0 and raw:
        at = min(at, len(raw) - 1)
        return raw[:at] + bytes([raw[at] ^ (1 << rng.randrange(8))]) + raw[at + 1 :]
    if kind == 1:
        return raw[:at]
    if kind == 2 and raw.startswith(b"{") and len(raw) > 2:
        key = rng.choice(_KEYS).encode()
        return b'{"' + key + b'": 1, ' + raw[1:]  # a duplicate when the record has that key
    token = rng.choice([b"\\u0041", b"\\ud800", b"\xff", b"\xc3\xa9", b"NaN", b" ", b"\n"])
    return raw[:at] + token + raw[at:]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.data(),
    records=st.lists(_RECORDS, min_size=1, max_size=25),
    mutation_seed=st.integers(min_value=0, max_value=2**32),
)
def test_hypothesis_records_get_the_pure_verdict(
    data: st.DataObject, records: list[Any], mutation_seed: int
) -> None:
    """Drawn JSON (any encoding, mutated bytes too) under drawn configs of drawn types."""
    etypes = data.draw(st.lists(st.sampled_from(ROW_TYPES), min_size=1, max_size=3), label="types")
    cfgs = [cfg for etype in etypes for cfg in data.draw(expectation_configs(etype))][:12]
    cfgs += data.draw(table_configs(per_type=1), label="table")[: data.draw(st.integers(0, 4))]
    cfgs = [dict(c, meta={"id": f"c{i}"}) for i, c in enumerate(cfgs)]
    on, off = _pair({"name": "native-hypothesis", "expectations": cfgs}, max_record_bytes=600)
    rng = random.Random(mutation_seed)
    raws = []
    for record in records:
        for raw in _encodings(record):
            raws.append(raw)
            raws.append(_mutate(raw, rng))
    _compare(on, off, raws)


def test_generators_cover_every_compiled_type() -> None:
    """The drawn configs include every type dqgate compiles."""
    assert set(ROW_TYPES) | set(TABLE_TYPES) == set(supported_types())
