"""Load a scenario file: YAML 1.2 with positions, JSON Schema, then the checks a schema cannot do.

Every problem comes back as a :class:`Diagnostic` with file, line and column; nothing in a
file, however broken, makes this module raise. The result is a plain-JSON scenario (dicts,
lists, strings, numbers) with ``${variable}`` references already substituted, which the
engine snapshots into each run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
from marshmallow import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app.engine.durations import DELAY_PATTERN, parse_delay
from app.scenarios.schema import scenario_schema
from app.testdata.no_provider import kommuner
from app.wire.dates import parse_iso
from app.wire.inputs import EVENT_SCHEMAS, InnsendingSchema, problems_from

VARIABLE = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
INNSENDING_REF = re.compile(r"^\$\{innsending\.([a-z][a-z0-9_-]*)\}$")
DATE_LITERAL = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
PROTOCOL_CHECKS = (
    "polls_sanely",
    "backs_off",
    "picks_up_all_oppdateringer",
    "uses_current_saksnummer",
    "echoes_mangel_ids",
    "downloads_documents",
    "tolerates_unknown_fields",
)
Path_ = tuple[str | int, ...]


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


class _Doc:
    """The loaded YAML tree with a way back from a path to a position."""

    def __init__(self, name: str, root: Any) -> None:
        self.name = name
        self.root = root
        self.problems: list[Diagnostic] = []

    def at(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
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

    def add(self, path: Path_, message: str, *, key: bool = False) -> None:
        line, col = self.at(path, key=key)
        self.problems.append(Diagnostic(self.name, line, col, message))


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _plain(node: Any) -> Any:
    """ruamel's tree as plain JSON data (timestamps become ISO strings)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
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


def load_text(text: str, name: str) -> Loaded:
    """Load and check a scenario from its YAML text."""
    result = Loaded(name)
    try:
        root = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "ugyldig YAML").strip()
        result.problems.append(Diagnostic(name, line, col, f"YAML: {problem}"))
        return result
    except (YAMLError, ValueError) as exc:
        line, col = _invalid_date_position(text) or (1, 1)
        result.problems.append(Diagnostic(name, line, col, f"YAML: {exc}"))
        return result
    if not isinstance(root, CommentedMap):
        result.problems.append(
            Diagnostic(name, 1, 1, "a scenario is a YAML mapping (id:, title:, timeline: …)")
        )
        return result
    doc = _Doc(name, root)
    _check_kommunenummer(doc)
    variables = _variables(doc)
    _substitute(doc, root, (), variables)
    if not doc.problems:
        _check_schema(doc)
    if not doc.problems:
        _check_semantics(doc)
    result.problems = sorted(set(doc.problems))
    if not result.problems:
        result.scenario = _plain(root)
    return result


def load_file(path: Path, display: str | None = None) -> Loaded:
    """Load and check one scenario file."""
    name = display or str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        return Loaded(name, None, [Diagnostic(name, 1, 1, f"not UTF-8 (byte {exc.start})")])
    except OSError as exc:
        return Loaded(name, None, [Diagnostic(name, 1, 1, f"cannot read: {exc.strerror}")])
    return load_text(text, name)


def _invalid_date_position(text: str) -> tuple[int, int] | None:
    for number, line in enumerate(text.splitlines(), start=1):
        for match in DATE_LITERAL.finditer(line):
            try:
                date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return number, match.start() + 1
    return None


def _check_kommunenummer(doc: _Doc) -> None:
    case = doc.root.get("case")
    if not isinstance(case, CommentedMap) or "kommunenummer" not in case:
        return
    value = case["kommunenummer"]
    if isinstance(value, int) and not isinstance(value, bool):
        doc.add(
            ("case", "kommunenummer"),
            f"kommunenummer {value} is not quoted and may have lost its leading zero: "
            f'write "{value:04d}"',
        )
    elif isinstance(value, str) and re.fullmatch(r"\d{4}", value) and value not in kommuner():
        doc.add(("case", "kommunenummer"), f"kommunenummer {value} is not in SSB's 2024 list")


def _variables(doc: _Doc) -> dict[str, Any]:
    raw = doc.root.get("variables")
    return dict(raw) if isinstance(raw, CommentedMap) else {}


def _substitute(doc: _Doc, node: Any, path: Path_, variables: dict[str, Any]) -> None:
    """Replace ``${name}`` with the variable's value, in place, keeping positions."""
    items: Any
    if isinstance(node, CommentedMap):
        if path == ("variables",):
            return
        items = list(node.items())
    elif isinstance(node, CommentedSeq):
        items = list(enumerate(node))
    else:
        return
    for key, value in items:
        here = (*path, key)
        if isinstance(value, str) and "${" in value:
            whole = VARIABLE.fullmatch(value)
            for name in VARIABLE.findall(value):
                if name not in variables:
                    doc.add(here, f"undefined variable ${{{name}}}")
            if whole and whole[1] in variables:
                node[key] = variables[whole[1]]
            else:
                node[key] = VARIABLE.sub(lambda m: str(variables.get(m[1], m[0])), value)
        else:
            _substitute(doc, value, here, variables)


def _check_schema(doc: _Doc) -> None:
    validator = jsonschema.Draft7Validator(scenario_schema())
    seen: set[tuple[Path_, str]] = set()
    for error in sorted(validator.iter_errors(_plain(doc.root)), key=lambda e: list(e.path)):
        path: Path_ = tuple(error.absolute_path)
        message = _schema_message(error, path)
        if (path, message) in seen or _implied(error):
            continue
        seen.add((path, message))
        if error.validator == "additionalProperties":
            schema = error.schema if isinstance(error.schema, dict) else {}
            allowed = set(schema.get("properties", {}))
            for name in sorted(set(error.instance) - allowed):
                doc.add((*path, name), f"{where(path)}: unknown key '{name}'", key=True)
            continue
        doc.add(path, message, key=error.validator == "required")


def _implied(error: jsonschema.ValidationError) -> bool:
    # An if/then branch failing is reported through its own, more precise, errors.
    return error.validator in ("allOf", "if")


def where(path: Path_) -> str:
    """A path as the JSON-pointer-like text used in messages."""
    return "/".join(str(p) for p in path) or "(top)"


def _schema_message(error: jsonschema.ValidationError, path: Path_) -> str:
    here = where(path)
    if error.validator == "enum" and path[-2:] == ("event", "type"):
        known = ", ".join(str(v) for v in list(error.validator_value))  # type: ignore[arg-type]
        return f"unknown event kind '{error.instance}'; known kinds: {known}"
    if error.validator == "required":
        return f"{here}: {error.message}"
    if error.validator == "pattern" and isinstance(error.instance, str):
        if error.validator_value == DELAY_PATTERN:
            try:
                parse_delay(error.instance)
            except ValueError as exc:
                return f"{here}: {exc}"
        return f"{here}: '{error.instance}' does not have the expected form"
    return f"{here}: {error.message}"


def _check_semantics(doc: _Doc) -> None:
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
        body = {k: v for k, v in _plain(innsending).items() if k not in ("id", "innsendt_av")}
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


def _duplicates(doc: _Doc, where: str | Path_, items: list[Any]) -> None:
    base = (where,) if isinstance(where, str) else where
    seen: set[str] = set()
    for index, item in enumerate(items):
        ident = item.get("id")
        if ident in seen:
            doc.add((*base, index, "id"), f"duplicate id '{ident}'")
        seen.add(ident)


def _check_trigger(
    doc: _Doc, index: int, step: Any, steps: dict[str, int], kinds: set[str]
) -> None:
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
        action = trigger["on"]
        if action == "kvittering_hentet" and "journalfor" not in kinds:
            doc.add(
                (*here, "on"),
                "no step journalfører, so a kvittering can never be fetched: "
                "this trigger can never fire",
            )
        if action == "supplering_mottatt" and "mangel" not in kinds:
            doc.add(
                (*here, "on"),
                "no step sends a mangel, so no supplering can answer one: "
                "this trigger can never fire",
            )


def _check_cycles(doc: _Doc, timeline: Any, steps: dict[str, int]) -> None:
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


def _check_event(doc: _Doc, index: int, event: Any, aliases: set[str], count: int) -> None:
    here: Path_ = ("timeline", index, "event")
    body = _plain(event)
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


def _check_ref(doc: _Doc, path: Path_, value: str, aliases: set[str]) -> str:
    match = INNSENDING_REF.match(value)
    if match:
        if match[1] not in aliases:
            doc.add(path, f"unknown innsending '{match[1]}' (declare it under case.innsendinger)")
        return "AR00000000"
    if "${" in value:
        doc.add(path, f"'{value}': write ${{innsending.<id>}} or an AR reference")
    return value


def _check_fault(doc: _Doc, index: int, fault: Any, steps: dict[str, int]) -> None:
    here: Path_ = ("faults", index)
    kind = fault["kind"]
    needs = {
        "status": ("status",),
        "slow": ("delay_ms",),
        "duplicate": ("step",),
        "out_of_order": ("step", "duration"),
        "document_gone": ("duration",),
        "unknown_field": (),
    }[kind]
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


def _check_expectation(doc: _Doc, index: int, expectation: Any, steps: dict[str, int]) -> None:
    here: Path_ = ("expect", index)
    if ("request" in expectation) == ("check" in expectation):
        doc.add(here, "an expectation needs exactly one of request or check")
    check = expectation.get("check")
    if check is not None and check not in PROTOCOL_CHECKS:
        doc.add((*here, "check"), f"unknown check '{check}'; known: {', '.join(PROTOCOL_CHECKS)}")
    after = expectation.get("after")
    if after is not None and after not in steps:
        doc.add((*here, "after"), f"unknown step '{after}'")
    if "within" in expectation:
        try:
            parse_delay(str(expectation["within"]))
        except ValueError as exc:
            doc.add((*here, "within"), str(exc))


def _split(field_path: str) -> Path_:
    parts: list[str | int] = []
    for piece in field_path.split("."):
        name, *indices = re.split(r"\[(\d+)\]", piece)
        if name and name != "$":
            parts.append(name)
        parts.extend(int(i) for i in indices if i != "")
    return tuple(parts)
