"""Marshmallow's errors as DiBK-style problems: a rule id, the JSON path and a Norwegian message."""

from __future__ import annotations

import re
from typing import Any

from app.errors import Problem

_MESSAGES = (
    ("Missing data for required field.", "påkrevd", "Du må fylle ut '{field}'."),
    ("Unknown field.", "ukjent_felt", "'{field}' er et ukjent felt."),
    ("Field may not be null.", "påkrevd", "'{field}' kan ikke være null."),
    ("Not a valid string.", "type", "'{field}' må være en tekst."),
    ("Not a valid integer.", "type", "'{field}' må være et heltall."),
    ("Not a valid boolean.", "type", "'{field}' må være true eller false."),
    ("Not a valid list.", "type", "'{field}' må være en liste."),
    ("Invalid input type.", "type", "'{field}' må være et JSON-objekt."),
    ("Not a valid email address.", "format", "'{field}' er ikke en gyldig e-postadresse."),
)


def problems_from(messages: Any, prefix: str) -> list[Problem]:
    """Flatten marshmallow's nested error dict into DiBK-style problems with JSON paths."""
    out: list[Problem] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "_schema":
                    walk(value, path)
                elif isinstance(key, int):
                    walk(value, f"{path}[{key}]")
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        else:
            out.append(_problem(str(node), path, prefix))

    walk(messages, "")
    return out


def _problem(message: str, path: str, prefix: str) -> Problem:
    field_name = path or "$"
    rule_path = re.sub(r"\[\d+\]", "", path) or "body"
    for english, kind, norwegian in _MESSAGES:
        if message == english:
            return Problem(
                f"{prefix}.{rule_path}.{kind}", field_name, norwegian.format(field=field_name)
            )
    if "ugyldig kodeverdi" in message:
        kind = "kodeverdi"
    elif message.startswith(("Teksten kan være høyst", "Teksten må ha fra")):
        kind = "lengde"
    elif message.startswith("Listen kan ha høyst"):
        kind = "antall"
    elif "varighet" in message:
        kind = "format"
    else:
        kind = "ugyldig"
    return Problem(f"{prefix}.{rule_path}.{kind}", field_name, message)
