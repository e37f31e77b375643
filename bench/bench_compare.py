"""dqgate's engines side by side with the gates a Python team would write (issue #12).

Run: ``make bench`` (``BENCH_COUNT``, ``BENCH_SOAK_COUNT``, ``BENCH_ARGS``), or
``.venv/bin/python bench/bench_compare.py [--count N] [--soak-count N] [--gates a,b]
[--update-readme]``. The peers run on ``--peer-python`` (default ``.venv/bench/bin/python``,
the virtualenv ``make bench`` fills with the ``bench`` extra).

One run, one local broker (the project's own, on a temporary data dir, always stopped),
the same generated incident reports (seed 1, 10% defects) for every gate, produced on
the partition their key gives (4 partitions), so a record has the same source
partition and offset in every gate's source topic. The example suite
``expectations/incident_reports.json``. Each gate under test is its own process (CPU
and RSS from its /proc entry) on fresh topics. Gates (``--gates``; default marked *):

- ``batch`` *: ``dqgate run --engine batch``;
- ``faust`` *: ``dqgate run --engine faust``;
- ``quix`` *: a Quix Streams application with the suite's 13 enforcing checks written by
  hand (``_peer_quix.py``, ``_peer_checks.py``);
- ``confluent`` *: a plain confluent-kafka consume/produce batch loop, the same checks
  (``_peer_confluent.py``);
- ``passthrough`` *: the aiokafka pass-through ceiling, the batch engine's batching and
  no checks (``_gates.py passthrough``);
- ``batch-no-headers`` *: ``engine: batch`` with the routing headers left out
  (``_dqgate_no_headers.py``), for the cost of the headers end to end;
- ``batch-x2`` *: two ``engine: batch`` workers in one group on the 4 partitions;
- ``batch-alt-wait``, ``faust-passthrough``, ``gx-batch``, ``gx-naive``: the batch engine
  with another ``batch_wait_s``, faust with ``validate: false``, GX's engine on
  micro-batches and one record at a time (slow; not in the default set).

Per gate: the backlog of ``--count`` records is produced first; throughput is timed from
the gate's first output to its last (output topics' end offsets), with the gate's CPU
seconds over the same span. A paced producer then offers 50% of that gate's own
throughput for ``--latency-seconds``, each record stamped with its send time; a reader of
the outputs takes arrival - timestamp (every gate keeps the source timestamp) for
p50/p99. The ``batch`` gate then takes records up to ``--soak-count`` in all (RSS after
100,000 and every tenth of the way) while py-spy profiles it. After each gate stops, its
quarantine topic is read back: the source offsets it quarantined (lineage headers) must
be exactly those the suite quarantines, or the run fails naming the gate. Last, with the
broker stopped: validation alone, and the routing headers' cost in process.

Prints the Markdown results and writes them to ``bench/out/bench_compare-<time>.md``
(git-ignored); ``--update-readme`` also replaces the block between the ``bench_compare``
markers in bench/README.md (not when a quarantine check failed). A run that seems stuck:
``kill -USR1 <its pid>`` prints where each of its tasks waits.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # a sibling module, not a package
    OUT_DIR,
    PARTITIONS,
    ROOT,
    ChildProcess,
    LatencyWatcher,
    LoadSampler,
    OutputCounter,
    RouteTopics,
    compare_offsets,
    create_route_topics,
    drain_backlog,
    expected_offsets,
    generated_feed,
    local_broker,
    machine_description,
    peak_rss_bytes,
    produce_backlog,
    produce_paced,
    quarantined_offsets,
    stop_worker,
    write_gate_config,
)
from _report import (
    GATES,
    GateResult,
    HeaderCost,
    Plan,
    RssProbe,
    report,
    summarise_profile,
    update_readme,
)

from dqgate.config.model import DEFAULT_BATCH_WAIT_S, GateConfig
from dqgate.testing.process import WorkerProcess, start_worker

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_GATES = (
    "batch", "faust", "quix", "confluent", "passthrough", "batch-no-headers", "batch-x2",
)  # fmt: skip
ENGINES = {
    "batch": "batch",
    "batch-alt-wait": "batch",
    "batch-x2": "batch",
    "faust": "faust",
    "faust-passthrough": "faust",
}
NO_LATENCY = ("gx-naive", "batch-no-headers", "batch-x2")
NOT_CHECKED = ("passthrough", "faust-passthrough")
"""Gates that quarantine nothing by design (no validation)."""
RSS_AT = 100_000

Process = WorkerProcess | ChildProcess


def start_gate(name: str, plan: Plan, topics: RouteTopics, *, log_suffix: str = "") -> Process:
    """Start the gate under test as a child process."""
    log_path = plan.workdir / f"{topics.source}{log_suffix}.log"
    if name in ENGINES or name == "batch-no-headers":
        wait_s = plan.alt_wait_s if name == "batch-alt-wait" else plan.batch_wait_s
        config = write_gate_config(
            plan.workdir / f"{topics.source}.yaml",
            plan.bootstrap,
            topics,
            validate=name != "faust-passthrough",
            settings={"batch_size": plan.batch_size, "batch_wait_s": wait_s},
        )
        run = ["--config", str(config), "--engine", ENGINES.get(name, "batch")]
        if name == "batch-no-headers":
            script = str(BENCH_DIR / "_dqgate_no_headers.py")
            command = [sys.executable, script, "--log-level", "WARNING", "run", *run]
            return ChildProcess([*command, "--metrics-address", "0"], log_path)
        return start_worker(run, log_path=log_path)  # adds --metrics-address 0
    routes = [
        "--bootstrap", plan.bootstrap, "--source", topics.source, "--clean", topics.clean,
        "--quarantine", topics.quarantine, "--group", topics.source,
    ]  # fmt: skip
    batching = ["--batch-size", str(plan.batch_size), "--batch-wait-s", str(plan.batch_wait_s)]
    if name == "quix":
        state = plan.workdir / f"{topics.source}-state"
        command = [plan.peer_python, str(BENCH_DIR / "_peer_quix.py"), *routes]
        return ChildProcess([*command, "--state-dir", str(state)], log_path)
    if name == "confluent":
        command = [plan.peer_python, str(BENCH_DIR / "_peer_confluent.py"), *routes, *batching]
        return ChildProcess(command, log_path)
    mode = {"passthrough": "passthrough", "gx-batch": "gx-batch", "gx-naive": "gx-naive"}[name]
    command = [sys.executable, str(BENCH_DIR / "_gates.py"), mode, *routes, *batching]
    return ChildProcess(command, log_path)


def stop_gate(process: Process) -> None:
    """Stop the gate under test (graceful first)."""
    if isinstance(process, WorkerProcess):
        stop_worker(process)
    else:
        process.stop()


async def bench_gate(name: str, plan: Plan) -> GateResult:
    """Backlog, latency at 50% of this gate's own throughput, (soak,) quarantine check."""
    count = plan.naive_count if name == "gx-naive" else plan.count
    topics = await create_route_topics(plan.bootstrap, f"bench-{name}")
    print(f"{name}: producing {count:,} records", file=sys.stderr, flush=True)
    ends = await produce_backlog(plan.bootstrap, topics.source, plan.feed[:count])
    soak = name == "batch" and plan.soak_count > count
    thresholds = [RSS_AT]
    if soak:
        thresholds += [plan.soak_count * k // 10 for k in range(1, 11)]
    process = start_gate(name, plan, topics)
    try:
        probe = RssProbe(process.pid, thresholds)
        async with OutputCounter(plan.bootstrap, topics.outputs, PARTITIONS) as counter:
            drained = await drain_backlog(
                counter, count, process.pid, on_count=probe.observe, alive=process.alive
            )
            result = GateResult(name=name, drained=drained)
            print(f"{name}: {drained.records_per_s:,.0f} records/s", file=sys.stderr, flush=True)
            routed = count
            if name not in NO_LATENCY:
                rate = drained.records_per_s / 2
                sent = max(1000, int(rate * plan.latency_s))
                await measure_latency(plan, topics, result, rate, sent)
                routed += sent
                await counter.wait_for(
                    routed, timeout_s=600, on_count=probe.observe, alive=process.alive
                )
            result.peak_rss = peak_rss_bytes(process.pid)
            if soak and plan.soak_count > routed:
                await run_soak(plan, topics, counter, probe, result, routed, process.alive)
            elif soak:
                result.note = f"no soak: {routed:,} records routed already (--soak-count)"
            result.rss_samples = probe.samples
    except BaseException:
        code = process.popen.poll()
        status = "still running" if code is None else f"exit code {code}"
        print(f"{name} failed ({status}); its log:\n{process.log_tail()}", file=sys.stderr)
        raise
    finally:
        stop_gate(process)
    await check_quarantine(plan, name, topics, ends, count, result)
    return result


async def check_quarantine(
    plan: Plan, name: str, topics: RouteTopics, ends: dict[int, int], count: int,
    result: GateResult,
) -> None:  # fmt: skip
    """Read the gate's quarantine topic back; compare with what the suite quarantines."""
    if name in NOT_CHECKED:
        result.check = "n/a (no validation)"
        return
    got = await quarantined_offsets(plan.bootstrap, topics.quarantine, ends)
    expected = plan.expected(count)
    result.quarantined = len(got.offsets)
    if name == "batch-no-headers":
        # no lineage by design: the backlog is all this gate saw, so count the topic
        if got.lineage_seen:
            result.failure = (
                f"{name}: its outputs carry lineage headers, so the variant no longer removes "
                "them (dqgate's routing changed: update bench/_dqgate_no_headers.py)"
            )
        elif got.untraced != len(expected):
            result.failure = (
                f"{name} quarantined {got.untraced:,} records, the suite {len(expected):,}"
            )
        result.quarantined = got.untraced
    else:
        result.failure = compare_offsets(name, got, expected)
        result.duplicates = got.duplicates
    same = "same count, no lineage" if name == "batch-no-headers" else "same offsets"
    result.check = "**MISMATCH**" if result.failure else same
    if result.failure:
        print(f"QUARANTINE CHECK FAILED: {result.failure}", file=sys.stderr, flush=True)


async def measure_latency(
    plan: Plan, topics: RouteTopics, result: GateResult, rate: float, sent: int
) -> None:
    """Offer ``sent`` records at ``rate``; keep each output's arrival - send time."""
    records = itertools.islice(itertools.cycle(plan.feed), sent)
    result.expected_latencies = sent
    print(f"{result.name}: latency at {rate:,.0f} records/s", file=sys.stderr, flush=True)
    async with LatencyWatcher(plan.bootstrap, topics.outputs, PARTITIONS) as watcher:
        result.offered_per_s = await produce_paced(plan.bootstrap, topics.source, records, rate)
        # a gate that cannot keep up gets a bounded wait: its figures are then partial
        await watcher.wait_for(sent, timeout_s=max(30.0, plan.latency_s))
        result.latencies_ms = list(watcher.latencies_ms)


async def run_soak(
    plan: Plan,
    topics: RouteTopics,
    counter: OutputCounter,
    probe: RssProbe,
    result: GateResult,
    routed: int,
    alive: Callable[[], bool],
) -> None:
    """Feed the gate up to ``soak_count`` records in all; profile it under that load."""
    more = plan.soak_count - routed
    print(f"{result.name}: soak, {more:,} more records", file=sys.stderr, flush=True)
    records = list(itertools.islice(itertools.cycle(plan.feed), more))
    await produce_backlog(plan.bootstrap, topics.source, records)
    profiling = asyncio.create_task(profile(probe.pid, plan))
    await counter.wait_for(
        plan.soak_count, timeout_s=3600, poll_s=0.5, on_count=probe.observe, alive=alive
    )
    result.profile = await profiling


async def bench_scale_out(plan: Plan, workers: int = 2) -> GateResult:
    """``workers`` batch-engine workers in one group, each holding its partitions first.

    The workers start on the empty source topic; once each holds its share of the 4
    partitions they are stopped (SIGSTOP) while the backlog is produced, then continued
    together, so the timed span has no rebalance and no start-up in it.
    """
    name = "batch-x2"
    topics = await create_route_topics(plan.bootstrap, f"bench-{name}")
    processes = [start_gate(name, plan, topics, log_suffix=f"-{i}") for i in range(workers)]
    try:
        await wait_assigned(processes, topics.source, workers)
        for process in processes:
            os.killpg(process.pid, signal.SIGSTOP)
        try:
            print(f"{name}: producing {plan.count:,} records", file=sys.stderr, flush=True)
            ends = await produce_backlog(plan.bootstrap, topics.source, plan.feed[: plan.count])
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGCONT)
        pids = [p.pid for p in processes]
        async with OutputCounter(plan.bootstrap, topics.outputs, PARTITIONS) as counter:
            drained = await drain_backlog(
                counter, plan.count, pids, alive=lambda: all(p.alive() for p in processes)
            )
        result = GateResult(name=name, drained=drained, workers=workers)
        result.peak_rss = max(peak_rss_bytes(pid) for pid in pids)
        held = await asyncio.to_thread(partitions_held, processes, topics.source)
        if sorted(len(h) for h in held) != sorted(_shares(workers)):
            result.note = f"partitions held after the run: {held} (a rebalance happened)"
        print(f"{name}: {drained.records_per_s:,.0f} records/s", file=sys.stderr, flush=True)
    except BaseException:
        for process in processes:
            print(f"{name} failed; a worker's log:\n{process.log_tail()}", file=sys.stderr)
        raise
    finally:
        for process in processes:
            stop_gate(process)
    await check_quarantine(plan, name, topics, ends, plan.count, result)
    return result


def _shares(workers: int) -> list[int]:
    return [len(range(i, PARTITIONS, workers)) for i in range(workers)]


async def wait_assigned(processes: list[Process], source: str, workers: int) -> None:
    """Until every worker is ready and holds its share of the source's partitions."""
    for process in processes:
        assert isinstance(process, WorkerProcess)
        await asyncio.to_thread(process.wait_ready, 180.0)
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline:
        held = await asyncio.to_thread(partitions_held, processes, source)
        if sorted(len(h) for h in held) == sorted(_shares(workers)):
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{workers} workers did not share the partitions within 120 s: {held}")


def partitions_held(processes: list[Process], source: str) -> list[list[int]]:
    """The source partitions each worker holds (its /healthz)."""
    held = []
    for process in processes:
        assert isinstance(process, WorkerProcess)
        held.append(list(process.status().get("partitions", {}).get(source, [])))
    return held


def py_spy() -> str | None:
    """The py-spy executable (the virtualenv's first), or None."""
    import shutil

    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def profile(pid: int, plan: Plan) -> str:
    """py-spy samples of the worker under load, as Markdown ('' without py-spy)."""
    import shutil

    executable = py_spy()
    if executable is None or plan.profile_s <= 0:
        return "py-spy is not installed (`make bench` installs it): no profile taken.\n"
    out = plan.workdir / "batch-profile.txt"
    process = await asyncio.create_subprocess_exec(
        executable, "record", "--pid", str(pid), "--duration", str(int(plan.profile_s)),
        "--rate", "100", "--format", "raw", "--nonblocking", "--output", str(out),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0 or not out.exists():
        return f"py-spy failed: {stderr.decode(errors='replace').strip()[-500:]}\n"
    OUT_DIR.mkdir(exist_ok=True)
    shutil.copyfile(out, OUT_DIR / "batch-profile.txt")
    return summarise_profile(out.read_text(), plan.profile_s)


def validation_alone(plan: Plan, batch: int = 10_000) -> tuple[float, float]:
    """bench/bench_validate.py's measurement on the run's records: dqgate's
    ``evaluate_batch`` (native decider on, best of 3, batches of the run's size) and GX's
    engine on batches of ``batch``."""
    import json

    import bench_validate  # a sibling script, not a package

    source = json.loads((ROOT / "expectations" / "incident_reports.json").read_text())
    values = [r.value for r in plan.feed if r.value is not None]
    best = bench_validate.bench_dqgate({"example": (source, values)}, 3, plan.batch_size)
    dq = best.get(("example", True)) or best[("example", False)]
    return dq, bench_validate.bench_gx(source, values, batch)


def header_cost(plan: Plan, records: int = 100_000, rounds: int = 5) -> HeaderCost:
    """CPU µs per record of the routing headers, in process (best of ``rounds``, the
    variants interleaved, the garbage collector off while timing).

    Two places: building them, as ``RouteHeaders.route_batch`` (what
    ``RouteProcessor.prepare`` calls per batch for both engines) on the run's records and
    the verdicts ``prepare`` gave them, in batches of the run's size, against the same
    batches through ``_dqgate_no_headers``' topic-picking replacement; and encoding them,
    as the producer's record batches (aiokafka's ``BatchBuilder.append`` and ``_build``)
    of those outputs with and without the headers.
    """
    import _dqgate_no_headers
    from aiokafka.producer.message_accumulator import BatchBuilder
    from prometheus_client import CollectorRegistry

    from dqgate.gate.circuit import CircuitBreaker
    from dqgate.gate.processor import RouteProcessor
    from dqgate.metrics import GateMetrics
    from dqgate.routing import RouteHeaders, RouteTarget, SourceRecord, quarantined_at
    from dqgate.suites import compile_suite

    suite = compile_suite(ROOT / "expectations" / "incident_reports.json")
    now_ms = time.time_ns() // 1_000_000
    source = "bench-batch-0123abcd"
    target = RouteTarget(
        clean=f"{source}.clean", quarantine=f"{source}.quarantine",
        suite_name=suite.name, suite_hash=suite.hash,
    )  # fmt: skip
    consumed = [
        SourceRecord(
            topic=source,
            partition=i & 3,
            offset=i >> 2,
            timestamp=now_ms,
            key=r.key,
            value=r.value,
        )
        for i, r in enumerate(plan.feed[:records])
    ]
    batches = [consumed[i : i + plan.batch_size] for i in range(0, len(consumed), plan.batch_size)]
    processor = RouteProcessor(
        route_name=source, suite=suite, target=target,
        metrics=GateMetrics(CollectorRegistry()), breaker=CircuitBreaker(None),
    )  # fmt: skip

    async def prepare_all() -> list[Any]:
        return [(await processor.prepare(batch)).verdicts for batch in batches]

    verdicts = asyncio.run(prepare_all())
    at = quarantined_at(now_ms)
    # the bench's own patch module, and aiokafka's BatchBuilder (no public encode step)
    full = getattr(RouteHeaders, _dqgate_no_headers._PATCHED)  # noqa: SLF001
    bare = _dqgate_no_headers._route_only  # noqa: SLF001

    def route_all(route: Callable[..., list[Any]]) -> list[Any]:
        headers = RouteHeaders(target)
        outputs = []
        for batch, judged in zip(batches, verdicts, strict=True):
            outputs += route(headers, batch, judged, at)
        return outputs

    def encode(outputs: list[Any]) -> None:
        builder = BatchBuilder(512 * 1024, 0)
        for _topic, key, value, headers, stamp in outputs:
            if not builder.append(timestamp=stamp, key=key, value=value, headers=headers):
                builder._build()  # noqa: SLF001
                builder = BatchBuilder(512 * 1024, 0)
                builder.append(timestamp=stamp, key=key, value=value, headers=headers)
        builder._build()  # noqa: SLF001

    def timed(fn: Callable[[], object]) -> float:
        """CPU µs per record of one call, the garbage collector off (as timeit does)."""
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            fn()
            return (time.process_time() - started) / len(consumed) * 1e6
        finally:
            gc.enable()

    with_headers, without = route_all(full), route_all(bare)
    runs: dict[str, list[float]] = {"route": [], "bare": [], "encode": [], "encode_bare": []}
    for _ in range(rounds):  # interleaved, so that drift on a shared machine hits both
        runs["route"].append(timed(lambda: route_all(full)))
        runs["bare"].append(timed(lambda: route_all(bare)))
        runs["encode"].append(timed(lambda: encode(with_headers)))
        runs["encode_bare"].append(timed(lambda: encode(without)))
    return HeaderCost(
        route_us=min(runs["route"]),
        route_bare_us=min(runs["bare"]),
        encode_us=min(runs["encode"]),
        encode_bare_us=min(runs["encode_bare"]),
        header_bytes=sum(
            len(k) + len(v or b"") for *_, headers, _stamp in with_headers for k, v in headers
        )
        / len(consumed),
        records=len(consumed),
    )


def peer_versions(peer_python: str) -> str:
    """quixstreams, confluent-kafka and librdkafka versions in the peers' virtualenv."""
    code = (
        "import quixstreams, confluent_kafka; "
        "print(f'quixstreams {quixstreams.__version__}, confluent-kafka "
        "{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})')"
    )
    try:
        found = subprocess.run(
            [peer_python, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown ({type(exc).__name__})"
    return found.stdout.strip()


async def run_gates(plan: Plan, names: list[str]) -> dict[str, GateResult]:
    """Each gate in turn, in the order given."""
    results: dict[str, GateResult] = {}
    for name in names:
        if name == "batch-x2":
            results[name] = await bench_scale_out(plan)
        else:
            results[name] = await bench_gate(name, plan)
    return results


def main() -> None:
    """Parse arguments, run everything, print and save the results."""
    defaults = GateConfig.__dataclass_fields__
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200_000, help="backlog per gate")
    parser.add_argument("--soak-count", type=int, default=1_000_000, help="batch gate in all")
    parser.add_argument("--naive-count", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"].default)
    parser.add_argument("--batch-wait-s", type=float, default=DEFAULT_BATCH_WAIT_S)
    parser.add_argument("--alt-wait-s", type=float, default=0.2, help="of batch-alt-wait")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    parser.add_argument(
        "--gates", default=",".join(DEFAULT_GATES), help=f"comma-separated, of {', '.join(GATES)}"
    )
    parser.add_argument(
        "--peer-python",
        default=str(ROOT / ".venv" / "bench" / "bin" / "python"),
        help="the interpreter of the quix and confluent peers (the bench extra installed)",
    )
    parser.add_argument("--bootstrap", default=None, help="use this broker (else start one)")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGUSR1, _dump_tasks)
    names = [n for n in args.gates.split(",") if n]
    unknown = set(names) - set(GATES)
    if unknown or not names:
        parser.error(f"--gates: known {', '.join(GATES)}; got {', '.join(sorted(unknown))}")
    if {"quix", "confluent"} & set(names) and not Path(args.peer_python).exists():
        parser.error(
            f"--peer-python {args.peer_python} does not exist: `make bench` creates it "
            "(the bench extra in its own virtualenv)"
        )
    command = "bench_compare.py " + " ".join(sys.argv[1:])
    started = time.monotonic()
    machine = machine_description()
    feed = generated_feed(max(args.count, args.naive_count))
    plan = Plan(
        bootstrap="", feed=feed, workdir=Path(), count=args.count, naive_count=args.naive_count,
        soak_count=args.soak_count, batch_size=args.batch_size, batch_wait_s=args.batch_wait_s,
        alt_wait_s=args.alt_wait_s, latency_s=args.latency_seconds,
        profile_s=args.profile_seconds, peer_python=args.peer_python,
    )  # fmt: skip
    check_peer_checks(plan)
    with LoadSampler() as load, tempfile.TemporaryDirectory(prefix="dqgate-bench-") as tmp:
        with local_broker(args.bootstrap) as bootstrap:
            plan = plan.at(bootstrap, Path(tmp))
            results = asyncio.run(run_gates(plan, names))
        print("validation alone and the headers' cost (broker stopped)", file=sys.stderr)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        try:
            validation: tuple[float, float] | str = validation_alone(plan)
        except Exception as exc:  # noqa: BLE001 - another script's API: its change must not cost the run
            validation = f"not measured: bench_validate.py raised {type(exc).__name__}: {exc}"
        try:
            headers: HeaderCost | str = header_cost(plan)
        except Exception as exc:  # noqa: BLE001 - dqgate's internals move: keep the other figures
            headers = f"not measured in process: {type(exc).__name__}: {exc}"
    markdown = report(
        plan, results, validation, headers, machine=machine, load=load.summary(),
        took_s=time.monotonic() - started, command=command,
        peers=peer_versions(args.peer_python) if {"quix", "confluent"} & set(names) else "",
    )  # fmt: skip
    print(markdown)
    OUT_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"bench_compare-{stamp}.md").write_text(markdown)
    failures = [r.failure for r in results.values() if r.failure]
    if failures:
        for failure in failures:
            print(f"QUARANTINE CHECK FAILED: {failure}", file=sys.stderr)
        raise SystemExit("the gates did not quarantine the same source offsets; README untouched")
    if args.update_readme:
        update_readme(markdown)


def check_peer_checks(plan: Plan) -> None:
    """The peers' hand-written checks agree with dqgate's compiled suite on the run's records
    (before any broker work: a disagreement here is in the checks, not in a gate)."""
    from _peer_checks import quarantines

    from dqgate.suites import compile_suite
    from dqgate.verdict import Outcome

    suite = compile_suite(ROOT / "expectations" / "incident_reports.json")
    differ = [
        i
        for i, r in enumerate(plan.feed)
        if quarantines(r.value) != (suite.evaluate(r.value or b"").outcome is not Outcome.PASS)
    ]
    if differ:
        raise SystemExit(
            f"bench/_peer_checks.py disagrees with the suite on {len(differ):,} of "
            f"{len(plan.feed):,} records, e.g. feed records {differ[:5]}"
        )
    plan.expected_cache[len(plan.feed)] = expected_offsets(plan.feed, quarantines)


def _dump_tasks(signum: int, frame: Any) -> None:
    """SIGUSR1: print where every task of the run waits (for a run that seems stuck)."""
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:
        print("no event loop running", file=sys.stderr, flush=True)
        return
    for task in tasks:
        print(f"task {task.get_name()}:", file=sys.stderr)
        awaited: Any = task.get_coro()
        while awaited is not None:
            code = getattr(awaited, "cr_code", None) or getattr(awaited, "gi_code", None)
            line = getattr(getattr(awaited, "cr_frame", None), "f_lineno", "?")
            if code is not None:
                print(f"  {code.co_filename}:{line} {code.co_name}", file=sys.stderr)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    sys.stderr.flush()


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM ends the run like Ctrl-C: every ``finally`` stops its children."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    main()
