"""Scenario files past a bound (nesting, aliases, size): one file:line:col line, exit 1, fast."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import limits
from app.scenarios.loader import load_file, load_text
from app.scenarios.registry import ScenarioRegistry

ROOT = Path(__file__).parents[1]
BROKEN = Path(__file__).parent / "scenarios_broken"
CLI = Path(sys.executable).with_name("byggesak-sandbox")
BOUNDED = {
    "nested-too-deep.yaml": "3:42: YAML: nested deeper than 32 levels",
    "nested-too-deep-block.yaml": "19:35: YAML: nested deeper than 32 levels",
    "billion-laughs.yaml": "7:8: YAML: more than 10000 nodes with every alias written out",
}


@pytest.mark.parametrize(("name", "expected"), BOUNDED.items())
def test_a_file_past_a_bound_is_one_line_and_exit_1(name: str, expected: str) -> None:
    path = BROKEN / name
    started = time.monotonic()
    loaded = load_file(path, display=name)
    assert time.monotonic() - started < 2
    assert [str(p) for p in loaded.problems] == [f"{name}:{expected}"]
    done = subprocess.run(
        [str(CLI), "lint", str(path.relative_to(ROOT))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == f"tests/scenarios_broken/{name}:{expected}\n"
    assert "Traceback" not in done.stderr


def test_a_file_over_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("id: big\ntags:\n" + "".join(f"  - t{i}\n" for i in range(8_000)))
    started = time.monotonic()
    loaded = load_file(path, display="big.yaml")
    assert time.monotonic() - started < 0.5
    size = path.stat().st_size
    assert [str(p) for p in loaded.problems] == [
        f"big.yaml:1:1: the file is {size} bytes; a scenario may be {limits.SCENARIO_BYTES}"
    ]


def test_long_lists_are_answered_quickly_with_their_position() -> None:
    head = "id: x\nversion: 1\ntitle: t\ndescription: d\ntimeline: []\ntags:\n"
    started = time.monotonic()
    loaded = load_text(head + "".join("  - {}\n" for _ in range(4_000)), "x.yaml")
    # A guard against a hang, not a speed test: a loaded 2-core CI machine took 2.03 s.
    assert time.monotonic() - started < 10
    assert "x.yaml:7:3: tags: longer than 20" in [str(p) for p in loaded.problems]


def test_anchors_within_the_bounds_still_load() -> None:
    text = (ROOT / "scenarios" / "happy-path.yaml").read_text("utf-8")
    text += "variables:\n  navn: &navn Kari\n  kopi: *navn\n"
    loaded = load_text(text, "happy-path.yaml")
    assert loaded.ok, loaded.problems
    assert loaded.scenario is not None and loaded.scenario["variables"]["kopi"] == "Kari"


def test_hot_reload_keeps_serving_past_a_billion_laughs(tmp_path: Path) -> None:
    good = (ROOT / "scenarios" / "happy-path.yaml").read_text("utf-8")
    (tmp_path / "happy-path.yaml").write_text(good)
    registry = ScenarioRegistry(tmp_path)
    assert registry.get("happy-path") is not None
    (tmp_path / "laughs.yaml").write_text((BROKEN / "billion-laughs.yaml").read_text())
    started = time.monotonic()
    registry.refresh()
    assert time.monotonic() - started < 2
    assert registry.get("happy-path") is not None
    problems = [p.message for p in registry.catalogue().problems]
    assert problems == ["YAML: more than 10000 nodes with every alias written out"]
