"""The checks of a scenario that a JSON Schema cannot make: references, triggers, bodies.

Run once the file matches the schema, so every key read here exists and has its type.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError

from app import vocabulary
from app.domain.durations import parse_delay
from app.scenarios.document import Doc, NodePath, plain
from app.wire.dates import parse_iso
from app.wire.inputs import EVENT_SCHEMAS, InnsendingSchema, problems_from

INNSENDING_REF = re.compile(r"^\$\{innsending\.([a-z][a-z0-9_-]*)\}$")


def check_semantics(doc: Doc) -> None:
    """Add every problem the schema cannot see to ``doc``."""
    root = doc.root
    timeline = root["timeline"]
    steps = {s["id"]: index for index, s in enumerate(timeline) if "id" in s}
    innsendinger = (root.get("case") or {}).get("innsendinger") or []
    aliases = {i["id"] for i in innsendinger}
    _duplicates(doc, "timeline", timeline)
    _duplicates(doc, ("case", "innsendinger"), innsendinger)
    _duplicates(doc, "faults", root.get("faults") or [])
    _duplicates(doc, "expect", root.get("expect") or [])
    kinds = {s["event"]["type"] for s in timeline}
    for index, step in enumerate(timeline):
        _check_trigger(doc, index, step, steps, kinds)
        _check_event(doc, index, step["event"], aliases, len(innsendinger))
    _check_cycles(doc, timeline, steps)
    for index, innsending in enumerate(innsendinger):
        body = {k: v for k, v in plain(innsending).items() if k not in ("id", "innsendt_av")}
        try:
            InnsendingSchema().load(body)
        except ValidationError as exc:
            for problem in problems_from(exc.messages, "innsending"):
                doc.add(("case", "innsendinger", index, *_split(problem.field)), problem.message)
    start = (root.get("clock") or {}).get("start")
    if isinstance(start, str):
        try:
            parse_iso(start)
        except ValueError as exc:
            doc.add(("clock", "start"), f"'{start}' is not a date-time that can exist ({exc})")
    for index, fault in enumerate(root.get("faults") or []):
        _check_fault(doc, index, fault, steps)
    for index, expectation in enumerate(root.get("expect") or []):
        _check_expectation(doc, index, expectation, steps)


def _duplicates(doc: Doc, where: str | NodePath, items: list[Any]) -> None:
    base = (where,) if isinstance(where, str) else where
    seen: set[str] = set()
    for index, item in enumerate(items):
        ident = item.get("id")
        if ident in seen:
            doc.add((*base, index, "id"), f"duplicate id '{ident}'")
        seen.add(ident)


def _check_trigger(doc: Doc, index: int, step: Any, steps: dict[str, int], kinds: set[str]) -> None:
    trigger = step["trigger"]
    here = ("timeline", index, "trigger")
    chosen = [k for k in ("at", "after", "on", "manual") if k in trigger]
    if len(chosen) != 1:
        doc.add(
            here,
            "a trigger needs exactly one of at, after, on or manual"
            + (f" (found {', '.join(chosen)})" if chosen else ""),
        )
        return
    kind = chosen[0]
    if "count" in trigger and kind != "on":
        doc.add((*here, "count"), "count goes with 'on' only")
    if "delay" in trigger and kind not in ("after", "on"):
        doc.add((*here, "delay"), "delay goes with 'after' or 'on' only")
    for key in ("at", "delay"):
        if key in trigger:
            try:
                parse_delay(str(trigger[key]))
            except ValueError as exc:
                doc.add((*here, key), str(exc))
    if kind == "after":
        target = trigger["after"]
        if target not in steps:
            doc.add((*here, "after"), f"unknown step '{target}'")
        elif target == step["id"]:
            doc.add((*here, "after"), "a step cannot wait for itself: this trigger can never fire")
    if kind == "on":
        action = vocabulary.CLIENT_ACTIONS.get(trigger["on"])
        needs = action.needs_event if action else None
        if needs is not None and needs[0] not in kinds:
            doc.add((*here, "on"), f"{needs[1]}: this trigger can never fire")


def _check_cycles(doc: Doc, timeline: Any, steps: dict[str, int]) -> None:
    waits = {s["id"]: s["trigger"].get("after") for s in timeline}
    for start in waits:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in waits and node not in seen:
            seen.append(node)
            node = waits[node]
        if node == start and len(seen) > 1:
            doc.add(
                ("timeline", steps[start], "trigger", "after"),
                "steps wait for each other in a circle ("
                + " → ".join([*seen, start])
                + "): this trigger can never fire",
            )


def _check_event(doc: Doc, index: int, event: Any, aliases: set[str], count: int) -> None:
    here: NodePath = ("timeline", index, "event")
    body = plain(event)
    for key, value in list(body.items()):
        if isinstance(value, str) and value.startswith("${"):
            body[key] = _check_ref(doc, (*here, key), value, aliases)
    refs = body.get("innsendingReferanser")
    if isinstance(refs, list):
        body["innsendingReferanser"] = [
            _check_ref(doc, (*here, "innsendingReferanser", i), v, aliases)
            for i, v in enumerate(refs)
        ]
    if (
        count > 1
        and body["type"] not in ("endre_saksnummer",)
        and not body.get("innsendingReferanse")
    ):
        doc.add(
            here,
            f"the case has {count} innsendinger: say which with innsendingReferanse: "
            "${innsending.<id>}",
        )
    try:
        EVENT_SCHEMAS[body["type"]]().load(body)
    except ValidationError as exc:
        for problem in problems_from(exc.messages, "hendelse"):
            doc.add((*here, *_split(problem.field)), problem.message)


def _check_ref(doc: Doc, path: NodePath, value: str, aliases: set[str]) -> str:
    match = INNSENDING_REF.match(value)
    if match:
        if match[1] not in aliases:
            doc.add(path, f"unknown innsending '{match[1]}' (declare it under case.innsendinger)")
        return "AR00000000"
    if "${" in value:
        doc.add(path, f"'{value}': write ${{innsending.<id>}} or an AR reference")
    return value


def _check_fault(doc: Doc, index: int, fault: Any, steps: dict[str, int]) -> None:
    here: NodePath = ("faults", index)
    kind = fault["kind"]
    needs = vocabulary.FAULT_KINDS[kind].needs
    for key in needs:
        if key not in fault:
            doc.add(here, f"a '{kind}' fault needs '{key}'")
    for key in ("step", "after_step"):
        if key in fault and fault[key] not in steps:
            doc.add((*here, key), f"unknown step '{fault[key]}'")
    if "times" in fault and "probability" in fault:
        doc.add((*here, "probability"), "give times or probability, not both")
    if "duration" in fault:
        try:
            parse_delay(str(fault["duration"]))
        except ValueError as exc:
            doc.add((*here, "duration"), str(exc))


def _check_expectation(doc: Doc, index: int, expectation: Any, steps: dict[str, int]) -> None:
    here: NodePath = ("expect", index)
    if ("request" in expectation) == ("check" in expectation):
        doc.add(here, "an expectation needs exactly one of request or check")
    after = expectation.get("after")
    if after is not None and after not in steps:
        doc.add((*here, "after"), f"unknown step '{after}'")
    if "within" in expectation:
        try:
            parse_delay(str(expectation["within"]))
        except ValueError as exc:
            doc.add((*here, "within"), str(exc))


def _split(field_path: str) -> NodePath:
    parts: list[str | int] = []
    for piece in field_path.split("."):
        name, *indices = re.split(r"\[(\d+)\]", piece)
        if name and name != "$":
            parts.append(name)
        parts.extend(int(i) for i in indices if i != "")
    return tuple(parts)
