"""A scenario file as loaded: the YAML tree with positions, and the problems found in it.

Every problem is a :class:`Diagnostic` with file, line and column, found from the path of
the node it is about (:meth:`Doc.add`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

NodePath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a scenario file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass
class Loaded:
    """The outcome of loading one file: the scenario (when valid) and every problem found."""

    path: str
    scenario: dict[str, Any] | None = None
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file is a valid scenario."""
        return self.scenario is not None and not self.problems


class Doc:
    """The loaded YAML tree with a way back from a path to a position."""

    def __init__(self, name: str, root: Any) -> None:
        self.name = name
        self.root = root
        self.problems: list[Diagnostic] = []

    def at(self, path: NodePath, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the node at ``path`` (of its key when ``key``)."""
        node = self.root
        line, col = 0, 0
        for part in path:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part) if key and part == path[-1] else node.lc.value(part)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
                node = node[part]
            else:
                break
        if isinstance(node, CommentedMap | CommentedSeq) and not key and node is not self.root:
            line, col = node.lc.line, node.lc.col
        return line + 1, col + 1

    def add(self, path: NodePath, message: str, *, key: bool = False) -> None:
        """Record a problem at the node at ``path``."""
        line, col = self.at(path, key=key)
        self.problems.append(Diagnostic(self.name, line, col, message))


def new_yaml() -> YAML:
    """A round-trip YAML 1.2 parser that refuses duplicate keys."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def plain(node: Any) -> Any:
    """ruamel's tree as plain JSON data (timestamps become ISO strings)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, datetime):
        return node.isoformat().replace("+00:00", "Z")
    if isinstance(node, date):
        return node.isoformat()
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def where(path: NodePath) -> str:
    """A path as the JSON-pointer-like text used in messages."""
    return "/".join(str(p) for p in path) or "(top)"
