"""Rate-limited Kafka client logs: one line per cause per interval, then a count."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

from dqgate.gate.quiet import QuietLogFilter, install_quiet_logging

CONNECT = "Unable connect to node with id %s: %s"
SUMMARY = re.compile(r"^(\d+) more lines like (.+) were suppressed in the last (\d+) s$")


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    """Keeps every record that reaches it, formatted as a log line would be."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def texts(self) -> list[str]:
        return [self.format(r) for r in self.records]

    def summaries(self) -> list[int]:
        return [int(m.group(1)) for r in self.records if (m := SUMMARY.match(r.getMessage()))]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    top = logging.getLogger("aiokafka")
    top.addHandler(handler)
    yield handler
    top.removeHandler(handler)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def counted() -> list[str]:
    return []


@pytest.fixture
def quiet(clock: Clock, counted: list[str]) -> Iterator[QuietLogFilter]:
    """The default installation (aiokafka, kafka, faust, mode), removed afterwards."""
    installed = install_quiet_logging(clock=clock, on_suppressed=counted.append)
    yield installed
    installed.detach()


def _error(clock: Clock) -> KafkaConnectionError:
    return KafkaConnectionError(f"Connect call failed ('127.0.0.1', 9092) at {clock.now}")


def test_an_outage_storm_becomes_two_lines_and_a_count(
    quiet: QuietLogFilter, lines: Lines, clock: Clock, counted: list[str]
) -> None:
    """10,000 identical aiokafka errors in 20 s: the first line, then one summary of 9,999."""
    conn = logging.getLogger("aiokafka.conn")
    for _ in range(10_000):
        conn.error(CONNECT, 1, _error(clock))
        clock.now += 0.002
    assert len(lines.records) == 1
    clock.now += 10.5  # the 30 s interval ends
    assert quiet.flush() == 1
    assert len(lines.records) == 2 and lines.summaries() == [9_999]
    assert lines.records[1].levelno == logging.ERROR
    assert "KafkaConnectionError" in lines.texts[1] and repr(CONNECT) in lines.texts[1]
    assert quiet.suppressed == {"aiokafka.conn": 9_999}
    assert counted == ["aiokafka.conn"] * 9_999


def test_a_shorter_interval_gives_a_line_and_a_summary_per_interval(
    lines: Lines, clock: Clock
) -> None:
    """With 5 s: four first lines and four summaries, and no line is lost from the count."""
    quiet = install_quiet_logging(interval_s=5.0, clock=clock)
    try:
        conn = logging.getLogger("aiokafka.conn")
        for _ in range(10_000):
            conn.error(CONNECT, 1, _error(clock))
            clock.now += 0.002
        quiet.flush(final=True)
    finally:
        quiet.detach()
    firsts = [r for r in lines.records if r.msg == CONNECT]
    assert len(firsts) == 4 and len(lines.summaries()) == 4
    assert len(firsts) + sum(lines.summaries()) == 10_000


def test_distinct_causes_are_not_merged(quiet: QuietLogFilter, lines: Lines, clock: Clock) -> None:
    """Other template, other exception class, other level, other logger: each its own line."""
    conn = logging.getLogger("aiokafka.conn")
    fetcher = logging.getLogger("aiokafka.consumer.fetcher")
    for _ in range(100):
        conn.error(CONNECT, 1, _error(clock))
        conn.error(CONNECT, 1, KafkaTimeoutError())
        conn.warning(CONNECT, 1, _error(clock))
        conn.error("Unable to update metadata from [%s]", 1)
        fetcher.error(CONNECT, 1, _error(clock))
        clock.now += 0.01
    assert len(lines.records) == 5
    assert quiet.flush(final=True) == 5
    assert lines.summaries() == [99] * 5
    assert quiet.suppressed == {"aiokafka.conn": 4 * 99, "aiokafka.consumer.fetcher": 99}


def test_a_cause_that_comes_back_after_its_interval_is_summarised_first(
    quiet: QuietLogFilter, lines: Lines, clock: Clock
) -> None:
    """The summary of the ended interval precedes the cause's next line."""
    conn = logging.getLogger("aiokafka.conn")
    for _ in range(3):
        conn.error(CONNECT, 1, _error(clock))
    clock.now += 31.0
    conn.error(CONNECT, 2, _error(clock))
    messages = [r.getMessage() for r in lines.records]
    assert len(messages) == 3 and lines.summaries() == [2]
    assert SUMMARY.match(messages[1])
    assert messages[2].startswith("Unable connect to node with id 2: ")


def test_an_ended_interval_is_summarised_on_another_causes_line(
    quiet: QuietLogFilter, lines: Lines, clock: Clock
) -> None:
    """A cause that went silent gets its summary once any quieted logger logs again."""
    conn = logging.getLogger("aiokafka.conn")
    for _ in range(5):
        conn.error(CONNECT, 1, _error(clock))
    clock.now += 30.5
    logging.getLogger("aiokafka.cluster").warning("No broker metadata found")
    assert lines.summaries() == [4]


def test_no_record_value_is_ever_added(quiet: QuietLogFilter, lines: Lines, clock: Clock) -> None:
    """Summaries quote the template, never the arguments; passed lines are left as they were."""
    value = "ssn=078-05-1120-" + uuid.uuid4().hex
    producer = logging.getLogger("aiokafka.producer.sender")
    timeout = KafkaTimeoutError()
    for i in range(500):
        producer.error("Got error produce response: %s for value %r", timeout, value)
        producer.error("Retrying batch %d", 1000 + i)
        clock.now += 0.01
    quiet.flush(final=True)
    passed = [r for r in lines.records if not SUMMARY.match(r.getMessage())]
    assert [r.args for r in passed] == [(timeout, value), (1000,)]
    summaries = [t for t in lines.texts if SUMMARY.match(t.split(": ", 1)[1])]
    assert len(summaries) == 2 and lines.summaries() == [499, 499]
    assert not any(value in text or "1001" in text or "1499" in text for text in summaries)
    assert sum(value in text for text in lines.texts) == 1


def test_too_many_causes_share_one_window(lines: Lines, clock: Clock) -> None:
    """Thousands of distinct messages beyond max_causes still give a bounded number of lines."""
    quiet = QuietLogFilter(clock=clock, max_causes=10)
    quiet.attach(["aiokafka"])
    try:
        logger = logging.getLogger("aiokafka.consumer.fetcher")
        for i in range(5_000):
            logger.error(f"No active partitions for TopicPartition(topic='t', partition={i})")
        quiet.flush(final=True)
    finally:
        quiet.detach()
    assert len(lines.records) <= 10 + 1 + 1
    assert len(lines.records) - len(lines.summaries()) + sum(lines.summaries()) == 5_000


def test_install_is_idempotent_and_covers_new_loggers(clock: Clock) -> None:
    """A second call returns the same filter, once per logger, on loggers created since."""
    top = "dqgate-test-" + uuid.uuid4().hex
    first = install_quiet_logging([top], clock=clock)
    try:
        child = logging.getLogger(f"{top}.late.child")
        assert first not in child.filters
        again = install_quiet_logging([top], interval_s=1.0)
        assert again is first and again.interval_s == 30.0
        assert logging.getLogger(top).filters.count(first) == 1
        assert child.filters.count(first) == 1
    finally:
        first.detach()
    assert first not in logging.getLogger(top).filters and first not in child.filters


def test_other_loggers_are_untouched(quiet: QuietLogFilter, clock: Clock) -> None:
    """dqgate's own logger is not rate-limited by the client filter."""
    handler = Lines()
    own = logging.getLogger("dqgate.gate.quiet-test")
    own.addHandler(handler)
    try:
        for _ in range(50):
            own.warning("route %s paused", "r")
    finally:
        own.removeHandler(handler)
    assert len(handler.records) == 50
