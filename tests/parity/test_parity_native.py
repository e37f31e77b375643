"""The native decider gives the pure-Python verdict for every record it decides, and decides most.

Each test evaluates the same raw bytes with the native decider on and off and requires equal
Verdicts, record by record, for generated incident reports, for the tricky-value pools of the
parity suite and for Hypothesis-drawn JSON (escapes, lone surrogates, huge integers, floats,
duplicate keys, byte mutations). It also counts the records the decider answered itself, so a
decider that silently always abstained would fail here. Two tests compare the native path
from JSON bytes with GX's engine directly (the native-capable parity cases, the example suite).
"""

from __future__ import annotations

import importlib
import json
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dqgate.demo.generator import generate
from dqgate.suites import CompiledSuite, WindowConfig, compile_suite

from .cases import ROW_CASES
from .compare import compare_with_gx
from .oracle import GXOracle
from .pools import ANY, PARITY_SEED, REGEXES, ROW_COLUMNS, STRFTIME_FORMATS, draw_records

if os.environ.get("DQGATE_TEST_REQUIRE_TOOLS") == "1":  # CI (.ci/run): the build must work
    importlib.import_module("dqgate_native")
else:
    pytest.importorskip("dqgate_native", reason="the native extension is not built (make install)")

pytestmark = pytest.mark.parity

SUITE: Final = Path(__file__).resolve().parents[2] / "expectations" / "incident_reports.json"
_P: Final = "expect_column_values_to_"
NATIVE_TYPES: Final = (
    f"{_P}not_be_null",
    f"{_P}be_null",
    f"{_P}be_in_set",
    f"{_P}be_between",
    f"{_P}match_regex",
    f"{_P}not_match_regex",
    f"{_P}match_strftime_format",
)
POOL_RECORDS: Final = 1500
EXAMPLES: Final = int(os.environ.get("DQGATE_NATIVE_EXAMPLES") or 300)
"""Hypothesis examples of the drawn-JSON test (each up to 25 records, 6 byte forms each)."""
_DECODE_REASONS: Final = frozenset({"undecodable", "not_an_object", "too_large"})


def _pair(source: Any, **kwargs: Any) -> tuple[CompiledSuite, CompiledSuite]:
    on = compile_suite(source, native=True, **kwargs)
    off = compile_suite(source, native=False, **kwargs)
    assert on.native, on.native_why
    assert not off.native
    return on, off


def _decider(suite: CompiledSuite) -> Callable[[bytes], int | None]:
    decide = suite.decider
    assert decide is not None
    return decide


def _compare(on: CompiledSuite, off: CompiledSuite, raws: Sequence[bytes]) -> tuple[int, int]:
    """Assert equal verdicts one by one and per batch; (records decided natively, records)."""
    decide = _decider(on)
    decided = 0
    for raw in raws:
        expected = off.evaluate(raw)
        assert on.evaluate(raw) == expected, f"seed={PARITY_SEED} record={raw!r}"
        decided += decide(raw) is not None
    assert on.evaluate_many(raws, windows=False) == off.evaluate_many(raws, windows=False)
    return decided, len(raws)


@pytest.mark.parametrize(
    ("seed", "defect_rate"), [(1, 0.0), (2, 0.1), (3, 0.1), (4, 0.5), (5, 1.0)]
)
def test_generated_incident_reports_get_the_pure_verdict(seed: int, defect_rate: float) -> None:
    """Generated incident reports: same Verdict either way; the decider takes the clean ones."""
    on, off = _pair(SUITE)
    records = list(generate(4000, seed=seed, defect_rate=defect_rate))
    decided, total = _compare(on, off, [r.value for r in records])
    objects = sum(1 for r in records if r.defect is None or r.reason not in _DECODE_REASONS)
    clean = sum(1 for r in records if r.defect is None)
    print(f"\nseed {seed}, defects {defect_rate:.0%}: {decided}/{total} decided natively")
    assert decided >= clean  # every clean record is decided
    if defect_rate <= 0.1:
        assert decided >= 0.95 * total
    assert decided <= objects


def test_windows_count_the_same_with_the_decider() -> None:
    """evaluate_many with windows: same verdicts and the same mostly ratios per window."""
    window = WindowConfig(window_records=700, window_seconds=None)
    on, off = _pair(SUITE, window=window)
    raws = [r.value for r in generate(5000, seed=11, defect_rate=0.2)]
    for start in range(0, len(raws), 333):
        batch = raws[start : start + 333]
        assert on.evaluate_many(batch) == off.evaluate_many(batch)
    on.windows.flush()
    off.windows.flush()
    results = on.windows.drain()
    assert results == off.windows.drain()
    assert len(results) >= 6  # one mostly expectation; a window per 700 decoded records


def _native_configs(etype: str) -> list[dict[str, Any]]:
    """The parity cases of one type that have a native form (each alone must compile native)."""
    out = []
    for cfg in ROW_CASES[etype]:
        if compile_suite({"name": "probe", "expectations": [cfg]}, native=True).native:
            out.append(cfg)
    return out


def _encodings(record: Mapping[str, Any]) -> Iterable[bytes]:
    """The record as compact UTF-8 JSON, with \\u escapes, and with spaces and a newline."""
    for ensure_ascii in (False, True):
        try:
            text = json.dumps(record, ensure_ascii=ensure_ascii, allow_nan=False)
        except ValueError:  # NaN or infinity: not JSON, so the decoder's verdict
            yield json.dumps(record).encode()
            return
        yield text.encode("utf-8", "surrogatepass")
    yield (" \n" + json.dumps(record, indent=1, ensure_ascii=False) + "\r\n").encode()


@pytest.mark.parametrize("etype", NATIVE_TYPES)
def test_tricky_pool_values_get_the_pure_verdict(etype: str) -> None:
    """Every value of the parity pools, in every native-capable config of a type."""
    cfgs = _native_configs(etype)
    assert cfgs, f"no parity case of {etype} has a native form"
    on, off = _pair({"name": f"native-{etype}", "expectations": cfgs})
    rng = random.Random(f"{PARITY_SEED}:native:{etype}")
    records = draw_records(rng, POOL_RECORDS)
    records += [{column: value} for value in ANY for column in ("any", "num", "text")]
    raws = [raw for record in records for raw in _encodings(record)]
    decided, total = _compare(on, off, raws)
    print(f"\n{etype}: {len(cfgs)} configs, {decided}/{total} records decided natively")
    assert decided > 0  # tricky values are mostly undecided by design; the share is printed


@pytest.mark.parametrize("etype", NATIVE_TYPES)
def test_native_capable_configs_match_gx_from_bytes(etype: str, gx_oracle: GXOracle) -> None:
    """The native-capable parity cases of a type, evaluated from JSON bytes, equal GX's verdicts."""
    cfgs = _native_configs(etype)
    assert compile_suite({"name": "probe", "expectations": cfgs}).native
    records = draw_records(random.Random(f"{PARITY_SEED}:native-gx:{etype}"), 1200)
    run = compare_with_gx(
        gx_oracle,
        cfgs,
        records,
        list(ROW_COLUMNS),
        seed=PARITY_SEED,
        suite_name=f"parity-native-{etype}",
        check_bytes=True,
    )
    print(f"\n{run.summary()}")
    assert run.compared[etype] >= 1000, run.summary()
    assert not run.mismatches, run.report()


def test_example_suite_from_bytes_matches_gx(gx_oracle: GXOracle) -> None:
    """The example suite, native on, from the generated records' bytes, equals GX's verdicts."""
    cfgs = json.loads(SUITE.read_text(encoding="utf-8"))["expectations"]
    assert compile_suite(SUITE).native
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


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# --- Hypothesis: JSON of any shape under drawn native-capable configs ------------------------

_COLUMNS: Final = ("a", "b", "c")
_STRINGS: Final = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789-:TZ+ ", max_size=26),
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
_RECORDS: Final = st.dictionaries(
    st.one_of(st.sampled_from(_COLUMNS), st.text(max_size=4)), _VALUES, max_size=5
)


def _cfg(etype: str, column: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": f"{_P}{etype}", "kwargs": {"column": column, **kwargs}}


def _supported(cfg: dict[str, Any]) -> bool:
    return compile_suite({"name": "probe", "expectations": [cfg]}, native=True).native


_CONFIGS: Final = [
    cfg
    for column in _COLUMNS
    for cfg in (
        _cfg("not_be_null", column),
        _cfg("be_null", column),
        _cfg("be_in_set", column, value_set=["x", "", "é", "2024-01-05", "True", "1"]),
        _cfg("be_between", column, min_value=-3, max_value=10**6, strict_max=True),
        _cfg("be_between", column, min_value=0.5),
        *(_cfg("match_regex", column, regex=r) for r in REGEXES),
        *(_cfg("not_match_regex", column, regex=r) for r in REGEXES[:8]),
        *(_cfg("match_strftime_format", column, strftime_format=f) for f in STRFTIME_FORMATS),
    )
    if _supported(cfg)
]


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
        return b'{"a": 1, ' + raw[1:]  # a duplicate "a" when the record has one
    token = rng.choice([b"\\u0041", b"\\ud800", b"\xff", b"\xc3\xa9", b"NaN", b" ", b"\n"])
    return raw[:at] + token + raw[at:]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    records=st.lists(_RECORDS, min_size=1, max_size=25),
    picks=st.lists(st.integers(min_value=0), min_size=1, max_size=6),
    mutation_seed=st.integers(min_value=0, max_value=2**32),
)
def test_hypothesis_records_get_the_pure_verdict(
    records: list[dict[str, Any]], picks: list[int], mutation_seed: int
) -> None:
    """Drawn JSON objects (any encoding, mutated bytes too) under drawn native-capable configs."""
    cfgs = [dict(_CONFIGS[p % len(_CONFIGS)], meta={"id": f"c{i}"}) for i, p in enumerate(picks)]
    on, off = _pair({"name": "native-hypothesis", "expectations": cfgs}, max_record_bytes=400)
    rng = random.Random(mutation_seed)
    raws = []
    for record in records:
        for raw in _encodings(record):
            raws.append(raw)
            raws.append(_mutate(raw, rng))
    _compare(on, off, raws)


def test_hypothesis_configs_cover_every_native_type() -> None:
    """The drawn configs include every type the decider supports."""
    assert {str(c["type"]) for c in _CONFIGS} == set(NATIVE_TYPES)
