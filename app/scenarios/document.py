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
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.parser import RoundTripParser

from app import limits
from app.scenarios.model import Scenario

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
    scenario: dict[str, Any] | None = None  # the plain JSON, which a run keeps as its snapshot
    problems: list[Diagnostic] = field(default_factory=list)
    model: Scenario | None = None  # the same, typed, for the engine and the scoring

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


class BoundsExceeded(MarkedYAMLError):
    """The file nests deeper than a scenario may, or its aliases expand too far."""


class BoundedParser(RoundTripParser):
    """ruamel's round-trip parser, stopped where a file passes a bound of :mod:`app.limits`.

    Counted on the events as they are read, so neither a file nested thousands deep (the
    composer recurses) nor a "billion laughs" of nested aliases (each one expanding the
    one before) is ever built.
    """

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self.depth = 0
        self.nodes = 0  # as if every alias were written out
        self.sizes: dict[str, int] = {}
        self.opened: list[tuple[str | None, int]] = []

    def get_event(self) -> Any:
        """The next event, once it is counted."""
        event = super().get_event()
        self._count(event)
        return event

    def _count(self, event: Event) -> None:
        if isinstance(event, AliasEvent):
            self.nodes += self.sizes.get(str(event.anchor), 1)
        elif isinstance(event, NodeEvent):
            self.nodes += 1
        if isinstance(event, CollectionStartEvent):
            self.depth += 1
            self.opened.append((event.anchor, self.nodes - 1))
            if self.depth > limits.SCENARIO_DEPTH:
                self._stop(event, f"nested deeper than {limits.SCENARIO_DEPTH} levels")
        elif isinstance(event, CollectionEndEvent):
            self.depth -= 1
            anchor, before = self.opened.pop()
            if anchor is not None:
                self.sizes[str(anchor)] = self.nodes - before
        elif isinstance(event, ScalarEvent) and event.anchor is not None:
            self.sizes[str(event.anchor)] = 1
        if self.nodes > limits.SCENARIO_NODES:
            self._stop(
                event, f"more than {limits.SCENARIO_NODES} nodes with every alias written out"
            )

    @staticmethod
    def _stop(event: Event, problem: str) -> None:
        raise BoundsExceeded(problem=problem, problem_mark=event.start_mark)


def new_yaml() -> YAML:
    """A round-trip YAML 1.2 parser that refuses duplicate keys and stops at the bounds."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.Parser = BoundedParser
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
