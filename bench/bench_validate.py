"""Validation alone, in process: dqgate's compiled suites vs GX's engine on the same records.

Run: ``.venv/bin/python bench/bench_validate.py [--count N] [--batch N] [--rounds N]``.
Pins itself to one CPU core where the OS allows it. Prints Markdown tables; the figures are
copied into bench/README.md together with the machine's description.

Three suites, each measured with ``CompiledSuite.evaluate_batch`` (the gate's call) with the
native decider (when ``dqgate_native`` is built) and with the pure-Python checks alone
(``native=False``, as with ``DQGATE_NATIVE=0``), and with GX's own engine on batches:

- ``example``: expectations/incident_reports.json on generated incident reports;
- ``example+schema``: the same with ``expect_column_to_exist`` and
  ``expect_table_columns_to_match_set`` at the top, as GX users write suites;
- ``mixed``: one expectation of every compiled type (two under row conditions) on the same
  records with a few extra fields (amounts, currencies, a JSON payload).

Issue #13's targets are checked at the end: the mixed suite at least 5x faster with the
decider than without and at least 10x GX's engine on batches of 10,000; the example suite
with the schema checks added keeps at least 90% of its native rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import orjson
import pandas as pd

from dqgate.demo.generator import generate
from dqgate.suites import compile_suite

SUITE: Final = Path(__file__).resolve().parents[1] / "expectations" / "incident_reports.json"
_V: Final = "expect_column_values_to_"
_PAYLOAD_SCHEMA: Final = {
    "type": "object",
    "properties": {"source": {"type": "string"}, "v": {"type": "integer"}},
    "required": ["source"],
}
_EXTRA: Final = [
    ("expect_column_to_exist", {"column": "record_id"}),
    ("expect_table_columns_to_match_set", {"column_set": ["record_id", "person_id"]}),
]


def _example() -> dict[str, Any]:
    suite: dict[str, Any] = json.loads(SUITE.read_text(encoding="utf-8"))
    return suite


def _with_schema_checks() -> dict[str, Any]:
    suite = _example()
    extra = [
        {"type": t, "kwargs": k, "meta": {"id": f"schema-{i}"}} for i, (t, k) in enumerate(_EXTRA)
    ]
    return {
        **suite,
        "name": "incident_reports_schema",
        "expectations": extra + suite["expectations"],
    }


def _mixed() -> dict[str, Any]:
    """One expectation of every compiled type over the augmented incident reports."""
    traffic = {"type": "comparison", "column": {"name": "incident_type"}, "operator": "==",
               "parameter": "TRAFFIC"}  # fmt: skip
    known = {"type": "nullity", "column": {"name": "age"}, "is_null": False}
    cfgs: list[tuple[str, dict[str, Any]]] = [
        *_EXTRA,
        ("expect_table_column_count_to_be_between", {"min_value": 5, "max_value": 30}),
        ("expect_table_column_count_to_equal", {"value": 18}),
        (f"{_V}not_be_null", {"column": "record_id"}),
        (f"{_V}be_null", {"column": "legacy_code"}),
        (f"{_V}be_in_set", {"column": "incident_type",
                            "value_set": ["THEFT", "ASSAULT", "BURGLARY", "FRAUD", "VANDALISM",
                                          "TRAFFIC", "DRUGS"]}),
        (f"{_V}not_be_in_set", {"column": "district", "value_set": ["D00", "D99"]}),
        (f"{_V}be_between", {"column": "age", "min_value": 1, "max_value": 120}),
        (f"{_V}be_between", {"column": "age", "min_value": 16, "row_condition": traffic}),
        ("expect_column_value_lengths_to_be_between",
         {"column": "person_name", "min_value": 3, "max_value": 60}),
        ("expect_column_value_lengths_to_equal", {"column": "district", "value": 3}),
        (f"{_V}match_regex", {"column": "record_id", "regex": r"^R\d{7,}$"}),
        (f"{_V}not_match_regex", {"column": "birth_date", "regex": r"^1900-"}),
        (f"{_V}match_regex_list",
         {"column": "id_number", "regex_list": [r"^\d{3}-\d{2}-\d{4}$", r"^\d{9}$"]}),
        (f"{_V}not_match_regex_list", {"column": "person_name", "regex_list": [r"\d", "@"]}),
        (f"{_V}match_strftime_format",
         {"column": "reported_at", "strftime_format": "%Y-%m-%dT%H:%M:%S%z"}),
        (f"{_V}be_dateutil_parseable", {"column": "birth_date"}),
        (f"{_V}be_of_type", {"column": "age", "type_": "int", "row_condition": known}),
        (f"{_V}be_in_type_list", {"column": "amount", "type_list": ["int", "float"]}),
        (f"{_V}be_json_parseable", {"column": "payload"}),
        (f"{_V}match_json_schema", {"column": "payload", "json_schema": _PAYLOAD_SCHEMA}),
        ("expect_column_pair_values_to_be_equal",
         {"column_A": "currency", "column_B": "settled_currency"}),
        ("expect_column_pair_values_a_to_be_greater_than_b",
         {"column_A": "total", "column_B": "amount", "or_equal": True}),
        ("expect_column_pair_values_to_be_in_set",
         {"column_A": "currency", "column_B": "channel",
          "value_pairs_set": [["EUR", "web"], ["EUR", "app"], ["USD", "web"], ["USD", "app"]]}),
        ("expect_multicolumn_sum_to_equal",
         {"column_list": ["share_a", "share_b"], "sum_total": 100}),
        ("expect_multicolumn_values_to_be_equal",
         {"column_list": ["currency", "settled_currency"]}),
        ("expect_select_column_values_to_be_unique_within_record",
         {"column_list": ["record_id", "person_id", "id_number"]}),
    ]  # fmt: skip
    return {
        "name": "mixed",
        "expectations": [
            {"type": t, "kwargs": k, "meta": {"id": f"m{i}"}} for i, (t, k) in enumerate(cfgs)
        ],
    }


def _augment(values: Sequence[bytes], seed: int) -> list[bytes]:
    """The records with the mixed suite's extra fields (defective bytes kept as they are)."""
    rng = random.Random(seed)
    out = []
    for value in values:
        try:
            record = orjson.loads(value)
        except orjson.JSONDecodeError:
            out.append(value)
            continue
        if not isinstance(record, dict):
            out.append(value)
            continue
        amount = rng.randrange(1, 10_000)
        share = rng.randrange(0, 101)
        currency = rng.choice(("EUR", "USD"))
        record.update(
            amount=amount,
            total=amount + rng.randrange(0, 50),
            currency=currency,
            settled_currency=currency if rng.random() < 0.98 else "GBP",
            channel=rng.choice(("web", "app")),
            share_a=share,
            share_b=100 - share,
            payload=json.dumps({"source": rng.choice(("app", "web", "batch")), "v": 2}),
        )
        out.append(orjson.dumps(record))
    return out


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned"


def bench_dqgate(
    runs: Mapping[str, tuple[Mapping[str, Any], list[bytes]]], rounds: int, batch: int
) -> dict[tuple[str, bool], float]:
    """Best-of-rounds records/s of CompiledSuite.evaluate_batch on raw bytes (decode included),
    per (suite, native). The rounds interleave every suite and mode, so a load that comes and
    goes on a shared machine weighs on all of them alike."""
    suites = {
        (name, native): (compile_suite(source, native=native), values)
        for name, (source, values) in runs.items()
        for native in (True, False)
    }
    best = dict.fromkeys(suites, 0.0)
    for _ in range(rounds):
        for key, (suite, values) in suites.items():
            if key[1] and not suite.native:
                continue
            batches = [values[i : i + batch] for i in range(0, len(values), batch)]
            evaluate = suite.evaluate_batch
            start = time.perf_counter()
            for chunk in batches:
                evaluate(chunk)
            best[key] = max(best[key], len(values) / (time.perf_counter() - start))
    return best


def bench_gx(source: Mapping[str, Any], values: list[bytes], batch: int) -> float:
    """Records/s of GX's own engine on batches (dtype=object framing, COMPLETE indices)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    columns = list(compile_suite(source).columns)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    definition = (
        ctx.data_sources.add_pandas("bench")
        .add_dataframe_asset("records")
        .add_batch_definition_whole_dataframe("batch")
    )
    suite = ctx.suites.add(ExpectationSuite(**json.loads(json.dumps(source))))
    result_format = {"result_format": "COMPLETE", "exclude_unexpected_values": True}
    start = time.perf_counter()
    for offset in range(0, len(values), batch):
        records: list[Any] = []
        for value in values[offset : offset + batch]:
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            if isinstance(parsed, dict):
                records.append(parsed)
        frame = pd.DataFrame(records, columns=columns, dtype=object)
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format=result_format
        )
        for r in result.results:
            r.result.get("unexpected_index_list")
    return len(values) / (time.perf_counter() - start)


def decided_share(source: Mapping[str, Any], values: list[bytes]) -> tuple[float, float] | None:
    """(records every check of which the decider answered, check verdicts it answered)."""
    decide = compile_suite(source, native=True).decider
    if decide is None:
        return None
    whole = checks = total = 0
    for value in values:
        row = decide(value)
        total += len(row) - 1
        if row[0] != 2:
            whole += row[0] == 0
            checks += sum(code != 4 for code in row[1:])
    return whole / len(values), checks / total


def breakdown(values: list[bytes]) -> None:
    """Per-record CPU cost of decoding and of each compiled check (and of the native decider)."""
    suite = compile_suite(SUITE, native=False)
    decider = compile_suite(SUITE, native=True).decider
    if decider is not None:
        start = time.process_time()
        for value in values:
            decider(value)
        cost = (time.process_time() - start) / len(values) * 1e6
        print(f"| native decider, all checks | {cost:.2f} |")
    start = time.process_time()
    decoded = [suite.decode(v) for v in values]
    print(f"| JSON decode | {(time.process_time() - start) / len(values) * 1e6:.2f} |")
    records = [r for r in decoded if isinstance(r, dict)]
    for e in suite.expectations:
        fn = e.fn
        start = time.process_time()
        for record in records:
            fn(record)
        cost = (time.process_time() - start) / len(records) * 1e6
        print(f"| {e.expectation_id} ({e.type}) | {cost:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10_000, help="evaluate_batch size")
    parser.add_argument("--gx-batch", type=int, default=10_000)
    parser.add_argument("--breakdown", action="store_true", help="per-check cost only")
    args = parser.parse_args()
    pinned = _pin_one_core()
    values = [r.value for r in generate(args.count, seed=1)]
    if args.breakdown:
        print("| part | us/record |\n|---|---:|")
        breakdown(values)
        return
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    suites = {
        "example": (_example(), values),
        "example+schema": (_with_schema_checks(), values),
        "mixed": (_mixed(), _augment(values, seed=2)),
    }
    measured = bench_dqgate(suites, args.rounds, args.batch)
    rates: dict[str, dict[str, float | None]] = {}
    for name, (source, records) in suites.items():
        share = decided_share(source, records)
        gx_rate = bench_gx(source, records, args.gx_batch) if name != "example+schema" else None
        rates[name] = {
            "native": measured[(name, True)] or None,
            "pure": measured[(name, False)],
            "gx": gx_rate,
            "whole": share[0] if share else None,
            "checks": share[1] if share else None,
        }
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.platform()}; {pinned}; "
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after"
    )
    print(
        f"records: {args.count} generated incident reports (seed 1); evaluate_batch in batches "
        f"of {args.batch:,}, best of {args.rounds}; GX in batches of {args.gx_batch:,}"
    )
    print("| suite | checks | native decider | pure Python | GX 1.24 engine | native / pure "
          "| native / GX | records all native | check verdicts native |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (source, _records) in suites.items():
        r = rates[name]
        native, pure, gx_rate = r["native"], r["pure"], r["gx"]
        assert pure is not None

        def fmt(x: float | None) -> str:
            return f"{x:,.0f}" if x is not None else "-"

        def ratio(a: float | None, b: float | None) -> str:
            return f"{a / b:.1f}x" if a is not None and b else "-"

        share = f"{r['whole']:.1%} | {r['checks']:.1%}" if r["whole"] is not None else "- | -"
        print(
            f"| {name} | {len(source['expectations'])} | {fmt(native)} | {fmt(pure)} | "
            f"{fmt(gx_rate)} | {ratio(native, pure)} | {ratio(native, gx_rate)} | {share} |"
        )
    example, schema, mixed = rates["example"], rates["example+schema"], rates["mixed"]
    if mixed["native"] is not None and example["native"] and schema["native"]:
        kept = schema["native"] / example["native"]
        speedup = mixed["native"] / (mixed["pure"] or 1.0)
        over_gx = mixed["native"] / (mixed["gx"] or 1.0)
        print()
        print(f"- mixed suite, decider on / off: {speedup:.1f}x (target >= 5x)")
        print(f"- mixed suite, decider / GX's engine: {over_gx:.1f}x (target >= 10x)")
        print(f"- example + schema checks keeps {kept:.0%} of the example's native rate (>= 90%)")


if __name__ == "__main__":
    main()
