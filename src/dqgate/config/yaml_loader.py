"""YAML for gate.yaml: PyYAML's safe loader, refusing a key written twice in one mapping.

PyYAML keeps the last of two equal keys without a word, so a duplicated ``group_id``
silently replaces the first one. Here the second occurrence is an error naming both
lines. Keys brought in by a YAML merge (``<<: *defaults``) may still be overridden: only
the keys written in the mapping itself are compared.
"""

from __future__ import annotations

from typing import IO, Any

import yaml

__all__ = ["DuplicateKeyError", "load_yaml"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice."""

    def __init__(self, key: Any, first: yaml.Mark, second: yaml.Mark) -> None:
        super().__init__()
        self.key, self.first, self.second = key, first, second

    def __str__(self) -> str:
        return (
            f"line {self.second.line + 1}: duplicate key {self.key!r} (first at line "
            f"{self.first.line + 1}); YAML would silently keep only the last one: "
            "remove one of them"
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader whose mappings refuse duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: the base class says so
                continue
            if first is not key_node:
                raise DuplicateKeyError(key, first.start_mark, key_node.start_mark)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def load_yaml(stream: IO[str]) -> Any:
    """The document in ``stream`` (marks name the stream's file); DuplicateKeyError, YAMLError."""
    return yaml.load(stream, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe
