"""The streaming demo: broker, topics, a gate worker, generated records, a summary.

:func:`run_demo` starts the project's local broker on ``.kafka/demo``, creates the
topics, starts ``dqgate run --config`` as a child process on the incident-report suite,
produces ``count`` generated records (including non-JSON garbage and truncated JSON),
waits until every one is routed (counted by lineage headers), prints a summary and stops
everything, unless ``keep_running``.

The demo's gate.yaml redacts the personal fields (``person_name``, ``id_number``), so
``dqgate quarantine show`` masks them, and names an audit log: the closing lines show
how to ``--reveal`` them deliberately, and where that is recorded.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml

from dqgate.errors import GateError

__all__ = ["DEMO_SOURCE", "run_demo"]

DEMO_SOURCE = "incidents"
DEMO_PARTITIONS = 3
_ROUTE = "incidents"
_GROUP = "dqgate-demo"
REDACTED_FIELDS = ("person_name", "id_number")
"""The generator's personal fields: masked by `dqgate quarantine` unless --reveal."""
AUDIT_LOG = "reveal-audit.jsonl"
"""Next to the demo's configurations: where --reveal is recorded."""


def run_demo(
    count: int = 50_000,
    seed: int = 7,
    keep_running: bool = False,
    *,
    data_dir: Path | None = None,
    suite: Path | None = None,
    out: TextIO | None = None,
    timeout_s: float = 900.0,
    secure: str | None = None,
) -> int:
    """Run the demo end to end; returns 0 when every record was routed, else 1.

    ``secure``: SASL_SSL, SASL_PLAINTEXT or SSL runs every client as a least-privileged
    principal over that protocol (:mod:`dqgate.demo.secure`).
    """
    from dqgate.kafka import BrokerConfig, broker_status, start_broker, stop_broker
    from dqgate.kafka.jars import project_root

    stream = out if out is not None else sys.stdout
    root = project_root()
    data = (data_dir or root / ".kafka" / "demo").resolve()
    suite_path = (suite or root / "expectations" / "incident_reports.json").resolve()
    current = broker_status(data)
    if current.running:
        raise GateError(
            f"a demo broker already runs from {data} (pid {current.pid}); stop that demo "
            f"first (Ctrl-C), or `dqgate kafka stop` with that data dir"
        )
    say = _printer(stream)
    security = None
    if secure is not None:
        from dqgate.demo.secure import SecureDemo

        security = SecureDemo.create(data.with_name(f"{data.name}-secrets"), secure)
        say(f"secured demo over {secure}: CA, certificates and passwords in {security.directory}")
    say(f"starting the local Kafka broker in {data} ...")
    handle = start_broker(
        security.broker_config(data) if security is not None else BrokerConfig(data_dir=data)
    )
    worker = None
    try:
        topics = (DEMO_SOURCE, f"{DEMO_SOURCE}.clean", f"{DEMO_SOURCE}.quarantine")
        asyncio.run(_create_topics(handle.bootstrap, topics))
        say(f"broker {handle.bootstrap}; topics {', '.join(topics)}")
        plain = {"bootstrap_servers": handle.bootstrap}
        config = _write_config(data / "gate.yaml", plain, suite_path)
        options = feed_options = plain
        operator = config
        if security is not None:
            from dqgate.demo.secure import ADMIN, GATE, OPERATOR, PRODUCER, client_options
            from dqgate.kafka import create_acls

            acls = security.acls(
                source=DEMO_SOURCE, outputs=topics[1:], quarantine=topics[2], group=_GROUP
            )
            asyncio.run(create_acls(handle.bootstrap, acls))
            say(f"ACLs: {GATE} reads {DEMO_SOURCE} and writes its outputs, {PRODUCER} "
                f"writes {DEMO_SOURCE}, {OPERATOR} reads {topics[2]}")  # fmt: skip
            sections = {u: security.kafka_section(handle, u) for u in (GATE, PRODUCER, ADMIN)}
            config = _write_config(data / "gate.yaml", sections[GATE], suite_path)
            feed_options = client_options(
                _write_config(data / "producer.yaml", sections[PRODUCER], suite_path)
            )
            options = client_options(
                _write_config(data / "admin.yaml", sections[ADMIN], suite_path)
            )
            operator = _write_config(
                data / "operator.yaml", security.kafka_section(handle, OPERATOR), suite_path
            )
            say(f"gate, producer and operator connect over {secure} to "
                f"{sections[GATE]['bootstrap_servers']}")  # fmt: skip
        from dqgate.testing.process import start_worker

        worker = start_worker(["--config", str(config)], log_path=data / "gate.log")
        url = worker.wait_ready()
        say(f"gate worker pid {worker.pid} ready (log: {data / 'gate.log'})")
        summary = asyncio.run(_feed_and_wait(feed_options, options, count, seed, timeout_s, say))
        if summary is None:
            say(f"not every record was routed within {timeout_s:.0f} s; see {data / 'gate.log'}")
            return 1
        _print_summary(say, summary, worker.metrics(), suite_path)
        say(f"metrics: {url}/metrics   health: {url}/healthz")
        for line in closing_lines(_dqgate_command(), operator, keep_running=keep_running):
            say(line)
        if keep_running:
            say("the broker and the gate keep running; press Ctrl-C to stop them")
            _wait_for_interrupt()
        return 0
    finally:
        if worker is not None:
            code = worker.stop()
            say(f"gate worker stopped (exit code {code})")
        stop_broker(data)
        say("broker stopped")


def closing_lines(dqgate: str, operator: Path, *, keep_running: bool) -> list[str]:
    """What to try next: stats, show (personal fields masked) and a deliberate --reveal."""
    topic = f"{DEMO_SOURCE}.quarantine"
    fields = " and ".join(REDACTED_FIELDS)
    lines = [
        "look at the quarantine topic:",
        f"  {dqgate} quarantine stats {topic} --config {operator}",
        f"  {dqgate} quarantine show {topic} --config {operator} --limit 5",
        f"{fields} are redacted (redact: in {operator.name}); to see them, deliberately:",
        f"  {dqgate} quarantine show {topic} --config {operator} --limit 1 --reveal",
        f"  (--reveal is logged on stderr and recorded in {operator.parent / AUDIT_LOG})",
    ]
    if not keep_running:
        lines.append("  (everything stops now; keep the demo running to try them)")
    return lines


async def _create_topics(bootstrap: str, topics: tuple[str, ...]) -> None:
    """The source, then the outputs with room for a source record of the broker's maximum
    size plus the gate's headers (as an operator should create them; see SECURITY.md)."""
    from dqgate.config import OutputTopicsConfig
    from dqgate.kafka import create_topic

    room = {"max.message.bytes": str(OutputTopicsConfig().max_message_bytes)}
    for index, topic in enumerate(topics):
        configs = room if index else None
        await create_topic(bootstrap, topic, partitions=DEMO_PARTITIONS, configs=configs)


def _write_config(path: Path, kafka: Mapping[str, Any], suite: Path) -> Path:
    config = {
        "kafka": dict(kafka),
        "group_id": _GROUP,
        "routes": [
            {
                "name": _ROUTE,
                "source": DEMO_SOURCE,
                "suite": str(suite),
                "clean": f"{DEMO_SOURCE}.clean",
                "quarantine": f"{DEMO_SOURCE}.quarantine",
            }
        ],
        "batch_size": 1000,
        "redact": list(REDACTED_FIELDS),
        "audit_log": AUDIT_LOG,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


async def _feed_and_wait(
    feed_options: Mapping[str, Any],
    options: Mapping[str, Any],
    count: int,
    seed: int,
    timeout_s: float,
    say: Any,
) -> dict[str, Any] | None:
    """Produce with ``feed_options``; count the outputs with ``options``."""
    from dqgate.demo.generator import DefectTally, generate
    from dqgate.testing.audit import OutputReader, end_offsets
    from dqgate.testing.feed import FeedRecord, produce

    tally = DefectTally()

    def records() -> Any:
        for record in generate(count, seed):
            tally.add(record)
            yield FeedRecord(key=record.key, value=record.value)

    started = time.monotonic()
    say(f"producing {count:,} generated incident reports (seed {seed}) ...")
    await produce(feed_options, DEMO_SOURCE, records())
    say(f"produced in {time.monotonic() - started:.1f} s; waiting until all are routed ...")
    expected = await end_offsets(options, [DEMO_SOURCE])
    reader = OutputReader(
        options,
        [f"{DEMO_SOURCE}.clean", f"{DEMO_SOURCE}.quarantine"],
        quarantine_topics=[f"{DEMO_SOURCE}.quarantine"],
    )
    async with reader:
        done = await reader.wait_for(expected, timeout_s=timeout_s)
    if not done:
        return None
    elapsed = time.monotonic() - started
    return {
        "count": count,
        "routed": len(reader.seen),
        "quarantined": len(reader.quarantined),
        "reasons": dict(reader.reasons),
        "duplicates": reader.duplicates,
        "injected": tally.report(),
        "elapsed_s": elapsed,
    }


def _print_summary(say: Any, summary: dict[str, Any], metrics: str, suite: Path) -> None:
    from dqgate.suites import compile_suite
    from dqgate.verdict import Policy

    total = summary["routed"]
    quarantined = summary["quarantined"]
    injected = summary["injected"].by_reason
    say("")
    say(f"routed {total:,} records in {summary['elapsed_s']:.1f} s "
        f"(produce + gate, {total / max(summary['elapsed_s'], 1e-9):,.0f} records/s)")  # fmt: skip
    say(f"  clean:       {total - quarantined:>9,}")
    say(f"  quarantined: {quarantined:>9,}  ({100 * quarantined / max(total, 1):.1f}%)")
    say("quarantined by reason (gate | injected by the generator):")
    for reason in sorted(set(summary["reasons"]) | set(injected)):
        got, want = summary["reasons"].get(reason, 0), injected.get(reason, 0)
        mark = "" if got == want else "   <- differs"
        say(f"  {reason:<18} {got:>8,} | {want:>8,}{mark}")
    observed = {
        e.expectation_id: e for e in compile_suite(suite).expectations if e.policy is Policy.OBSERVE
    }
    failures = _failure_counts(metrics, _ROUTE)
    if observed:
        say("observed-only failures (counted, never quarantined):")
        for expectation_id, e in observed.items():
            n = failures.get(expectation_id, 0)
            say(f"  {expectation_id} ({e.column}, {e.reason}): {n:,} records "
                f"({100 * n / max(total, 1):.1f}%)")  # fmt: skip
    if summary["duplicates"]:
        say(f"duplicates in the outputs: {summary['duplicates']:,}")


def _failure_counts(metrics_text: str, route: str) -> dict[str, int]:
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "dqgate_expectation_failures":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("route") == route:
                key = sample.labels["expectation"]
                counts[key] = counts.get(key, 0) + int(sample.value)
    return counts


def _dqgate_command() -> str:
    """The ``dqgate`` console script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "dqgate"
    return str(script) if script.exists() else f"{sys.executable} -m dqgate.cli.main"


def _printer(stream: TextIO) -> Any:
    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    return say


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
