"""Where dqgate stands against the alternatives and against the limit (issue #7).

Run: ``make bench`` (``BENCH_COUNT``, ``BENCH_SOAK_COUNT``, ``BENCH_ARGS``), or
``.venv/bin/python bench/bench_compare.py [--count N] [--soak-count N] [--update-readme]``.

One run, one local broker (the project's own, started on a temporary data dir and always
stopped), the same generated incident reports (seed 1, 10% defects), the example suite
``expectations/incident_reports.json``, 3 partitions, batches of 1,000. Each gate under
test is its own process (CPU and RSS are read from its /proc entry) on fresh topics:

1. ceiling A: plain aiokafka consume -> produce pass-through (``bench/_gates.py raw``);
2. ceiling B: ``dqgate run`` with the route's ``validate: false`` (faust, the gate's
   settings, routing and metrics; no validation);
3. dqgate: ``dqgate run`` with the example suite;
4. naive GX: each record validated by GX's engine alone (``--naive-count`` records; the
   rate is extrapolated);
5. micro-batch GX: GX's engine on batches of 1,000 (``bench/_gates.py gx-batch``).

Per gate: a backlog of ``--count`` records is produced first; throughput is timed from
the first output to the last (output topics' end offsets), with the gate's CPU seconds
over the same span. Then a paced producer offers 50% of dqgate's measured throughput for
``--latency-seconds``, each record stamped with its send time; a consumer of the outputs
takes arrival time - record timestamp (the gates keep the source timestamp) for p50/p99.
dqgate then takes records up to ``--soak-count`` in all (RSS sampled on the way) while
py-spy (if installed) profiles it. Last, with the broker stopped: validation alone, in
process, pinned to one core (``bench/bench_validate.py``'s measurement).

Prints the Markdown results and writes them to ``bench/out/bench_compare-<time>.md``
(git-ignored); ``--update-readme`` also replaces the block between the
``bench_compare`` markers in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dqgate.config.model import DEFAULT_BATCH_WAIT_S

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # a sibling module, not a package
    OUT_DIR,
    ChildProcess,
    Drained,
    LatencyWatcher,
    LoadSampler,
    OutputCounter,
    RouteTopics,
    create_route_topics,
    drain_backlog,
    generated_feed,
    local_broker,
    machine_description,
    peak_rss_bytes,
    percentile,
    produce_all,
    produce_paced,
    rss_bytes,
    stop_worker,
    write_gate_config,
)

from dqgate.testing.feed import FeedRecord
from dqgate.testing.process import WorkerProcess, start_worker

BENCH_DIR = Path(__file__).resolve().parent
README = BENCH_DIR / "README.md"
BEGIN, END = "<!-- bench_compare:begin -->", "<!-- bench_compare:end -->"
MIB = 1024 * 1024
RSS_AT = 100_000

GATES = {
    "dqgate": "dqgate, example suite (`dqgate run`)",
    "dqgate-alt-wait": "dqgate, example suite, `batch_wait_s` {alt_wait}",
    "ceiling-b": "ceiling B: faust pass-through (`dqgate run`, `validate: false`)",
    "ceiling-a": "ceiling A: aiokafka pass-through",
    "gx-batch": "micro-batch GX (batches of 1,000)",
    "gx-naive": "naive GX (one record at a time)",
}


@dataclass(slots=True, kw_only=True)
class GateResult:
    """What one gate did."""

    name: str
    drained: Drained
    offered_per_s: float = float("nan")
    latencies_ms: list[int] = field(default_factory=list)
    expected_latencies: int = 0
    peak_rss: int = 0
    rss_samples: list[tuple[int, int]] = field(default_factory=list)
    profile: str = ""

    @property
    def cpu_s_per_100k(self) -> float:
        """CPU seconds of the gate process per 100,000 records (backlog phase)."""
        routed = self.drained.routed
        return self.drained.cpu_s / routed * 100_000 if routed else float("nan")

    @property
    def kept_up(self) -> bool:
        """True when every record of the paced phase arrived."""
        return len(self.latencies_ms) >= self.expected_latencies > 0


class RssProbe:
    """Samples a process's RSS whenever the routed count passes the next threshold."""

    def __init__(self, pid: int, thresholds: list[int]) -> None:
        self.pid = pid
        self.pending = sorted(set(thresholds))
        self.samples: list[tuple[int, int]] = []

    def observe(self, routed: int) -> None:
        """Called with the routed count after every poll."""
        if self.pending and routed >= self.pending[0]:
            self.pending = [n for n in self.pending if n > routed]
            self.samples.append((routed, rss_bytes(self.pid)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The run's parameters."""

    bootstrap: str
    feed: list[FeedRecord]
    workdir: Path
    count: int
    naive_count: int
    soak_count: int
    batch_size: int
    batch_wait_s: float
    alt_wait_s: float
    latency_s: float
    profile_s: float


def start_gate(name: str, plan: Plan, topics: RouteTopics) -> WorkerProcess | ChildProcess:
    """Start the gate under test as a child process."""
    log_path = plan.workdir / f"{topics.source}.log"
    if name in ("dqgate", "dqgate-alt-wait", "ceiling-b"):
        wait_s = plan.alt_wait_s if name == "dqgate-alt-wait" else plan.batch_wait_s
        config = write_gate_config(
            plan.workdir / f"{topics.source}.yaml",
            plan.bootstrap,
            topics,
            validate=name != "ceiling-b",
            settings={"batch_size": plan.batch_size, "batch_wait_s": wait_s},
        )
        return start_worker(["--config", str(config)], log_path=log_path)
    mode = {"ceiling-a": "raw", "gx-batch": "gx-batch", "gx-naive": "gx-naive"}[name]
    command = [
        sys.executable, str(BENCH_DIR / "_gates.py"), mode, "--bootstrap", plan.bootstrap,
        "--source", topics.source, "--clean", topics.clean, "--quarantine", topics.quarantine,
        "--group", topics.source, "--batch-size", str(plan.batch_size),
        "--batch-wait-s", str(plan.batch_wait_s),
    ]  # fmt: skip
    return ChildProcess(command, log_path)


def stop_gate(process: WorkerProcess | ChildProcess) -> None:
    """Stop the gate and its whole process group."""
    if isinstance(process, WorkerProcess):
        stop_worker(process)
    else:
        process.stop()


async def bench_gate(name: str, plan: Plan, offered_per_s: float | None) -> GateResult:
    """Backlog throughput, then latency at ``offered_per_s`` (None: 50% of this gate's)."""
    count = plan.naive_count if name == "gx-naive" else plan.count
    topics = await create_route_topics(plan.bootstrap, f"bench-{name}")
    await produce_all(plan.bootstrap, topics.source, plan.feed[:count])
    process = start_gate(name, plan, topics)
    soak = name == "dqgate" and plan.soak_count > count
    thresholds = [RSS_AT] if name == "dqgate" else []
    thresholds += [plan.soak_count * k // 10 for k in range(1, 11)] if soak else []
    probe = RssProbe(process.pid, thresholds)
    print(f"{name}: routing a backlog of {count:,} records", file=sys.stderr, flush=True)
    try:
        async with OutputCounter(plan.bootstrap, topics.outputs) as counter:
            drained = await drain_backlog(
                counter, count, process.pid, on_count=probe.observe, alive=process.alive
            )
            result = GateResult(name=name, drained=drained)
            print(f"{name}: {drained.records_per_s:,.0f} records/s", file=sys.stderr, flush=True)
            routed = count
            rate = offered_per_s if offered_per_s is not None else drained.records_per_s / 2
            result.offered_per_s = rate
            if name != "gx-naive":
                sent = max(1000, int(rate * plan.latency_s))
                await measure_latency(plan, topics, result, rate, sent)
                routed += sent
                await counter.wait_for(routed, timeout_s=600, on_count=probe.observe)
            result.peak_rss = peak_rss_bytes(process.pid)
            if soak:
                await run_soak(plan, topics, counter, probe, result, routed)
            result.rss_samples = probe.samples
            return result
    except BaseException:
        print(f"{name} failed; its log:\n{process.log_tail()}", file=sys.stderr)
        raise
    finally:
        stop_gate(process)


async def measure_latency(
    plan: Plan, topics: RouteTopics, result: GateResult, rate: float, sent: int
) -> None:
    """Offer ``sent`` records at ``rate``; keep each output's arrival - send time."""
    records = itertools.islice(itertools.cycle(plan.feed), sent)
    result.expected_latencies = sent
    print(f"{result.name}: latency at {rate:,.0f} records/s", file=sys.stderr, flush=True)
    async with LatencyWatcher(plan.bootstrap, topics.outputs) as watcher:
        await produce_paced(plan.bootstrap, topics.source, records, rate)
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
) -> None:
    """Feed dqgate up to ``soak_count`` records in all; profile it under that load."""
    more = plan.soak_count - routed
    print(f"dqgate: soak, {more:,} more records", file=sys.stderr, flush=True)
    records = itertools.islice(itertools.cycle(plan.feed), more)
    await produce_all(plan.bootstrap, topics.source, records)
    profiling = asyncio.create_task(profile(probe.pid, plan))
    await counter.wait_for(plan.soak_count, timeout_s=3600, poll_s=0.5, on_count=probe.observe)
    result.profile = await profiling


def py_spy() -> str | None:
    """The py-spy executable (the virtualenv's first), or None."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def profile(pid: int, plan: Plan) -> str:
    """py-spy samples of the dqgate worker under load, as Markdown ('' without py-spy)."""
    executable = py_spy()
    if executable is None or plan.profile_s <= 0:
        return "py-spy is not installed (`make bench` installs it): no profile taken.\n"
    out = plan.workdir / "dqgate-profile.txt"
    process = await asyncio.create_subprocess_exec(
        executable, "record", "--pid", str(pid), "--duration", str(int(plan.profile_s)),
        "--rate", "100", "--format", "raw", "--nonblocking", "--output", str(out),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0 or not out.exists():
        return f"py-spy failed: {stderr.decode(errors='replace').strip()[-500:]}\n"
    keep = OUT_DIR / "dqgate-profile.txt"
    OUT_DIR.mkdir(exist_ok=True)
    shutil.copyfile(out, keep)
    return summarise_profile(out.read_text(), plan.profile_s)


_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    path = found["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"`{found['fn']}` ({path})"


_PACKAGES = ("dqgate", "faust", "mode", "aiokafka", "asyncio", "orjson", "prometheus_client")


def _package(name: str) -> str:
    where = name.rsplit("(", 1)[-1]
    return next((p for p in _PACKAGES if where.startswith(p + "/")), "other (stdlib, C)")


def summarise_profile(raw: str, seconds: float, top: int = 12) -> str:
    """Top self and inclusive items of py-spy's raw (collapsed stacks) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        samples = int(number)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += samples
        own[frames[-1]] += samples
        packages[_package(frames[-1])] += samples
        for name in set(frames):
            inclusive[name] += samples
    if not total:
        return "py-spy recorded no samples.\n"
    lines = [
        f"py-spy, {seconds:.0f} s at 100 Hz, {total:,} non-idle samples (all threads).\n",
        "| self % | function (where) |",
        "|---:|---|",
    ]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in own.most_common(top)]
    lines += ["", "| self % by package | package |", "|---:|---|"]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in packages.most_common()]
    lines += ["", "| inclusive % | function (where) |", "|---:|---|"]
    # below 60%: leaves out the entry chain (main, run_gate, the event loop itself)
    shown = [(name, n) for name, n in inclusive.most_common() if n < 0.6 * total]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in shown[: top + 8]]
    return "\n".join(lines) + "\n"


def validation_alone(plan: Plan, batch: int = 10_000) -> tuple[float, float]:
    """bench/bench_validate.py's measurement on the run's records, pinned to one core."""
    import bench_validate  # a sibling script, not a package

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    values = [r.value for r in plan.feed if r.value is not None]
    return bench_validate.bench_dqgate(values, 3), bench_validate.bench_gx(values, batch)


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def report(
    plan: Plan,
    results: dict[str, GateResult],
    validation: tuple[float, float],
    *,
    machine: dict[str, str],
    load: str,
    took_s: float,
    command: str,
) -> str:
    """The results as Markdown."""
    dq = results["dqgate"]
    rate = dq.drained.records_per_s
    today = dt.date.today().isoformat()
    out = [
        f"Run {today}: `{command}`, {took_s / 60:.1f} minutes in all.",
        "",
        f"Machine (shared with other work): {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram']} RAM, {machine['python']}, {machine['kernel']}; 1-minute load "
        f"average during the run (min / mean / max of samples every 5 s): {load}. The "
        "broker, the gate under test and the benchmark's producer and reader share the cores.",
        "",
        f"Records: {plan.count:,} generated incident reports (seed 1, 10% defects) per gate "
        f"({plan.naive_count:,} for naive GX); 3 partitions; batches of {plan.batch_size:,}, "
        f"batch wait {plan.batch_wait_s:g} s. Latency: {dq.offered_per_s:,.0f} records/s "
        f"offered (50% of dqgate's throughput) for {plan.latency_s:g} s.",
        "",
        "| gate | records/s | p50 latency ms | p99 latency ms | CPU s per 100k records "
        "| peak RSS MiB | dqgate ÷ this |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, template in GATES.items():
        r = results.get(name)
        if r is None:
            continue
        label = template.format(alt_wait=f"{plan.alt_wait_s:g} s")
        thr = r.drained.records_per_s
        p50 = percentile(r.latencies_ms, 0.50)
        p99 = percentile(r.latencies_ms, 0.99)
        p50s, p99s = _ms(p50), _ms(p99)
        if name == "gx-naive":
            p50s = p99s = f"- (cannot take {r.offered_per_s:,.0f}/s)"
        elif r.latencies_ms and not r.kept_up:
            got = len(r.latencies_ms)
            p99s = f"> {p99s} (fell behind: {got:,} of {r.expected_latencies:,} arrived)"
        note = " (extrapolated)" if name == "gx-naive" else ""
        out.append(
            f"| {label} | {thr:,.1f}{note} | {p50s} | {p99s} | {r.cpu_s_per_100k:,.1f}{note} "
            f"| {r.peak_rss / MIB:,.0f} | {rate / thr:,.2f} |"
        )
    dq_alone, gx_alone = validation
    out += [
        "",
        f"Validation alone, in process, one pinned core, the same {len(plan.feed):,} records "
        "(`bench_validate.py`'s measurement; the broker already stopped):",
        "",
        "| what | records/s |",
        "|---|---:|",
        f"| dqgate `CompiledSuite.evaluate` (bytes in, best of 3) | {dq_alone:,.0f} |",
        f"| GX 1.24 engine, batches of 10,000 | {gx_alone:,.0f} |",
        f"| ratio | {dq_alone / gx_alone:.1f}x |",
        "",
    ]
    if dq.rss_samples:
        samples = ", ".join(f"{n:,}: {rss / MIB:,.0f}" for n, rss in dq.rss_samples)
        first = next((rss for n, rss in dq.rss_samples if n >= RSS_AT), dq.rss_samples[0][1])
        last_n, last = dq.rss_samples[-1]
        out += [
            f"dqgate's RSS (MiB) after N records routed: {samples}. After {last_n:,}: "
            f"{last / MIB:,.0f} MiB vs {first / MIB:,.0f} MiB after {RSS_AT:,} "
            f"({100 * (last / first - 1):+.1f}%).",
            "",
        ]
    out += targets(results, validation, alt_wait_s=plan.alt_wait_s)
    if dq.profile:
        out += ["", "Profile of the dqgate worker during the soak (backlog, full load):", ""]
        out.append(dq.profile.rstrip())
    return "\n".join(out) + "\n"


def targets(
    results: dict[str, GateResult], validation: tuple[float, float], *, alt_wait_s: float
) -> list[str]:
    """The issue's targets, each with the measured value and whether it is met."""
    dq = results["dqgate"].drained.records_per_s
    rows: list[tuple[str, str, bool]] = []

    def ratio_row(name: str, target: str, check: Callable[[float], bool], fmt: str) -> None:
        other = results.get(name)
        if other is not None:
            ratio = dq / other.drained.records_per_s
            rows.append((target, fmt.format(ratio), check(ratio)))

    ratio_row("ceiling-b", "dqgate ≥ 90% of ceiling B", lambda r: r >= 0.9, "{:.1%}")
    ratio_row("ceiling-a", "dqgate vs ceiling A (profile below 50%)", lambda r: r >= 0.5,
              "{:.0%}")  # fmt: skip
    ratio_row("gx-naive", "dqgate ≥ 1000x naive GX", lambda r: r >= 1000, "{:,.0f}x")
    ratio_row("gx-batch", "dqgate faster than micro-batch GX", lambda r: r > 1, "{:.2f}x")
    for name in ("dqgate", "dqgate-alt-wait"):
        if name in results:
            p99 = percentile(results[name].latencies_ms, 0.99)
            wait = "" if name == "dqgate" else f" (`batch_wait_s` {alt_wait_s:g} s)"
            rows.append((f"dqgate p99 ≤ 100 ms at 50% load{wait}", f"{p99:,.0f} ms", p99 <= 100))
    alone = validation[0]
    rows.append(("validation alone ≥ 200,000 records/s", f"{alone:,.0f}/s", alone >= 200_000))
    lines = ["| target | measured | met |", "|---|---:|---|"]
    lines += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in rows]
    return lines


def update_readme(markdown: str) -> None:
    """Replace the text between the bench_compare markers in bench/README.md."""
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{README}: the markers {BEGIN} / {END} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{markdown}{END}{tail}")


async def run_gates(plan: Plan, names: list[str]) -> dict[str, GateResult]:
    """dqgate first (its throughput sets the offered load), then the others."""
    results = {"dqgate": await bench_gate("dqgate", plan, None)}
    offered = results["dqgate"].offered_per_s
    for name in names:
        if name != "dqgate":
            results[name] = await bench_gate(name, plan, offered)
    return results


def main() -> None:
    """Parse arguments, run everything, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="backlog per gate")
    parser.add_argument("--soak-count", type=int, default=1_000_000, help="dqgate in all")
    parser.add_argument("--naive-count", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--batch-wait-s", type=float, default=DEFAULT_BATCH_WAIT_S, help="the gate's default"
    )
    parser.add_argument(
        "--alt-wait-s",
        type=float,
        default=0.2,
        help="batch_wait_s of dqgate-alt-wait (0.2: the default before 2026-11-28)",
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--profile-seconds", type=float, default=30.0)
    parser.add_argument("--gates", default=",".join(GATES), help="comma-separated subset")
    parser.add_argument("--bootstrap", default=None, help="use this broker (else start one)")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    names = [n for n in args.gates.split(",") if n]
    unknown = set(names) - set(GATES)
    if unknown or "dqgate" not in names:
        parser.error(f"--gates: known {', '.join(GATES)} (dqgate required); got {unknown}")
    command = "bench_compare.py " + " ".join(sys.argv[1:])
    started = time.monotonic()
    machine = machine_description()
    feed = generated_feed(max(args.count, args.naive_count))
    with LoadSampler() as load, tempfile.TemporaryDirectory(prefix="dqgate-bench-") as tmp:
        with local_broker(args.bootstrap) as bootstrap:
            plan = Plan(
                bootstrap=bootstrap, feed=feed, workdir=Path(tmp), count=args.count,
                naive_count=args.naive_count, soak_count=args.soak_count,
                batch_size=args.batch_size, batch_wait_s=args.batch_wait_s,
                alt_wait_s=args.alt_wait_s,
                latency_s=args.latency_seconds, profile_s=args.profile_seconds,
            )  # fmt: skip
            results = asyncio.run(run_gates(plan, names))
        print("validation alone (broker stopped)", file=sys.stderr, flush=True)
        validation = validation_alone(plan)
    markdown = report(
        plan, results, validation, machine=machine, load=load.summary(),
        took_s=time.monotonic() - started, command=command,
    )  # fmt: skip
    print(markdown)
    OUT_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"bench_compare-{stamp}.md").write_text(markdown)
    if args.update_readme:
        update_readme(markdown)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM ends the run like Ctrl-C: every ``finally`` stops its children."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    main()
