"""The typed scenario (``app.scenarios.model``): made by the loader, the same words as the schema."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from app.scenarios import model
from app.scenarios.loader import load_file, load_text
from app.scenarios.schema import scenario_schema
from app.vocabulary import ANY_API, DEFAULT_SEVERITY

LIBRARY = Path(__file__).parents[1] / "scenarios"

MINIMAL = """\
id: tiny
version: 1
title: Tiny
description: A journalføring, a vedtak, one fault, one expectation.
timeline:
  - id: journalfor
    trigger: {at: PT1H}
    event: {type: journalfor}
  - id: vedtak
    trigger: {on: kvittering_hentet, count: 2, delay: P1D}
    event: {type: vedtak, resultat: innvilget}
faults:
  - id: treg
    kind: slow
    delay_ms: 5
expect:
  - id: henter
    request: {method: GET, path: /api/v1/kvittering}
    count: {min: 0}
    within: P2D
"""


def _fields(cls: type[Any]) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _properties(*path: str) -> set[str]:
    node: dict[str, Any] = scenario_schema()
    for key in path:
        node = node["properties"][key]
        node = node.get("items", node)
    return set(node["properties"])


@pytest.mark.parametrize(
    ("cls", "path", "apart"),
    [
        (model.Scenario, (), {"profile", "seed", "clock", "variables"}),
        (model.Step, ("timeline",), set()),
        (model.Trigger, ("timeline", "trigger"), set()),
        (model.Fault, ("faults",), set()),
        (model.Expectation, ("expect",), {"count"}),
        (model.RequestMatcher, ("expect", "request"), set()),
    ],
)
def test_every_word_of_the_schema_is_a_field_of_the_model(
    cls: type[Any], path: tuple[str, ...], apart: set[str]
) -> None:
    # ``apart``: what a run reads from its own columns (seed, clock), or flattened (count).
    missing = _properties(*path) - _fields(cls) - apart
    assert not missing, f"{cls.__name__} lacks {sorted(missing)} that the schema allows"


def test_an_expectations_count_is_flattened_into_the_model() -> None:
    assert _properties("expect", "count") <= _fields(model.Expectation)


def test_the_loader_makes_the_model_with_the_schemas_defaults() -> None:
    loaded = load_text(MINIMAL, "tiny.yaml")
    assert loaded.ok and loaded.model is not None, loaded.problems
    scenario = loaded.model
    journalfor, vedtak = scenario.timeline
    assert (journalfor.trigger.at, journalfor.trigger.count, journalfor.trigger.delay) == (
        "PT1H",
        1,
        "PT0S",
    )
    assert (vedtak.trigger.on, vedtak.trigger.count, vedtak.trigger.delay) == (
        "kvittering_hentet",
        2,
        "P1D",
    )
    assert vedtak.event_type == "vedtak" and vedtak.event["resultat"] == "innvilget"
    [fault] = scenario.faults
    assert (fault.kind, fault.api, fault.delay_ms, fault.retry_after) == ("slow", ANY_API, 5, 1)
    assert fault.times is None and fault.probability is None
    [expectation] = scenario.expect
    assert expectation.severity == DEFAULT_SEVERITY and expectation.weight == 1.0
    assert expectation.min == 0 and expectation.exactly is None and expectation.max is None
    assert expectation.request.method == "GET" and expectation.within == "P2D"
    assert scenario.step("vedtak") is vedtak and scenario.step("nei") is None


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_library_scenario_has_a_model_that_says_what_its_json_says(path: Path) -> None:
    loaded = load_file(path)
    assert loaded.ok and loaded.model is not None and loaded.scenario is not None
    plain, typed = loaded.scenario, loaded.model
    assert typed.id == plain["id"] and typed.title == plain["title"]
    assert [s.id for s in typed.timeline] == [s["id"] for s in plain["timeline"]]
    assert [s.trigger.source for s in typed.timeline] == [s["trigger"] for s in plain["timeline"]]
    assert [f.id for f in typed.faults] == [f["id"] for f in plain.get("faults") or []]
    assert [e.id for e in typed.expect] == [e["id"] for e in plain.get("expect") or []]
    assert [e.check for e in typed.expect] == [e.get("check") for e in plain.get("expect") or []]


class _Holder:
    def __init__(self, scenario: dict[str, Any] | None) -> None:
        self.scenario = scenario


def test_a_runs_scenario_is_made_once_per_json_object_and_again_for_a_new_one() -> None:
    loaded = load_text(MINIMAL, "tiny.yaml")
    assert loaded.scenario is not None
    data = loaded.scenario
    first = model.scenario_of(_Holder(data))
    assert model.scenario_of(_Holder(data)) is first
    again = dict(data, title="Tiny, read again")  # a run read again holds a new object
    assert model.scenario_of(_Holder(again)).title == "Tiny, read again"
    assert model.scenario_of(_Holder(None)) is model.EMPTY
    assert model.scenario_of(_Holder({})) is model.EMPTY
