"""bench_compare.py's values and its Markdown: results, the issue's targets, the profile."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from _common import PARTITIONS, Drained, percentile, rss_bytes

from dqgate.testing.feed import FeedRecord

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- bench_compare:begin -->", "<!-- bench_compare:end -->"
MIB = 1024 * 1024
RSS_AT = 100_000
RSS_FLAT = 0.05
"""RSS counts as flat when it grew by at most this share from 100,000 records to the end."""

GATES = {
    "batch": "dqgate `engine: batch`",
    "faust": "dqgate `engine: faust`",
    "quix": "Quix Streams app, hand-written checks",
    "confluent": "confluent-kafka batch loop, hand-written checks",
    "passthrough": "aiokafka pass-through (the batch engine's batching, no checks)",
    "batch-no-headers": "dqgate `engine: batch` without routing headers (bench variant)",
    "batch-x2": "dqgate `engine: batch`, 2 workers on the 4 partitions",
    "batch-alt-wait": "dqgate `engine: batch`, `batch_wait_s` {alt_wait}",
    "faust-passthrough": "dqgate `engine: faust`, `validate: false`",
    "gx-batch": "micro-batch GX (batches of {batch})",
    "gx-naive": "naive GX (one record at a time; {naive} records)",
}
"""Every gate the bench knows, in the order of the results table."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The run's parameters (``bootstrap`` and ``workdir`` set once the broker runs)."""

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
    peer_python: str
    expected_cache: dict[int, set[tuple[int, int]]] = field(default_factory=dict)

    def at(self, bootstrap: str, workdir: Path) -> Plan:
        """This plan on a running broker."""
        return dataclasses.replace(self, bootstrap=bootstrap, workdir=workdir)

    def expected(self, count: int) -> set[tuple[int, int]]:
        """(partition, offset) the suite quarantines among the feed's first ``count``."""
        found = self.expected_cache.get(count)
        if found is None:
            from _common import expected_offsets
            from _peer_checks import quarantines

            found = self.expected_cache[count] = expected_offsets(self.feed[:count], quarantines)
        return found


@dataclass(slots=True, kw_only=True)
class GateResult:
    """What one gate did."""

    name: str
    drained: Drained
    workers: int = 1
    offered_per_s: float = float("nan")
    latencies_ms: list[int] = field(default_factory=list)
    expected_latencies: int = 0
    peak_rss: int = 0
    rss_samples: list[tuple[int, int]] = field(default_factory=list)
    profile: str = ""
    quarantined: int = 0
    duplicates: int = 0
    check: str = ""
    failure: str | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        """Records per second over the backlog."""
        return self.drained.records_per_s

    @property
    def cpu_s_per_100k(self) -> float:
        """CPU seconds of the gate's process(es) per 100,000 records (backlog phase)."""
        routed = self.drained.routed
        return self.drained.cpu_s / routed * 100_000 if routed else float("nan")

    @property
    def kept_up(self) -> bool:
        """True when every record of the paced phase arrived."""
        return len(self.latencies_ms) >= self.expected_latencies > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HeaderCost:
    """CPU µs per record of the routing headers, measured in process."""

    route_us: float
    """``RouteHeaders.route_batch``: the outputs with every header."""
    route_bare_us: float
    """The same outputs, the topic picked and no header added."""
    encode_us: float
    """The outputs with their headers appended to aiokafka record batches and built."""
    encode_bare_us: float
    """The same outputs without the headers."""
    header_bytes: float
    """Header names and values per record, bytes (mean)."""
    records: int

    @property
    def per_record_us(self) -> float:
        """What the headers add per record: building plus encoding."""
        return (self.route_us - self.route_bare_us) + (self.encode_us - self.encode_bare_us)


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


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def _label(name: str, plan: Plan) -> str:
    return GATES[name].format(
        alt_wait=f"{plan.alt_wait_s:g} s",
        batch=f"{plan.batch_size:,}",
        naive=f"{plan.naive_count:,}",
    )


def report(
    plan: Plan,
    results: dict[str, GateResult],
    validation: tuple[float, float] | str,
    headers: HeaderCost | str,
    *,
    machine: dict[str, str],
    load: str,
    took_s: float,
    command: str,
    peers: str,
) -> str:
    """The results as Markdown."""
    out = [
        f"Run {dt.date.today().isoformat()}: `{command}`, {took_s / 60:.1f} minutes in all.",
        "",
        f"Machine (shared with other work): {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram']} RAM, {machine['python']}, {machine['kernel']}; 1-minute load "
        f"average during the run (min / mean / max of samples every 5 s): {load}. The "
        "broker, the gate under test and the benchmark's producer and reader share the cores."
        + (f" Peers: {peers}." if peers else ""),
        "",
        f"Records: {plan.count:,} generated incident reports (seed 1, 10% defects) per gate "
        f"({plan.naive_count:,} for naive GX), {PARTITIONS} partitions; batches of "
        f"{plan.batch_size:,}, batch wait {plan.batch_wait_s:g} s. Latency: each gate offered "
        f"50% of its own throughput for {plan.latency_s:g} s.",
        "",
        "| gate | records/s | CPU s per 100k records | p50 latency ms | p99 latency ms "
        "| offered records/s | peak RSS MiB | quarantined (check) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in GATES:
        r = results.get(name)
        if r is None:
            continue
        p50 = percentile(r.latencies_ms, 0.50)
        p99 = percentile(r.latencies_ms, 0.99)
        p50s, p99s, offered = _ms(p50), _ms(p99), _ms(r.offered_per_s)
        if r.latencies_ms and not r.kept_up:
            got = len(r.latencies_ms)
            p99s = f"> {p99s} (fell behind: {got:,} of {r.expected_latencies:,} arrived)"
        check = r.check if r.name in ("passthrough", "faust-passthrough") else "-"
        if r.check and check == "-":
            check = f"{r.quarantined:,} ({r.check})"
        if r.duplicates:
            check += f", {r.duplicates:,} duplicates"
        out.append(
            f"| {_label(name, plan)} | {r.rate:,.0f} | {r.cpu_s_per_100k:,.1f} | {p50s} | "
            f"{p99s} | {offered} | {r.peak_rss / MIB:,.0f} | {check} |"
        )
    out.append("")
    for name in GATES:
        r = results.get(name)
        if r is not None and r.note:
            out += [f"{_label(name, plan)}: {r.note}", ""]
    batch = results.get("batch")
    scale = results.get("batch-x2")
    if batch is not None and scale is not None:
        out += [
            f"Scale-out: 2 `engine: batch` workers on the {PARTITIONS} partitions routed "
            f"{scale.rate:,.0f} records/s ({scale.cpu_s_per_100k:,.1f} CPU s per 100k records, "
            f"both workers), {scale.rate / batch.rate:.2f}x one worker.",
            "",
        ]
    if batch is not None and batch.rss_samples:
        samples = ", ".join(f"{n:,}: {rss / MIB:,.0f}" for n, rss in batch.rss_samples)
        first_n, first = _rss_at_100k(batch)
        last_n, last = batch.rss_samples[-1]
        out += [
            f"`engine: batch` RSS (MiB) after N records routed: {samples}. After {last_n:,}: "
            f"{last / MIB:,.0f} MiB vs {first / MIB:,.0f} MiB after {first_n:,} "
            f"({100 * (last / first - 1):+.1f}%).",
            "",
        ]
    out += _headers_text(headers, results)
    if isinstance(validation, str):
        out += [f"Validation alone: {validation}.", ""]
    else:
        dq_alone, gx_alone = validation
        out += [
            f"Validation alone, in process, one pinned core, the same {len(plan.feed):,} "
            "records (`bench_validate.py`'s measurement; the broker already stopped): dqgate "
            f"`CompiledSuite.evaluate_batch` (bytes in, batches of {plan.batch_size:,}, best "
            f"of 3) {dq_alone:,.0f} records/s, GX 1.24's engine on batches of 10,000 "
            f"{gx_alone:,.0f} records/s ({dq_alone / gx_alone:.1f}x).",
            "",
        ]
    out += targets(plan, results, headers)
    if batch is not None and batch.profile:
        out += ["", "Profile of the `engine: batch` worker during the soak (backlog, full load):"]
        out += ["", batch.profile.rstrip()]
    return "\n".join(out) + "\n"


def _rss_at_100k(result: GateResult) -> tuple[int, int]:
    """(records routed, RSS) of the first sample at or after 100,000 records."""
    return next((s for s in result.rss_samples if s[0] >= RSS_AT), result.rss_samples[0])


def _headers_text(headers: HeaderCost | str, results: dict[str, GateResult]) -> list[str]:
    batch = results.get("batch")
    if isinstance(headers, str):
        return [f"Routing headers: {headers}.", ""]
    lines = [
        f"Routing headers, in process ({headers.records:,} of the run's records in batches "
        f"of the run's size with the verdicts `RouteProcessor.prepare` gave them, CPU time, "
        f"best of 5, one pinned core): `RouteHeaders.route_batch` {headers.route_us:.2f} µs "
        f"per record against {headers.route_bare_us:.2f} µs for the same outputs without "
        f"headers (topic picked, key, value and timestamp kept); appending the outputs to "
        f"aiokafka record batches {headers.encode_us:.2f} µs "
        f"with the headers ({headers.header_bytes:,.0f} bytes per record) against "
        f"{headers.encode_bare_us:.2f} µs without: the headers add "
        f"{headers.per_record_us:.2f} µs per record."
    ]
    if batch is not None:
        per_record = batch.cpu_s_per_100k * 10
        lines[0] += (
            f" The `engine: batch` worker spent {per_record:.1f} CPU µs per record end to end "
            f"in this run: the headers are {headers.per_record_us / per_record:.0%} of it."
        )
    bare = results.get("batch-no-headers")
    if batch is not None and bare is not None:
        lines[0] += (
            f" End to end, the variant without them routed {bare.rate:,.0f} records/s at "
            f"{bare.cpu_s_per_100k:.1f} CPU s per 100k records (with them: {batch.rate:,.0f} "
            f"and {batch.cpu_s_per_100k:.1f})."
        )
    return [*lines, ""]


def targets(plan: Plan, results: dict[str, GateResult], headers: HeaderCost | str) -> list[str]:
    """The issue's targets, each with the measured value and whether it is met."""
    batch = results.get("batch")
    if batch is None:
        return []
    rows: list[tuple[str, str, bool]] = []
    quix, confluent = results.get("quix"), results.get("confluent")
    passthrough, bare = results.get("passthrough"), results.get("batch-no-headers")
    if quix is not None:
        ratio = batch.rate / quix.rate
        rows.append(("records/s ≥ 2x the Quix Streams peer", f"{ratio:.2f}x", ratio >= 2))
    if confluent is not None:
        ratio = batch.rate / confluent.rate
        rows.append(("records/s ≥ the confluent-kafka peer", f"{ratio:.2f}x", ratio >= 1))
        mine, theirs = batch.cpu_s_per_100k, confluent.cpu_s_per_100k
        rows.append((
            "CPU s per 100k records ≤ the confluent-kafka peer's",
            f"{mine:.2f} vs {theirs:.2f}", mine <= theirs,
        ))  # fmt: skip
    if passthrough is not None:
        share = batch.rate / passthrough.rate
        rows.append(("≥ 70% of the aiokafka pass-through", f"{share:.0%}", share >= 0.7))
    if bare is not None:
        share = 1 - bare.cpu_s_per_100k / batch.cpu_s_per_100k
        rows.append((
            "routing headers ≤ 20% of the time per record (end to end: the worker's CPU per "
            "record with them vs `batch-no-headers`)",
            f"{share:.0%}", share <= 0.2,
        ))  # fmt: skip
    if isinstance(headers, HeaderCost):
        share = headers.per_record_us / (batch.cpu_s_per_100k * 10)
        rows.append((
            "routing headers ≤ 20% (in process: building and encoding them, of the worker's "
            "CPU per record; a lower bound, steadier)",
            f"{share:.0%}", share <= 0.2,
        ))  # fmt: skip
    if batch.latencies_ms:
        p99 = percentile(batch.latencies_ms, 0.99)
        rows.append(("p99 latency ≤ 50 ms at 50% load", f"{p99:,.0f} ms", p99 <= 50))
    (first_n, first), (last_n, last) = (
        (_rss_at_100k(batch), batch.rss_samples[-1]) if batch.rss_samples else ((0, 1), (0, 1))
    )
    if last_n > first_n:
        growth = last / first - 1
        rows.append((
            f"RSS flat from {first_n:,} to {last_n:,} records (within {RSS_FLAT:.0%})",
            f"{growth:+.1%}", growth <= RSS_FLAT,
        ))  # fmt: skip
    lines = ["| `engine: batch` target | measured | met |", "|---|---:|---|"]
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


# -- the profile -------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_PACKAGES = ("dqgate", "aiokafka", "asyncio", "orjson", "prometheus_client", "faust", "mode")


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
    # below 60%: leaves out the entry chain (main, the engine's run, the event loop itself)
    shown = [(name, n) for name, n in inclusive.most_common() if n < 0.6 * total]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in shown[: top + 8]]
    return "\n".join(lines) + "\n"
