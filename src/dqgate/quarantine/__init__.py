"""Operate the quarantine topics: read them by time window, summarise, export, replay.

Importing this package is cheap; aiokafka is imported when a topic is read.

- :mod:`~dqgate.quarantine.envelope`: a quarantined record with its headers decoded;
- :mod:`~dqgate.quarantine.selection`: topic, time window and filters;
- :mod:`~dqgate.quarantine.reader`: time-bounded reads (offsets-for-times) and follow;
- :mod:`~dqgate.redact`: masking of configured fields;
- :mod:`~dqgate.quarantine.export`, :mod:`~dqgate.quarantine.render`: JSON/CSV and text;
- :mod:`~dqgate.quarantine.stats`: counts and shares;
- :mod:`~dqgate.quarantine.replay`, :mod:`~dqgate.quarantine.checkpoint`: replay;
- :mod:`~dqgate.quarantine.topics`: the ``ls`` summaries;
- :mod:`~dqgate.quarantine.commands`: the ``dqgate quarantine`` handlers.
"""

from __future__ import annotations

from dqgate.quarantine.envelope import (
    REPLAY_COUNT,
    REPLAY_OF,
    FailureInfo,
    QuarantinedRecord,
    decode_record,
)
from dqgate.quarantine.reader import PartitionRange, QuarantineReader, ReadStats
from dqgate.quarantine.replay import ReplayOptions, ReplayReport, replay
from dqgate.quarantine.selection import Instant, Selection, parse_instant
from dqgate.quarantine.stats import GroupBy, Tally
from dqgate.redact import Redactor

__all__ = [
    "REPLAY_COUNT",
    "REPLAY_OF",
    "FailureInfo",
    "GroupBy",
    "Instant",
    "PartitionRange",
    "QuarantineReader",
    "QuarantinedRecord",
    "ReadStats",
    "Redactor",
    "ReplayOptions",
    "ReplayReport",
    "Selection",
    "Tally",
    "decode_record",
    "parse_instant",
    "replay",
]
