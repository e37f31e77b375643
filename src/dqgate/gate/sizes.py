"""Will every record fit in its output? The start-up check behind "no record can wedge".

A record written to a clean or quarantine topic is its source record plus the gate's
headers. When a source topic accepts records (``max.message.bytes``) that its outputs
would refuse once the headers are added, such a record could never be written: before
the stub path existed, the worker exited, restarted, hit the same record, forever. The
gate now quarantines such a record as a stub (see :mod:`dqgate.gate.stubs`), but that is
a loss of data the operator should choose: unless ``quarantine_stubs: true``, start-up
refuses a route whose topics allow it, naming the topics, the sizes and the setting.

What reaches an output whole: on the clean topic, values up to ``max_record_bytes``
(larger ones are ``too_large``); on the quarantine topic, up to the source's own limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from dqgate.config import GateConfig, RouteConfig

__all__ = ["HEADER_SLACK_BYTES", "RouteSizes", "header_bound", "size_problems"]

log = logging.getLogger(__name__)

HEADER_SLACK_BYTES: Final = 1024
"""Header names, varint lengths, record and batch overhead, renamed foreign headers."""
_LINEAGE_VALUE_BYTES: Final = 10 + 20 + 20  # partition, offset, timestamp as decimals
_QUARANTINE_FIXED_BYTES: Final = 64 + 8 + 32 + 24  # hash, stage, version, quarantined_at


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSizes:
    """The most header bytes the gate adds to a route's clean and quarantine records."""

    clean_headers: int
    quarantine_headers: int


def header_bound(route: RouteConfig, suite: Any, config: GateConfig) -> RouteSizes:
    """A generous bound of the header bytes the gate adds on ``route`` (its ``suite``)."""
    lineage = HEADER_SLACK_BYTES + len(route.source.encode()) + _LINEAGE_VALUE_BYTES
    failures = 0
    for expectation in getattr(suite, "expectations", ()):
        failure = expectation.on_fail
        failures += 96 + len(str(failure.expectation_id)) + len(failure.type)
        failures += len(str(failure.column or "")) + len(str(failure.reason))
    quarantine = lineage + _QUARANTINE_FIXED_BYTES + len(str(suite.name).encode()) + failures
    quarantine += 2 * failures // 3  # the reasons list and the stub's own headers
    if config.quarantine_values:
        columns = len(getattr(suite, "columns", ()))
        quarantine += columns * (config.quarantine_values_max_bytes + 32)
    return RouteSizes(clean_headers=lineage, quarantine_headers=quarantine)


def size_problems(
    config: GateConfig,
    limits: Mapping[str, int],
    bounds: Mapping[str, RouteSizes],
) -> list[str]:
    """Each output that refuses some record its source accepts (plus headers), explained.

    ``limits``: ``max.message.bytes`` per topic (topics missing from it are not checked).
    """
    problems = []
    for route in config.routes:
        source = limits.get(route.source)
        if source is None:
            continue
        sizes = bounds[route.name]
        reaching = (
            (route.clean, min(source, config.max_record_bytes) + sizes.clean_headers),
            (route.quarantine, source + sizes.quarantine_headers),
        )
        for topic, needed in reaching:
            limit = limits.get(topic)
            if limit is not None and needed > limit:
                problems.append(
                    f"route {route.name!r}: source {route.source!r} accepts records of up to "
                    f"{source:,} bytes (its max.message.bytes); with the gate's headers "
                    f"(up to {needed - min(source, needed):,} bytes) they need {needed:,} "
                    f"bytes in {topic!r}, whose max.message.bytes is {limit:,}. Raise it: "
                    f"kafka-configs.sh --alter --entity-type topics --entity-name {topic} "
                    f"--add-config max.message.bytes={needed}"
                )
    return problems


def max_message_bytes(described: Iterable[Any]) -> dict[str, int]:
    """``max.message.bytes`` per topic from aiokafka's DescribeConfigs responses."""
    limits: dict[str, int] = {}
    for response in described:
        for resource in response.resources:
            error_code, _message, _type, name, entries = resource[:5]
            if error_code:
                continue
            for entry in entries:
                if entry[0] == "max.message.bytes" and entry[1] is not None:
                    limits[str(name)] = int(entry[1])
    return limits
