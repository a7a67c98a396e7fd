"""Load a scenario file: YAML 1.2 with positions, JSON Schema, then the checks a schema cannot do.

Every problem comes back as a :class:`Diagnostic` with file, line and column; nothing in a
file, however broken, makes this module raise. The result is a plain-JSON scenario (dicts,
lists, strings, numbers) with ``${variable}`` references already substituted, which the
engine snapshots into each run. The tree and its positions are in
:mod:`app.scenarios.document`, the checks after the schema in :mod:`app.scenarios.semantics`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app import limits
from app.domain.durations import DELAY_PATTERN, parse_delay
from app.scenarios.document import (
    BoundsExceeded,
    Diagnostic,
    Doc,
    Loaded,
    NodePath,
    new_yaml,
    plain,
    where,
)
from app.scenarios.model import Scenario
from app.scenarios.schema import scenario_schema
from app.scenarios.semantics import check_semantics
from app.testdata.no_provider import kommuner

VARIABLE = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")
DATE_LITERAL = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
FLOW_OPENERS = re.compile(r"(?:[\[{]\s*){" + str(limits.SCENARIO_DEPTH + 1) + "}")


def load_text(text: str, name: str) -> Loaded:
    """Load and check a scenario from its YAML text."""
    result = Loaded(name)
    too_big = _over_bounds(text, name)
    if too_big is not None:
        result.problems.append(too_big)
        return result
    try:
        root = new_yaml().load(text)
    except MarkedYAMLError as exc:
        result.problems.append(_yaml_problem(exc, name))
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
    doc = Doc(name, root)
    _check_kommunenummer(doc)
    variables = _variables(doc)
    _substitute(doc, root, (), variables)
    if not doc.problems:
        _check_schema(doc)
    if not doc.problems:
        check_semantics(doc)
    result.problems = sorted(set(doc.problems))
    if not result.problems:
        result.scenario = plain(root)
        result.model = Scenario.from_json(result.scenario)
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


def _over_bounds(text: str, name: str) -> Diagnostic | None:
    """A bound of :mod:`app.limits` that ``text`` passes where it can be seen before loading."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.SCENARIO_BYTES:
        return Diagnostic(
            name, 1, 1, f"the file is {size} bytes; a scenario may be {limits.SCENARIO_BYTES}"
        )
    run = FLOW_OPENERS.search(text)
    if run is not None:
        # Inside brackets the parser looks far ahead; up to the run alone it answers at once.
        try:
            new_yaml().load(text[: run.end()])
        except BoundsExceeded as exc:
            return _yaml_problem(exc, name)
        except (YAMLError, ValueError):
            pass  # not a run of brackets after all: the load reports what it is
    return None


def _yaml_problem(exc: MarkedYAMLError, name: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (exc.problem or exc.context or "ugyldig YAML").strip()
    return Diagnostic(name, line, col, f"YAML: {problem}")


def _invalid_date_position(text: str) -> tuple[int, int] | None:
    for number, line in enumerate(text.splitlines(), start=1):
        for match in DATE_LITERAL.finditer(line):
            try:
                date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return number, match.start() + 1
    return None


def _check_kommunenummer(doc: Doc) -> None:
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


def _variables(doc: Doc) -> dict[str, Any]:
    raw = doc.root.get("variables")
    return dict(raw) if isinstance(raw, CommentedMap) else {}


def _substitute(doc: Doc, node: Any, path: NodePath, variables: dict[str, Any]) -> None:
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


def _check_schema(doc: Doc) -> None:
    validator = _Validator(scenario_schema())
    seen: set[tuple[NodePath, str]] = set()
    for error in sorted(validator.iter_errors(plain(doc.root)), key=lambda e: list(e.path)):
        path: NodePath = tuple(error.absolute_path)
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


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    # Pairwise for items that do not sort: a list past its maxItems is reported by that.
    if isinstance(instance, list) and len(instance) > schema.get("maxItems", len(instance)):
        return
    yield from _DRAFT7_UNIQUE(validator, unique, instance, schema)


_DRAFT7_UNIQUE = jsonschema.Draft7Validator.VALIDATORS["uniqueItems"]
_Validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft7Validator, {"uniqueItems": _unique_items}
)


def _implied(error: jsonschema.ValidationError) -> bool:
    # An if/then branch failing is reported through its own, more precise, errors.
    return error.validator in ("allOf", "if")


def _schema_message(error: jsonschema.ValidationError, path: NodePath) -> str:
    here = where(path)
    if error.validator == "enum" and path[-2:] == ("event", "type"):
        known = ", ".join(str(v) for v in list(error.validator_value))  # type: ignore[arg-type]
        return f"unknown event kind '{error.instance}'; known kinds: {known}"
    if error.validator == "enum" and path[:1] == ("expect",) and path[-1:] == ("check",):
        known = ", ".join(str(v) for v in list(error.validator_value))  # type: ignore[arg-type]
        return f"unknown check '{error.instance}'; known: {known}"
    if error.validator == "required":
        return f"{here}: {error.message}"
    if error.validator in ("maxItems", "maxLength"):
        return f"{here}: longer than {error.validator_value}"
    if error.validator == "pattern" and isinstance(error.instance, str):
        if error.validator_value == DELAY_PATTERN:
            try:
                parse_delay(error.instance)
            except ValueError as exc:
                return f"{here}: {exc}"
        return f"{here}: '{error.instance}' does not have the expected form"
    return f"{here}: {error.message}"


__all__ = ["Diagnostic", "Loaded", "load_file", "load_text", "where"]
