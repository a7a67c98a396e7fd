"""A scenario as the engine, its faults and the scoring read it: typed steps, triggers, faults and expectations.

The loader checks a file against the JSON Schema and the semantic rules, then makes a
:class:`Scenario` from the plain JSON it produced (``Loaded.model``). A run keeps that
plain JSON as its own snapshot of the scenario, the form the control plane shows and the
database stores; :func:`scenario_of` makes the objects from it once per loaded run, so no
reader of a scenario indexes a ``dict`` or repeats a default the schema declares.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.vocabulary import ANY_API, DEFAULT_SEVERITY

NO_DELAY = "PT0S"


@dataclass(frozen=True)
class Trigger:
    """When a step fires: ``at`` after the start, ``after`` another step (+ ``delay``),
    ``on`` the client's ``count``-th action (+ ``delay``), or ``manual``ly."""

    at: str | None = None
    after: str | None = None
    on: str | None = None
    count: int = 1
    delay: str = NO_DELAY
    manual: bool = False
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trigger:
        """The trigger of a step as the scenario wrote it."""
        return cls(
            at=_text(data.get("at")),
            after=data.get("after"),
            on=data.get("on"),
            count=int(data.get("count", 1) or 1),
            delay=str(data.get("delay", NO_DELAY)),
            manual=bool(data.get("manual", False)),
            source=data,
        )


@dataclass(frozen=True)
class Step:
    """One step of the timeline: what the kommune does (``event``) and when."""

    id: str
    trigger: Trigger
    event: Mapping[str, Any]  # the event body, read by app.wire.inputs.load_event
    title: str | None = None

    @property
    def event_type(self) -> str:
        """The event's kind (``kvittering``, ``vedtak``, …)."""
        return str(self.event.get("type", ""))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        """A timeline entry as the scenario wrote it."""
        return cls(
            id=str(data["id"]),
            trigger=Trigger.from_json(data.get("trigger") or {}),
            event=data.get("event") or {},
            title=data.get("title"),
        )


@dataclass(frozen=True)
class Fault:
    """A fault the scenario injects on the simulated API (``app.engine.faults``)."""

    id: str
    kind: str
    api: str = ANY_API
    status: int | None = None
    retry_after: int = 1
    delay_ms: int = 0
    step: str = ""  # duplicate and out_of_order: the step whose oppdateringer
    duration: str | None = None
    after_step: str | None = None
    times: int | None = None
    probability: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """A fault as the scenario wrote it."""
        return cls(
            id=str(data["id"]),
            kind=str(data["kind"]),
            api=str(data.get("api", ANY_API)),
            status=_int(data.get("status")),
            retry_after=int(data.get("retry_after", 1)),
            delay_ms=int(data.get("delay_ms", 0)),
            step=str(data.get("step", "")),
            duration=_text(data.get("duration")),
            after_step=data.get("after_step"),
            times=_int(data.get("times")),
            probability=None if data.get("probability") is None else float(data["probability"]),
        )


@dataclass(frozen=True)
class RequestMatcher:
    """Which exchanges an expectation counts: method, path glob, query and body values."""

    method: str | None = None
    path: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequestMatcher:
        """A ``request`` matcher as the scenario wrote it."""
        return cls(
            method=data.get("method"),
            path=data.get("path"),
            query=dict(data.get("query") or {}),
            body=dict(data.get("body") or {}),
        )


@dataclass(frozen=True)
class Expectation:
    """What the client must do: a request matcher with counts and a window, or a
    protocol ``check``; the scoring judges each into a verdict."""

    id: str
    title: str | None = None
    requirement: str | None = None
    severity: str = DEFAULT_SEVERITY
    weight: float = 1.0
    optional: bool = False
    check: str | None = None
    request: RequestMatcher = field(default_factory=RequestMatcher)
    exactly: int | None = None
    min: int | None = None
    max: int | None = None
    never: bool = False
    after: str | None = None
    within: str | None = None
    within_polls: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Expectation:
        """An ``expect`` entry as the scenario wrote it."""
        count = data.get("count") or {}
        return cls(
            id=str(data["id"]),
            title=data.get("title"),
            requirement=data.get("requirement"),
            severity=str(data.get("severity", DEFAULT_SEVERITY)),
            weight=float(data.get("weight", 1)),
            optional=bool(data.get("optional", False)),
            check=data.get("check"),
            request=RequestMatcher.from_json(data.get("request") or {}),
            exactly=_int(count.get("exactly")),
            min=_int(count.get("min")),
            max=_int(count.get("max")),
            never=bool(data.get("never", False)),
            after=data.get("after"),
            within=_text(data.get("within")),
            within_polls=_int(data.get("within_polls")),
        )


@dataclass(frozen=True)
class CheckTuning:
    """A scenario's ``checks: {name: …}`` entry: a protocol check turned on or off, or
    its severity and weight changed."""

    enabled: bool | None = None
    severity: str | None = None
    weight: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckTuning:
        """A ``checks`` entry as the scenario wrote it."""
        weight = data.get("weight")
        return cls(
            enabled=data.get("enabled"),
            severity=data.get("severity"),
            weight=None if weight is None else float(weight),
        )


@dataclass(frozen=True)
class Scenario:
    """A scripted kommune; every field empty for a run started without a scenario."""

    id: str | None = None
    version: int | None = None
    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    timeline: tuple[Step, ...] = ()
    faults: tuple[Fault, ...] = ()
    expect: tuple[Expectation, ...] = ()
    checks: Mapping[str, CheckTuning] = field(default_factory=dict)
    case: Mapping[str, Any] = field(default_factory=dict)

    def step(self, step_id: str) -> Step | None:
        """The timeline's step ``step_id``, or None."""
        return next((s for s in self.timeline if s.id == step_id), None)

    def client_innsendinger(self) -> list[str]:
        """The ids of the case's innsendinger the client sends itself, in order."""
        return [
            str(i["id"])
            for i in self.case.get("innsendinger") or []
            if i.get("innsendt_av") == "client"
        ]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scenario:
        """The scenario of a loaded file or of a run's stored snapshot (checked by the
        loader, so nothing here judges it again)."""
        return cls(
            id=data.get("id"),
            version=_int(data.get("version")),
            title=data.get("title"),
            description=data.get("description"),
            tags=tuple(data.get("tags") or ()),
            timeline=tuple(Step.from_json(s) for s in data.get("timeline") or ()),
            faults=tuple(Fault.from_json(f) for f in data.get("faults") or ()),
            expect=tuple(Expectation.from_json(e) for e in data.get("expect") or ()),
            checks={
                k: CheckTuning.from_json(v or {}) for k, v in (data.get("checks") or {}).items()
            },
            case=data.get("case") or {},
        )


EMPTY = Scenario()


class HasScenario(Protocol):
    """Anything that keeps a scenario's plain JSON (a run)."""

    @property
    def scenario(self) -> Mapping[str, Any] | None: ...


_KEPT = 4096  # scenarios made from stored JSON that are remembered
_made: OrderedDict[int, tuple[Mapping[str, Any], Scenario]] = OrderedDict()
_lock = threading.Lock()


def scenario_of(holder: HasScenario) -> Scenario:
    """The typed scenario of a run (``EMPTY`` for none), made once per stored JSON object.

    Keyed by the JSON object itself (held, so its id cannot be reused while kept): a run
    read again gets a new object and its scenario is made again.
    """
    data = holder.scenario
    if not data:
        return EMPTY
    key = id(data)
    with _lock:
        found = _made.get(key)
        if found is not None and found[0] is data:
            _made.move_to_end(key)
            return found[1]
    made = Scenario.from_json(data)
    with _lock:
        _made[key] = (data, made)
        if len(_made) > _KEPT:
            _made.popitem(last=False)
    return made


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
