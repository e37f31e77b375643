"""Nothing sensitive leaks: a gate and the quarantine CLI run with a distinctive password
and distinctive record values; neither appears in anything they print, serve or add.

Searched: the worker's whole stdout/stderr (run at --log-level DEBUG), /metrics and
/healthz, the stdout and stderr of ``dqgate quarantine ls/stats/show`` (DEBUG too), and
every header the gate added to the quarantined records.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import orjson
import pytest
import yaml

from dqgate.demo.generator import generate
from dqgate.kafka import AclBinding, AclOperation, AclResourceType, create_acls, run_sync
from dqgate.testing.feed import FeedRecord, produce
from dqgate.testing.process import start_worker

from .conftest import GATE_USER, SecureBroker
from .test_security_gate import SecureRoute

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("gate_engine")]

TOKEN = f"rv{secrets.token_hex(6)}"
"""Every planted record value starts with this; nothing else in the run can contain it."""
PLANTED_FIELDS = ["n", "person_name", "secret_note", "age"]
READER = "reader"


def _planted(count: int) -> list[FeedRecord]:
    """Generated incident records carrying planted values; every third fails on ``age``."""
    feed = []
    for record in generate(count, seed=5):
        try:
            value = orjson.loads(record.value)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            # Planted values first: a client log that prints the start of fetched bytes
            # (aiokafka's DEBUG prints 100) would show them.
            planted = {
                "n": f"{TOKEN}-first-{record.index}",
                "person_name": f"{TOKEN}-name-{record.index}",
                "secret_note": f"{TOKEN}-note-{record.index}",
            }
            if record.index % 3 == 0:
                planted["age"] = f"{TOKEN}-age-{record.index}"
            value = {**planted, **{k: v for k, v in value.items() if k not in planted}}
            feed.append(FeedRecord(key=record.key, value=orjson.dumps(value)))
    return feed


def _quarantine_headers(bootstrap: str, topic: str, count: int) -> list[tuple[str, bytes]]:
    async def read() -> list[tuple[str, bytes]]:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        headers: list[tuple[str, bytes]] = []
        seen = 0
        try:
            async with asyncio.timeout(60):
                while seen < count:
                    for messages in (await consumer.getmany(timeout_ms=500)).values():
                        seen += len(messages)
                        headers += [h for m in messages for h in m.headers]
        finally:
            await consumer.stop()
        return headers

    return run_sync(read())


def _cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dqgate.cli.main", "--log-level", "DEBUG", "quarantine", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_no_password_and_no_record_value_in_any_output(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    """Gate and CLI output, metrics and added headers hold no secret and no record value."""
    password = secure_broker.passwords[GATE_USER]
    route = SecureRoute(secure_broker)
    run_sync(create_acls(secure_broker.admin_bootstrap, route.acls()))
    feed = _planted(600)
    run_sync(produce(route.admin_options, route.source, feed))
    config = route.config(tmp_path / "gate.yaml", "SASL_SSL")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["redact"] = PLANTED_FIELDS
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = {**os.environ, "DQGATE_KAFKA_SASL_PASSWORD": password}

    worker = start_worker(
        ["--config", str(config)], log_path=tmp_path / "gate.log", env=env, log_level="DEBUG"
    )
    try:
        url = worker.wait_ready(timeout_s=120)
        reader = route.read_outputs()
        served = [
            urllib.request.urlopen(url + p, timeout=5).read() for p in ("/metrics", "/healthz")
        ]
    finally:
        assert worker.stop() == 0, worker.log_tail()
    quarantined = len(reader.quarantined)
    headers = _quarantine_headers(secure_broker.admin_bootstrap, route.quarantine, quarantined)

    # Operators read the quarantine as their own principal: the gate may not (least privilege).
    topic = route.quarantine
    reader_acl = AclBinding(
        resource_type=AclResourceType.TOPIC,
        resource_name=topic,
        principal=f"User:{READER}",
        operation=AclOperation.READ,
    )
    run_sync(create_acls(secure_broker.admin_bootstrap, [reader_acl]))
    cli_config = route.config(tmp_path / "reader.yaml", "SASL_SSL", user=READER)
    cli_data = yaml.safe_load(cli_config.read_text(encoding="utf-8"))
    cli_config.write_text(yaml.safe_dump({**cli_data, "redact": PLANTED_FIELDS}), encoding="utf-8")
    cli_env = {**os.environ, "DQGATE_KAFKA_SASL_PASSWORD": secure_broker.passwords[READER]}
    cli = [
        _cli("ls", "--config", str(cli_config), env=cli_env),
        _cli("stats", topic, "--config", str(cli_config), env=cli_env),
        _cli("show", topic, "--config", str(cli_config), "--limit", "20", env=cli_env),
        _cli("show", topic, "--config", str(cli_config), "--limit", "20", "--json", env=cli_env),
    ]
    # show printed records, masked: otherwise the search below would prove nothing.
    assert "redacted" in cli[2] and "[redacted]" in cli[3], cli[2] + cli[3]

    outputs = {
        "gate log": worker.log_path.read_bytes(),
        "metrics": served[0],
        "healthz": served[1],
        "quarantine headers": b"\n".join(name.encode() + b"=" + value for name, value in headers),
        **{f"cli {i}": text.encode() for i, text in enumerate(cli)},
    }
    assert quarantined >= len(feed) // 3 and headers
    passwords = [password, secure_broker.passwords[READER]]
    for what, text in outputs.items():
        for secret in passwords:
            assert secret.encode() not in text, f"a password appears in the {what}"
        assert TOKEN.encode() not in text, f"a record value appears in the {what}"
