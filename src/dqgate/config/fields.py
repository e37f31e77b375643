"""Flat dotted-key values with their origins, and the typed getters that check them."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TypeVar

from dqgate.config.model import (
    HttpAddress,
    Secret,
    parse_http_address,
)
from dqgate.config.schema import (
    _SECTION_SECRETS,
    _SECTIONS,
    _TOP_SCALARS,
)
from dqgate.errors import ConfigError

_TOPIC_NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_E = TypeVar("_E", bound=StrEnum)


class _Values:
    """Flat dotted-key values, each remembering where it came from (for error messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        self.bases: dict[str, Path] = {}

    def put(self, key: str, value: Any, *, origin: str, base: Path) -> None:
        self.values[key] = value
        self.origins[key] = origin
        self.bases[key] = base

    def where(self, key: str) -> str:
        return f"{key} (from {self.origins.get(key, 'defaults')})"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: {problem}")


def _flatten(
    raw: Mapping[str, Any], values: _Values, *, origin: str, base: Path
) -> tuple[list[Any], str, Path] | None:
    known = set(_TOP_SCALARS) | set(_SECTIONS) | {"routes", "redact"}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{origin}: unknown key {key!r}{_suggest(str(key), known)}")
        if key in _SECTIONS:
            if value is None:
                values.put(key, None, origin=origin, base=base)
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: {key} must be a mapping, not {_kind(value)}")
            for sub, subvalue in value.items():
                if sub in _SECTION_SECRETS.get(key, {}):
                    raise ConfigError(
                        f"{origin}: {key}.{sub}: secrets are never read from the config file; "
                        f"set DQGATE_{key.upper()}_{sub.upper()} or "
                        f"{key}.{_SECTION_SECRETS[key][sub]}"
                    )
                if sub not in _SECTIONS[key]:
                    raise ConfigError(
                        f"{origin}: unknown key {key}.{sub!s}{_suggest(str(sub), _SECTIONS[key])}"
                    )
                values.put(f"{key}.{sub}", subvalue, origin=origin, base=base)
        elif key != "routes":
            values.put(key, value, origin=origin, base=base)
    if "routes" not in raw:
        return None
    if not isinstance(raw["routes"], list):
        raise ConfigError(f"{origin}: routes must be a list of routes, not {_kind(raw['routes'])}")
    return (list(raw["routes"]), origin, base)


def _suggest(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?) (known keys: ...)`` for an unknown ``word``."""
    names = sorted(known)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint} (known keys: {', '.join(names)})"


def _get(values: _Values, key: str) -> Any:
    return values.values.get(key)


def _str(values: _Values, key: str, *, default: str | None = None) -> str:
    value = _get(values, key)
    if value is None:
        if default is None:
            raise values.fail(key, "is required")
        return default
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        raise values.fail(key, f"expected a non-empty string, got {_kind(value)}")
    return str(value).strip()


def _opt_str(values: _Values, key: str) -> str | None:
    return None if _get(values, key) is None else _str(values, key)


def _int(values: _Values, key: str, *, default: int, minimum: int) -> int:
    found = _opt_int(values, key, minimum=minimum)
    return default if found is None else found


def _opt_int(values: _Values, key: str, *, minimum: int) -> int | None:
    value = _get(values, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise values.fail(key, f"expected an integer, got {_kind(value)}")
    try:
        number = int(value)
    except ValueError:
        raise values.fail(key, f"expected an integer, got {value!r}") from None
    if number < minimum:
        raise values.fail(key, f"must be at least {minimum}, got {number}")
    return number


def _float(
    values: _Values, key: str, *, default: float, minimum: float, maximum: float | None = None
) -> float:
    value = _get(values, key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise values.fail(key, f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise values.fail(key, f"expected a number, got {value!r}") from None
    if not minimum <= number or (maximum is not None and number > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise values.fail(key, f"must be {bound}, got {number}")
    return number


def _names(values: _Values, key: str) -> tuple[str, ...]:
    value = _get(values, key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise values.fail(key, f"expected a list of field names, got {_kind(value)}")
    return tuple(value)


def _bool(values: _Values, key: str, *, default: bool) -> bool:
    value = _get(values, key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise values.fail(key, f"expected true or false, got {value!r}")


def _resolved(values: _Values, key: str) -> Path | None:
    """The path under ``key``, relative ones resolved against the file that set it."""
    text = _opt_str(values, key)
    if text is None:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else values.bases.get(key, Path.cwd()) / path


def _path(values: _Values, key: str) -> str | None:
    path = _resolved(values, key)
    if path is None:
        return None
    if not path.is_file():
        raise values.fail(key, f"file {path} does not exist or is not a file")
    return str(path)


def _out_path(values: _Values, key: str) -> str | None:
    """A file the program writes (it may not exist yet): absolute, its folder must exist."""
    path = _resolved(values, key)
    if path is None:
        return None
    if not path.parent.is_dir():
        raise values.fail(key, f"folder {path.parent} does not exist")
    if path.is_dir():
        raise values.fail(key, f"{path} is a folder; name a file")
    return str(path)


def _secret(values: _Values, key: str) -> Secret | None:
    direct = _get(values, key)
    if direct is not None:
        return Secret(str(direct))
    section, name = key.split(".", 1)
    file_key = f"{section}.{_SECTION_SECRETS[section][name]}"
    path = _path(values, file_key)
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise values.fail(file_key, f"cannot read the secret file: {exc}") from exc
    if not text:
        raise values.fail(file_key, f"the secret file {path} is empty")
    return Secret(text)


def _address(values: _Values, key: str) -> HttpAddress | None:
    value = _get(values, key)
    if value is None:
        return HttpAddress()
    try:
        return parse_http_address(value)
    except (ValueError, TypeError) as exc:
        raise values.fail(key, str(exc)) from None


def _enum(values: _Values, key: str, enum: type[_E]) -> _E | None:
    text = _opt_str(values, key)
    if text is None:
        return None
    wanted = text.strip().casefold()
    for member in enum:
        if member.value.casefold() == wanted:
            return member
    allowed = ", ".join(e.value for e in enum)
    raise values.fail(key, f"{text!r} is not one of {allowed}")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
