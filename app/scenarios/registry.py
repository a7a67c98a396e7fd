"""The scenario catalogue from a folder, reloaded while the server runs.

On each look (at most once a second) changed files are validated; a valid file replaces
its previous version in one swap of the catalogue, a broken one keeps the last good
version live and is reported under ``problems``. Runs never see a reload: each run keeps
the snapshot it was started with.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from app.scenarios.loader import Diagnostic, load_file
from app.scenarios.model import Scenario

RESCAN_SECONDS = 1.0


@dataclass(frozen=True)
class Entry:
    """One valid scenario and where it came from."""

    id: str
    path: Path
    scenario: dict[str, Any]  # the plain JSON a run keeps as its snapshot
    model: Scenario
    text: str
    stamp: tuple[float, int]


@dataclass(frozen=True)
class Catalogue:
    """An immutable view: the valid scenarios by id and the problems of the files that are not."""

    entries: dict[str, Entry] = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()


class ScenarioRegistry:
    """The catalogue of a folder; safe to share between threads."""

    def __init__(self, folder: Path, *, reload: bool = True) -> None:
        self.folder = folder
        self.reload = reload
        self._lock = threading.Lock()
        self._catalogue = Catalogue()
        self._stamps: dict[Path, tuple[float, int]] = {}
        self._by_file: dict[Path, Entry] = {}
        self._file_problems: dict[Path, tuple[Diagnostic, ...]] = {}
        self._checked: float | None = None

    def catalogue(self) -> Catalogue:
        """The current catalogue: loaded on first use, rescanned (when reload is on) after that."""
        checked = self._checked
        if checked is None or (self.reload and time.monotonic() - checked >= RESCAN_SECONDS):
            self.refresh()
        return self._catalogue

    def get(self, scenario_id: str) -> Entry | None:
        """One scenario by id."""
        return self.catalogue().entries.get(scenario_id)

    def refresh(self) -> None:
        """Validate changed files and swap in the new catalogue."""
        with self._lock:
            files = sorted(self.folder.glob("*.yaml")) if self.folder.is_dir() else []
            for path in set(self._stamps) - set(files):
                self._stamps.pop(path, None)
                self._by_file.pop(path, None)
                self._file_problems.pop(path, None)
            for path in files:
                try:
                    stat = path.stat()
                except OSError:
                    continue
                stamp = (stat.st_mtime, stat.st_size)
                if self._stamps.get(path) == stamp:
                    continue
                self._stamps[path] = stamp
                loaded = load_file(path, display=str(path))
                if loaded.ok and loaded.scenario is not None and loaded.model is not None:
                    self._by_file[path] = Entry(
                        str(loaded.model.id),
                        path,
                        loaded.scenario,
                        loaded.model,
                        path.read_text("utf-8"),
                        stamp,
                    )
                    self._file_problems.pop(path, None)
                else:
                    # Keep the last good version of this file live.
                    self._file_problems[path] = tuple(loaded.problems)
            entries: dict[str, Entry] = {}
            problems = [p for ps in self._file_problems.values() for p in ps]
            for path in sorted(self._by_file):
                entry = self._by_file[path]
                if entry.id in entries:
                    problems.append(
                        Diagnostic(
                            str(path),
                            1,
                            1,
                            f"scenario id '{entry.id}' is also used by {entries[entry.id].path}",
                        )
                    )
                    continue
                entries[entry.id] = entry
            self._catalogue = Catalogue(entries, tuple(sorted(problems)))
            # Only now: a thread that finds ``_checked`` set must find the catalogue loaded.
            self._checked = time.monotonic()


def init_app(app: Flask) -> None:
    """Load the scenario folder named by SCENARIO_DIR."""
    app.extensions["sandbox.scenarios"] = ScenarioRegistry(
        Path(app.config["SCENARIO_DIR"]), reload=bool(app.config["SCENARIO_RELOAD"])
    )


def get_registry() -> ScenarioRegistry:
    """The app's scenario registry."""
    registry: ScenarioRegistry = current_app.extensions["sandbox.scenarios"]
    return registry
