"""Rate-limited logs for the Kafka clients: one line per cause per interval, then a count.

During a broker outage aiokafka logs the same error thousands of times a second (163,812
lines in 20 s in issue 16). :class:`QuietLogFilter`, installed on the client loggers by
:func:`install_quiet_logging`, lets the first line of each distinct *cause* through and
holds its repeats for ``interval_s`` (30 s by default). A cause is the logger, the level,
the message template (before its arguments are filled in) and the classes of the
exceptions involved (``exc_info`` and exception arguments), so a connection error and a
timeout are never merged. When the interval has ended and the cause comes back, or the
interval's end is noticed (by the next line of any cause, at most once a second, or by
:meth:`QuietLogFilter.flush`), one summary line at the cause's level says how many lines
were held::

    ERROR aiokafka.conn: 4211 more lines like 'Unable connect to node with id %s: %s'
    (KafkaConnectionError) were suppressed in the last 30 s

The summary quotes the template and class names, never the arguments, so it shows no
value that the first line did not. ``on_suppressed(logger_name)`` is called once per
suppressed line; the gate counts them as ``dqgate_log_lines_suppressed_total{logger}``
(logger names come from the libraries' code, so the label set is bounded). At most
``max_causes`` causes are tracked; beyond that, new causes of a logger share one
"other causes" window, so no storm of distinct messages gets through either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "CLIENT_LOGGERS",
    "DEFAULT_INTERVAL_S",
    "SUPPRESSED_METRIC",
    "QuietLogFilter",
    "install_quiet_logging",
]

CLIENT_LOGGERS: Final = ("aiokafka", "kafka", "faust", "mode")
"""The loggers (with their children) that :func:`install_quiet_logging` quiets by default."""
DEFAULT_INTERVAL_S: Final = 30.0
SUPPRESSED_METRIC: Final = "dqgate_log_lines_suppressed_total"
"""The counter the gate feeds from ``on_suppressed`` (label ``logger``)."""

_SUMMARY_MARK: Final = "_dqgate_quiet_summary"
_SUMMARY: Final = "%d more lines like %r%s were suppressed in the last %.0f s"
_OTHER_CAUSES: Final = "<causes beyond the tracked ones>"
_TEMPLATE_MAX_CHARS: Final = 200
_SWEEP_EVERY_S: Final = 1.0

_Cause = tuple[str, int, str, tuple[str, ...]]


@dataclass(slots=True)
class _Window:
    started: float
    suppressed: int = 0


class QuietLogFilter(logging.Filter):
    """Lets one line per cause per interval through and summarises the ones it held."""

    def __init__(
        self,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        on_suppressed: Callable[[str], None] | None = None,
        max_causes: int = 256,
    ) -> None:
        super().__init__()
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.interval_s = interval_s
        self._clock = clock
        self._on_suppressed = on_suppressed
        self._max_causes = max_causes
        self._windows: dict[_Cause, _Window] = {}
        self._suppressed: Counter[str] = Counter()
        self._next_sweep = float("-inf")
        self._lock = threading.Lock()
        self._attached: list[logging.Logger] = []

    @property
    def suppressed(self) -> dict[str, int]:
        """Lines suppressed so far, per logger name."""
        with self._lock:
            return dict(self._suppressed)

    def filter(self, record: logging.LogRecord) -> bool:
        """True to let ``record`` through; never changes it."""
        if getattr(record, _SUMMARY_MARK, False):
            return True
        now = self._clock()
        cause = _cause_of(record)
        with self._lock:
            summaries = self._sweep(now) if now >= self._next_sweep else []
            window = self._windows.get(cause)
            if window is not None and now - window.started >= self.interval_s:
                summaries.append(self._close(cause, now))
                window = None
            if window is None and len(self._windows) >= self._max_causes:
                cause = (record.name, record.levelno, _OTHER_CAUSES, ())
                window = self._windows.get(cause)
            if window is None:
                self._windows[cause] = _Window(started=now)
            else:
                window.suppressed += 1
                self._suppressed[record.name] += 1
        self._emit(summaries)
        if window is None:
            return True
        if self._on_suppressed is not None:
            self._on_suppressed(record.name)
        return False

    def flush(self, *, final: bool = False) -> int:
        """Write the summaries of ended intervals (all of them if ``final``); returns how many."""
        now = self._clock()
        with self._lock:
            summaries = self._sweep(now, final=final)
        return self._emit(summaries)

    def attach(self, names: Iterable[str]) -> None:
        """Add this filter to the named loggers and every existing logger below them."""
        registry = logging.Logger.manager.loggerDict
        for name in names:
            loggers = [logging.getLogger(name)] + [
                logger
                for child, logger in list(registry.items())
                if child.startswith(name + ".") and isinstance(logger, logging.Logger)
            ]
            for logger in loggers:
                if self not in logger.filters:
                    logger.addFilter(self)
                    self._attached.append(logger)

    def detach(self) -> None:
        """Remove this filter from every logger :meth:`attach` added it to."""
        for logger in self._attached:
            logger.removeFilter(self)
        self._attached.clear()

    def _sweep(self, now: float, *, final: bool = False) -> list[logging.LogRecord | None]:
        self._next_sweep = now + min(_SWEEP_EVERY_S, self.interval_s)
        ended = [
            cause
            for cause, window in self._windows.items()
            if final or now - window.started >= self.interval_s
        ]
        return [self._close(cause, now) for cause in ended]

    def _close(self, cause: _Cause, now: float) -> logging.LogRecord | None:
        window = self._windows.pop(cause)
        if window.suppressed == 0:
            return None
        name, level, template, classes = cause
        shown = (
            template
            if len(template) <= _TEMPLATE_MAX_CHARS
            else template[:_TEMPLATE_MAX_CHARS] + "..."
        )
        excs = f" ({', '.join(classes)})" if classes else ""
        args = (window.suppressed, shown, excs, now - window.started)
        record = logging.getLogger(name).makeRecord(name, level, __file__, 0, _SUMMARY, args, None)
        setattr(record, _SUMMARY_MARK, True)
        return record

    def _emit(self, summaries: list[logging.LogRecord | None]) -> int:
        count = 0
        for record in summaries:
            if record is not None:
                logging.getLogger(record.name).handle(record)
                count += 1
        return count


def _cause_of(record: logging.LogRecord) -> _Cause:
    """The logger, level, template and exception classes: what makes two lines alike."""
    classes: list[str] = []
    if record.exc_info and record.exc_info[0] is not None:
        classes.append(record.exc_info[0].__qualname__)
    args = record.args
    values = args.values() if isinstance(args, Mapping) else (args or ())
    classes.extend(type(a).__qualname__ for a in values if isinstance(a, BaseException))
    msg = record.msg  # log.error(exc) gives an object: its class, not its text
    template = msg if isinstance(msg, str) else f"<{type(msg).__qualname__}>"
    return (record.name, record.levelno, template, tuple(classes))


def install_quiet_logging(
    names: Iterable[str] = CLIENT_LOGGERS,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
    on_suppressed: Callable[[str], None] | None = None,
) -> QuietLogFilter:
    """Quiet the named loggers and their children; idempotent, returns the filter.

    A later call returns the filter already installed (its settings stay) and adds it to
    loggers created since: call it again once the Kafka clients exist. Logging filters
    only see records of the logger they are on, hence one filter on each child logger.
    """
    wanted = tuple(names)
    installed = next(
        (
            f
            for name in wanted
            for f in logging.getLogger(name).filters
            if isinstance(f, QuietLogFilter)
        ),
        None,
    )
    quiet = installed or QuietLogFilter(
        interval_s=interval_s, clock=clock, on_suppressed=on_suppressed
    )
    quiet.attach(wanted)
    return quiet
