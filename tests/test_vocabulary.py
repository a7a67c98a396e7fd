"""The vocabulary and every list that implements it name the same words.

Each audit below is a function of the registry it checks, so the last tests can hand it a
deliberately wrong registry and see it report the difference.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import click
import pytest

from app import vocabulary
from app.api import journal
from app.cli.runs import runs_group
from app.domain.events import EVENT_TYPES
from app.engine import clock, faults
from app.scoring import checks
from app.scoring.evidence import Exchange
from app.store import journal_reads
from app.ui import CLOCK_MODES as UI_CLOCK_MODES
from app.vocabulary_audit import disagreements, internal_disagreements, missing
from app.wire.inputs import EVENT_SCHEMAS, ClockSchema
from app.wire.inputs import events as input_events

ROOT = Path(__file__).parents[1]
COMMITTED = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text("utf-8"))
SCENARIOS_MD = (ROOT / "docs" / "scenarios.md").read_text("utf-8")
RESULTS_MD = (ROOT / "docs" / "results.md").read_text("utf-8")
SCHEMA_FILE = "scenario.schema.json"

Registry = Mapping[str, Any]


def _node(*path: str) -> dict[str, Any]:
    """A property of the committed schema, through ``items`` of arrays."""
    node: dict[str, Any] = COMMITTED
    for name in path:
        node = node["properties"][name]
        node = node.get("items", node)
    return node


def _documented(names: Registry, text: str, where: str, what: str) -> list[str]:
    return [f"{what} '{n}' is not mentioned in {where}" for n in names if f"`{n}`" not in text]


def event_kind_problems(kinds: Registry = vocabulary.EVENT_KINDS) -> list[str]:
    """Event kinds: the domain classes, the input schemas, the committed JSON Schema."""
    out = disagreements(
        "event kind",
        kinds,
        {
            "app.domain.events": EVENT_TYPES,
            "app.wire.inputs.EVENT_SCHEMAS": EVENT_SCHEMAS,
            SCHEMA_FILE: _node("timeline", "event", "type")["enum"],
        },
    )
    out += [
        f"event class {c.__name__} is filed as '{k}'" for k, c in EVENT_TYPES.items() if c.kind != k
    ]
    return out


def fault_kind_problems(kinds: Registry = vocabulary.FAULT_KINDS) -> list[str]:
    """Fault kinds: their implementations, the JSON Schema, the keys each one needs."""
    fault = _node("faults")
    out = disagreements(
        "fault kind",
        kinds,
        {
            "app.engine.faults.STRIKES": faults.STRIKES,
            SCHEMA_FILE: fault["properties"]["kind"]["enum"],
        },
    )
    for name, kind in kinds.items():
        out += missing(
            f"key needed by fault kind '{name}'", kind.needs, fault["properties"], "faults[]"
        )
    return out


def fault_api_problems(apis: tuple[str, ...] = vocabulary.APIS) -> list[str]:
    """The APIs a fault may target: the endpoints that ask for faults, the JSON Schema."""
    called = set()
    for path in (ROOT / "app" / "api").glob("*.py"):
        called |= set(re.findall(r"client_request\(\"(\w+)\"\)", path.read_text("utf-8")))
    assert called, "no client_request(...) calls found in app/api"
    return disagreements(
        "API",
        [*apis, vocabulary.ANY_API],
        {
            "app/api (client_request calls)": [*called, vocabulary.ANY_API],
            SCHEMA_FILE: _node("faults")["properties"]["api"]["enum"],
        },
    )


def check_problems(names: Registry = vocabulary.PROTOCOL_CHECKS) -> list[str]:
    """Protocol checks: the check functions, the JSON Schema."""
    return disagreements(
        "check",
        names,
        {
            "app.scoring.checks.CHECKS": checks.CHECKS,
            SCHEMA_FILE: _node("expect")["properties"]["check"]["enum"],
        },
    )


def client_action_problems(actions: Registry = vocabulary.CLIENT_ACTIONS) -> list[str]:
    """Client actions: the journal records each, polls are the polled ones, the JSON Schema."""
    out = disagreements(
        "client action",
        [*actions, vocabulary.POLL],
        {SCHEMA_FILE: _node("timeline", "trigger")["properties"]["on"]["enum"]},
    )
    for name, action in actions.items():
        path = action.path.replace("{id}", "0f7e1c2a")
        outcome = name if action.refines else None
        recorded = journal.action_of(action.method, path, action.status, outcome)
        if recorded != name:
            out.append(
                f"client action '{name}': the journal records {action.method} {path} "
                f"{action.status} as {recorded!r}"
            )
        plain = journal.action_of(action.method, path, action.status)
        if action.refines is not None and plain != action.refines:
            out.append(
                f"client action '{name}': without its outcome the journal records "
                f"{action.method} {path} {action.status} as {plain!r}, not '{action.refines}'"
            )
        if journal._action(action.method, path, 500) is not None:
            out.append(
                f"client action '{name}': the journal records a failed {action.method} {path}"
            )
    polled = tuple(a.path for a in actions.values() if a.poll)
    if tuple(journal_reads.POLL_PATHS) != polled:
        out.append(
            f"poll paths in app.store.journal_reads are {journal_reads.POLL_PATHS}, not {polled}"
        )
    counted = tuple(a.path for a in actions.values() if _exchange("GET", a.path).is_poll)
    if counted != polled:
        out.append(f"poll paths in app.scoring.evidence are {counted}, not {polled}")
    return out


def _exchange(method: str, path: str) -> Exchange:
    now = datetime(2025, 3, 3, tzinfo=UTC)
    return Exchange(1, now, now, method, path, {}, None, 200, {}, None, None, now)


def clock_mode_problems(modes: Registry = vocabulary.CLOCK_MODES) -> list[str]:
    """Clock modes: the clock's factors, the run body, the command line, the UI."""
    [one_of] = ClockSchema().fields["mode"].validators
    [option] = [p for p in runs_group.commands["start"].params if p.name == "mode"]
    assert isinstance(option.type, click.Choice)
    out = disagreements(
        "clock mode",
        modes,
        {
            "app.engine.clock.FACTORS": clock.FACTORS,
            "app.engine.clock.ClockMode": get_args(clock.ClockMode),
            "ClockSchema.mode": one_of.choices,  # type: ignore[attr-defined]
            "the runs start --clock option": option.type.choices,
        },
    )
    out += missing("clock mode", UI_CLOCK_MODES, modes, "the vocabulary (offered by the UI)")
    out += [
        f"clock mode '{name}' runs at {clock.FACTORS[name]}, not {mode.factor}"
        for name, mode in modes.items()
        if name in clock.FACTORS and clock.FACTORS[name] != mode.factor
    ]
    return out


def severity_problems(severities: Registry = vocabulary.SEVERITIES) -> list[str]:
    """Severities: the JSON Schema."""
    return disagreements(
        "severity", severities, {SCHEMA_FILE: _node("expect")["properties"]["severity"]["enum"]}
    )


def docs_problems(
    fault_kinds: Registry = vocabulary.FAULT_KINDS,
    actions: Registry = vocabulary.CLIENT_ACTIONS,
    names: Registry = vocabulary.PROTOCOL_CHECKS,
) -> list[str]:
    """The authoring docs name every fault kind, client action and check."""
    out = _documented(fault_kinds, SCENARIOS_MD, "docs/scenarios.md", "fault kind")
    out += _documented(actions, SCENARIOS_MD, "docs/scenarios.md", "client action")
    out += _documented(names, RESULTS_MD, "docs/results.md", "check")
    return out


AUDITS: dict[str, Callable[[], list[str]]] = {
    "event kinds": event_kind_problems,
    "fault kinds": fault_kind_problems,
    "fault APIs": fault_api_problems,
    "checks": check_problems,
    "client actions": client_action_problems,
    "clock modes": clock_mode_problems,
    "severities": severity_problems,
    "docs": docs_problems,
    "the vocabulary itself": internal_disagreements,
}


@pytest.mark.parametrize("audit", list(AUDITS.values()), ids=list(AUDITS))
def test_every_list_agrees_with_the_vocabulary(audit: Callable[[], list[str]]) -> None:
    assert audit() == []


def _mismatched(registry: Registry, dropped: str) -> dict[str, Any]:
    """``registry`` without ``dropped`` and with a made-up word copied from it."""
    out = {k: v for k, v in registry.items() if k != dropped}
    out["made_up"] = dataclasses.replace(registry[dropped], name="made_up")
    return out


@pytest.mark.parametrize(
    ("audit", "registry", "dropped", "where"),
    [
        (event_kind_problems, vocabulary.EVENT_KINDS, "komplett", "app.domain.events"),
        (event_kind_problems, vocabulary.EVENT_KINDS, "vedtak", "app.wire.inputs.EVENT_SCHEMAS"),
        (fault_kind_problems, vocabulary.FAULT_KINDS, "slow", "app.engine.faults.STRIKES"),
        (fault_kind_problems, vocabulary.FAULT_KINDS, "duplicate", SCHEMA_FILE),
        (check_problems, vocabulary.PROTOCOL_CHECKS, "backs_off", "app.scoring.checks.CHECKS"),
        (check_problems, vocabulary.PROTOCOL_CHECKS, "polls_sanely", SCHEMA_FILE),
        (client_action_problems, vocabulary.CLIENT_ACTIONS, "innsending", SCHEMA_FILE),
        (clock_mode_problems, vocabulary.CLOCK_MODES, "manual", "app.engine.clock.FACTORS"),
        (clock_mode_problems, vocabulary.CLOCK_MODES, "on_poll", "ClockSchema.mode"),
        (severity_problems, vocabulary.SEVERITIES, "should", SCHEMA_FILE),
    ],
)
def test_an_audit_reports_a_mismatched_registry(
    audit: Callable[[Registry], list[str]], registry: Registry, dropped: str, where: str
) -> None:
    problems = audit(_mismatched(registry, dropped))
    assert any(f"'{dropped}' is in {where} but not in the vocabulary" in p for p in problems)
    assert any("'made_up' is in the vocabulary but not in" in p for p in problems)


def test_the_journal_audit_reports_an_action_it_does_not_record() -> None:
    wrong = dict(vocabulary.CLIENT_ACTIONS)
    wrong["status_hentet"] = dataclasses.replace(wrong["status_hentet"], status=201)
    assert client_action_problems(wrong) == [
        "client action 'status_hentet': the journal records GET /api/v1/status 201 as None"
    ]


def test_the_poll_audit_reports_a_poll_the_engine_does_not_count() -> None:
    wrong = dict(vocabulary.CLIENT_ACTIONS)
    wrong["dokument_hentet"] = dataclasses.replace(wrong["dokument_hentet"], poll=True)
    problems = client_action_problems(wrong)
    assert len(problems) == 2 and all(p.startswith("poll paths in app.") for p in problems)


def test_the_fault_audit_reports_a_key_the_schema_lacks() -> None:
    wrong = dict(vocabulary.FAULT_KINDS)
    wrong["slow"] = dataclasses.replace(wrong["slow"], needs=("delay_seconds",))
    assert fault_kind_problems(wrong) == [
        "key needed by fault kind 'slow' 'delay_seconds' is not in faults[]"
    ]


def test_the_api_audit_reports_an_api_no_endpoint_names() -> None:
    problems = fault_api_problems((*vocabulary.APIS, "vedlegg"))
    assert problems == [
        "API 'vedlegg' is in the vocabulary but not in app/api (client_request calls)",
        f"API 'vedlegg' is in the vocabulary but not in {SCHEMA_FILE}",
    ]


def test_the_docs_audit_reports_an_undocumented_word() -> None:
    wrong = _mismatched(vocabulary.FAULT_KINDS, "slow")
    assert docs_problems(fault_kinds=wrong) == [
        "fault kind 'made_up' is not mentioned in docs/scenarios.md"
    ]


def test_disagreements_and_missing_name_every_difference() -> None:
    assert disagreements("word", ["a", "b"], {"here": ["b", "c"], "there": ["a", "b"]}) == [
        "word 'a' is in the vocabulary but not in here",
        "word 'c' is in here but not in the vocabulary",
    ]
    assert missing("word", ["a", "x", "b"], ["a", "b"], "the list") == [
        "word 'x' is not in the list"
    ]


def test_in_order_follows_the_vocabulary_and_keeps_strangers_last() -> None:
    ordered = input_events._in_order({"z": 1, "vedtak": 2, "journalfor": 3}, vocabulary.EVENT_KINDS)
    assert list(ordered) == ["journalfor", "vedtak", "z"]


@pytest.mark.parametrize(
    ("method", "path", "status", "action"),
    [
        ("GET", "/api/v1/kvittering", 200, "kvittering_hentet"),
        ("GET", "/api/v1/kvittering", 404, None),
        ("GET", "/api/v1/dokument/abc", 200, "dokument_hentet"),
        ("POST", "/api/v1/dokument/abc", 200, None),
        ("POST", "/api/v1/supplering", 201, "supplering_sendt"),
        ("GET", "/api/v1/supplering", 200, None),
    ],
)
def test_client_action_of_an_exchange(
    method: str, path: str, status: int, action: str | None
) -> None:
    assert vocabulary.client_action(method, path, status) == action


def test_a_supplering_that_completes_is_recorded_as_its_kind() -> None:
    assert journal.action_of("POST", "/api/v1/supplering", 201) == "supplering_sendt"
    assert (
        journal.action_of("POST", "/api/v1/supplering", 201, "supplering_mottatt")
        == "supplering_mottatt"
    )
    # An outcome is no kind of another exchange's action, nor of a refused one.
    assert journal.action_of("GET", "/api/v1/status", 200, "supplering_mottatt") == "status_hentet"
    assert journal.action_of("POST", "/api/v1/supplering", 400, "supplering_mottatt") is None


def test_a_trigger_counts_every_kind_of_its_action() -> None:
    assert vocabulary.counted_as("supplering_sendt") == ("supplering_sendt", "supplering_mottatt")
    assert vocabulary.counted_as("supplering_mottatt") == ("supplering_mottatt",)
    assert vocabulary.counted_as("innsending") == ("innsending",)


def test_the_journal_audit_reports_a_kind_it_cannot_tell() -> None:
    wrong = dict(vocabulary.CLIENT_ACTIONS)
    wrong["supplering_mottatt"] = dataclasses.replace(wrong["supplering_mottatt"], refines=None)
    assert client_action_problems(wrong) == [
        "client action 'supplering_mottatt': the journal records POST /api/v1/supplering 201 "
        "as 'supplering_sendt'"
    ]


def test_the_vocabulary_reports_a_kind_of_an_action_made_otherwise(monkeypatch: Any) -> None:
    wrong = dict(vocabulary.CLIENT_ACTIONS)
    wrong["supplering_mottatt"] = dataclasses.replace(wrong["supplering_mottatt"], status=200)
    monkeypatch.setattr(vocabulary, "CLIENT_ACTIONS", wrong)
    assert internal_disagreements() == [
        "client action 'supplering_mottatt' is not made like 'supplering_sendt', "
        "the action it refines"
    ]
    wrong["supplering_mottatt"] = dataclasses.replace(wrong["supplering_mottatt"], refines="x")
    assert internal_disagreements() == [
        "refined client action 'x' is not in the client actions that refine none"
    ]


def test_severities_decide_failed_or_warning() -> None:
    assert vocabulary.fails("must") and not vocabulary.fails("should")
    assert not vocabulary.fails("could")


def test_poll_description_names_the_polled_apis() -> None:
    assert vocabulary.POLL_DESCRIPTION == (
        "any GET on kvittering, oppdatering or status, whatever the answer"
    )
