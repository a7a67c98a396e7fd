"""The expected-failures file of ``byggesak-sandbox run``: read strictly, checked against the
library, so that a typo never silently stops a failure from being expected.

Two formats: ``scenario/expectation`` lines (``#`` starts a comment), or a YAML list of
such strings or of ``{scenario: …, expectation: …}`` mappings. Every problem names the
file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

ENTRY = re.compile(r"^([a-z][a-z0-9_-]*)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")


class ListError(ValueError):
    """The file cannot be used; the message is one line, ``file:line: what``."""


@dataclass(frozen=True)
class Listed:
    """One expected failure and the line it is on."""

    scenario: str
    expectation: str
    line: int

    @property
    def key(self) -> str:
        """``scenario/expectation``, as the runner matches verdicts."""
        return f"{self.scenario}/{self.expectation}"


def read_listed(path: Path) -> list[Listed]:
    """Every entry of the file; ListError on a file that is not UTF-8 text or not the format."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ListError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ListError(f"{path}:{line}: not a text file (a NUL byte)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ListError(f"{path}:{line}: not UTF-8 text (byte {data[exc.start]:#04x})") from None
    first = next((s for s in (x.strip() for x in text.splitlines()) if s and s[0] != "#"), "")
    if first.startswith(("-", "[")):
        return _yaml_list(path, text)
    return _lines(path, text)


def _lines(path: Path, text: str) -> list[Listed]:
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        found.append(_entry(path, number, line))
    return found


def _entry(path: Path, line: int, text: str) -> Listed:
    match = ENTRY.match(text)
    if match is None:
        raise ListError(f"{path}:{line}: expected 'scenario/expectation', got '{text[:80]}'")
    return Listed(match[1], match[2], line)


def _yaml_list(path: Path, text: str) -> list[Listed]:
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        lines = len(text.splitlines())
        marks = [m.line + 1 for m in (exc.problem_mark, exc.context_mark) if m is not None]
        # A problem found at the end of the stream is named where its construct began.
        line = next((m for m in marks if m <= lines), lines)
        raise ListError(f"{path}:{line}: not valid YAML ({exc.problem or exc.context})") from None
    if not isinstance(data, list):
        raise ListError(f"{path}:1: expected a YAML list of 'scenario/expectation'")
    found = []
    for index, item in enumerate(data):
        line = _item_line(data, index)
        if isinstance(item, str):
            found.append(_entry(path, line, item.strip()))
        elif isinstance(item, Mapping) and {"scenario", "expectation"} <= set(item):
            found.append(_entry(path, line, f"{item['scenario']}/{item['expectation']}"))
        else:
            raise ListError(
                f"{path}:{line}: expected 'scenario/expectation' or {{scenario: …, expectation: …}}"
            )
    return found


def _item_line(data: Any, index: int) -> int:
    try:
        return int(data.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def check_listed(path: Path, listed: list[Listed], library: Mapping[str, Set[str]]) -> None:
    """ListError naming every entry whose scenario or expectation the library does not have."""
    problems = []
    for item in listed:
        expectations = library.get(item.scenario)
        if expectations is None:
            problems.append(f"{path}:{item.line}: no scenario '{item.scenario}' in the library")
        elif item.expectation not in expectations:
            problems.append(
                f"{path}:{item.line}: scenario '{item.scenario}' has no expectation "
                f"'{item.expectation}'"
            )
    if problems:
        raise ListError("; ".join(problems))
