"""``--config GATE.YAML`` and ``--param NAME=VALUE`` for the offline suite commands.

``dqgate suites check`` and ``dqgate validate`` resolve a suite's ``{"$PARAMETER": name}``
kwargs as the gate would: from the ``suite_parameters`` of the route that uses the suite
in the gate configuration, then ``--param`` (which wins), then the suite file's own
``suite_parameters``. So a parameterised suite can be checked before it is deployed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dqgate.errors import ConfigError

if TYPE_CHECKING:
    from dqgate.config import GateConfig, RouteConfig

__all__ = [
    "DEFAULT_SUITES_DIR",
    "SuiteSource",
    "add_suite_options",
    "parameters_for",
    "parse_param",
    "suite_sources",
]

DEFAULT_SUITES_DIR = Path("expectations")


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteSource:
    """A suite file and the parameters it is checked with (``route``: where they came from)."""

    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    route: str | None = None
    allow_empty: bool = False


def parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` -> (name, value); the value is read as a YAML scalar (18 is a number)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. min_age=18), got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict | list):
        value = raw  # a scalar was meant: keep the text
    return name, value


def add_suite_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--config`` and ``--param`` to an offline suite command."""
    group = parser.add_argument_group("suite parameters ($PARAMETER kwargs)")
    group.add_argument(
        "--config", metavar="GATE.YAML", type=Path,
        help="the gate configuration: each suite gets the suite_parameters of its route",
    )  # fmt: skip
    group.add_argument(
        "--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE",
        help="a suite parameter (repeatable; wins over --config's)",
    )  # fmt: skip


def _load(config: Path | None) -> GateConfig | None:
    if config is None:
        return None
    from dqgate.config import load_config

    return load_config(config)


def _same_file(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def parameters_for(
    suite: Path,
    config: GateConfig | None,
    params: Sequence[tuple[str, Any]],
    *,
    route: str | None = None,
) -> SuiteSource:
    """The parameters of ``suite``: its route's (``route``, or the routes that use it), then
    ``params``. ConfigError when the routes disagree or ``route`` is unknown."""
    given = dict(params)
    if config is None:
        if route is not None:
            raise ConfigError("--route needs --config GATE.YAML")
        return SuiteSource(path=suite, parameters=given)
    chosen: list[RouteConfig]
    if route is not None:
        chosen = [r for r in config.routes if r.name == route]
        if not chosen:
            names = ", ".join(r.name for r in config.routes)
            raise ConfigError(f"{config.origin}: no route {route!r} (routes: {names})")
    else:
        chosen = [r for r in config.routes if _same_file(r.suite, suite)]
        if not chosen and len(config.routes) == 1:
            chosen = list(config.routes)  # the one route: a new version of its suite
    if not chosen:
        routes = ", ".join(f"{r.name} ({r.suite})" for r in config.routes)
        raise ConfigError(
            f"{suite} is not the suite of a route of {config.origin}; name the route whose "
            f"suite_parameters apply with --route (routes: {routes})"
        )
    if any(r.suite_parameters != chosen[0].suite_parameters for r in chosen):
        names = ", ".join(r.name for r in chosen)
        raise ConfigError(
            f"{suite} is used by routes {names} with different suite_parameters; "
            "choose one with --route"
        )
    first = chosen[0]
    return SuiteSource(
        path=suite,
        parameters={**dict(first.suite_parameters), **given},
        route=first.name,
        allow_empty=all(r.allow_empty_suite or not r.validate for r in chosen),
    )


def suite_sources(
    paths: Sequence[Path], config_path: Path | None, params: Sequence[tuple[str, Any]]
) -> list[SuiteSource]:
    """Every suite to check: the files and folders given, else --config's routes' suites,
    else the default folder; each with its parameters (one entry per distinct set)."""
    config = _load(config_path)
    if not paths and config is not None:
        out: list[SuiteSource] = []
        for r in config.routes:
            source = Path(r.suite)
            merged = {**dict(r.suite_parameters), **dict(params)}
            if not any(_same_file(o.path, source) and o.parameters == merged for o in out):
                out.append(SuiteSource(path=source, parameters=merged, route=r.name))
        return out
    if not paths:
        if not DEFAULT_SUITES_DIR.is_dir():
            raise ConfigError(
                f"no suite given and the default folder {DEFAULT_SUITES_DIR}/ "
                f"({DEFAULT_SUITES_DIR.resolve()}) does not exist here; give suite files or "
                "folders, or --config GATE.YAML to check its routes' suites"
            )
        paths = [DEFAULT_SUITES_DIR]
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    if config is None:
        return [SuiteSource(path=f, parameters=dict(params)) for f in files]
    sources: list[SuiteSource] = []
    for file in files:
        users = [r for r in config.routes if _same_file(r.suite, file)] if file.exists() else []
        if not users:
            sources.append(SuiteSource(path=file, parameters=dict(params)))
        mine: list[SuiteSource] = []
        for r in users:
            merged = {**dict(r.suite_parameters), **dict(params)}
            if not any(o.parameters == merged for o in mine):
                mine.append(SuiteSource(path=file, parameters=merged, route=r.name))
        sources.extend(mine)
    return sources
