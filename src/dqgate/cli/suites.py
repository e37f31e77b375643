"""``dqgate suites check``: how each expectation of each suite will be evaluated."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from dqgate.cli.suite_params import add_suite_options, suite_sources

EXIT_OK = 0
EXIT_UNSUPPORTED = 1
EXIT_BROKEN = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``suites`` command group."""
    parser = sub.add_parser("suites", help="inspect expectation suites")
    suites_sub = parser.add_subparsers(dest="suites_command", metavar="SUBCOMMAND", required=True)
    check = suites_sub.add_parser(
        "check",
        help="list every expectation with its mode and policy",
        description=(
            "For every expectation of every suite: its mode (compiled, fallback, window, "
            "unsupported) and its policy (enforce, observe); per suite, how many compiled "
            "checks the native decider (dqgate_native) runs, and which it does not, with why. "
            "Exit 0 when all can run, 1 when something is unsupported, 2 when a suite cannot "
            "be loaded."
        ),
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[],
        help="suite files or folders of *.json (default: --config's routes' suites, "
        "else expectations/)",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    add_suite_options(check)
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Classify every expectation; print a table or JSON."""
    from dqgate.errors import SuiteError
    from dqgate.suites import Mode, classify, load_suite

    rows: list[dict[str, Any]] = []
    suites: list[dict[str, Any]] = []
    broken: list[dict[str, str]] = []
    for source in suite_sources(args.paths, args.config, args.param):
        file = source.path
        try:
            loaded = load_suite(file, suite_parameters=source.parameters)
        except SuiteError as exc:
            broken.append({"file": str(file), "error": str(exc)})
            continue
        modes = []
        for e in loaded.expectations:
            decision = classify(e)
            modes.append(decision.mode)
            rows.append(
                {
                    "file": str(file),
                    "suite": loaded.name,
                    "index": e.index,
                    "expectation_id": e.expectation_id,
                    "type": e.type,
                    "mode": decision.mode.value,
                    "policy": decision.policy.value,
                    "why": decision.why,
                }
            )
        suites.append(
            {
                "file": str(file),
                "suite": loaded.name,
                **_native(loaded, modes),
                "warnings": list(_warnings(loaded)),
            }
        )
    if args.json:
        sys.stdout.write(
            orjson.dumps(
                {"expectations": rows, "suites": suites, "errors": broken},
                option=orjson.OPT_INDENT_2,
            ).decode()
            + "\n"
        )
    else:
        _print_table(rows, broken)
        for s in suites:
            for warning in s["warnings"]:
                print(f"warning: {s['suite']}: {warning}", file=sys.stderr)
            answer = "yes" if s["native"] else "no"
            print(f"native: {s['suite']}: {answer} ({s['native_why']})")
            for check in s["not_native"]:
                print(f"  not native: {check['expectation_id']} ({check['type']}): {check['why']}")
    if broken:
        return EXIT_BROKEN
    unsupported = any(r["mode"] == Mode.UNSUPPORTED.value for r in rows)
    return EXIT_UNSUPPORTED if unsupported else EXIT_OK


def _native(loaded: Any, modes: list[Any]) -> dict[str, Any]:
    """How many compiled checks the native decider runs, and which it does not, with why."""
    from dqgate.suites import DEFAULT_MAX_RECORD_BYTES, CompiledSuite, Mode
    from dqgate.suites.native import build_decider

    if Mode.UNSUPPORTED in modes:
        return {
            "native": False,
            "native_why": "the suite has unsupported expectations",
            "native_checks": 0,
            "compiled_checks": modes.count(Mode.COMPILED),
            "not_native": [],
        }
    decider = build_decider(
        [e for e, mode in zip(loaded.expectations, modes, strict=True) if mode is Mode.COMPILED],
        CompiledSuite.columns_of(loaded.expectations),
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
    )
    native = decider.decider is not None
    return {
        "native": native,
        "native_why": decider.why,
        "native_checks": decider.native_count,
        "compiled_checks": len(decider.checks),
        "not_native": [
            {"expectation_id": c.expectation_id, "type": c.type, "why": c.why}
            for c in decider.checks
            if native and not c.native
        ],
    }


def _warnings(loaded: Any) -> tuple[str, ...]:
    """Patterns that can backtrack catastrophically, as the gate logs them at start-up."""
    from dqgate.suites import classify
    from dqgate.suites.native import native_available, native_wanted
    from dqgate.suites.regexes import DEFAULT_REGEX_BUDGET_S, regex_warnings

    return regex_warnings(
        loaded.expectations,
        {e.expectation_id: classify(e) for e in loaded.expectations},
        linear=native_wanted(None) and native_available(),
        budget_s=DEFAULT_REGEX_BUDGET_S,
    )


def _print_table(rows: list[dict[str, Any]], broken: list[dict[str, str]]) -> None:
    headers = ("suite", "#", "id", "type", "mode", "policy")
    table = [
        (r["suite"], str(r["index"]), r["expectation_id"], r["type"], r["mode"], r["policy"])
        for r in rows
    ]
    widths = [max([len(h), *(len(row[i]) for row in table)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for r in rows:
        if r["mode"] == "unsupported":
            print(
                f"unsupported: {r['suite']} #{r['index']} {r['type']}: {r['why']}", file=sys.stderr
            )
    for b in broken:
        print(f"error: {b['error']}", file=sys.stderr)
