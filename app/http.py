"""Reading request bodies strictly: size, media type, UTF-8, JSON, then the schema."""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Response, current_app, g, request
from marshmallow import Schema, ValidationError

from app.errors import (
    MalformedRequest,
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.wire.inputs import problems_from


def json_body(payload: Any) -> bytes:
    """``payload`` encoded exactly as ``jsonify`` would send it, for answers kept in memory."""
    response = cast(Response, current_app.json.response(payload))
    return response.get_data()


def read_json(*, allow_empty: bool = False) -> Any:
    """Parse the request body as JSON, with a precise 400/413/415 when it cannot be."""
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise PayloadTooLarge(
            f"Forespørselen er {request.content_length} byte; grensen er {limit} byte.",
            [Problem("body.for_stor", "$", f"Kroppen kan være høyst {limit} byte.")],
        )
    raw = request.get_data(cache=True)
    if not raw:
        if allow_empty:
            return {}
        raise MalformedRequest(
            "Forespørselen mangler JSON-kropp.",
            [Problem("body.mangler", "$", "Du må sende en JSON-kropp.")],
        )
    if request.mimetype != "application/json":
        message = f"Innholdstypen må være application/json, ikke '{request.mimetype or 'ingen'}'."
        raise UnsupportedMediaType(message, [Problem("body.innholdstype", "$", message)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"Kroppen er ikke gyldig UTF-8 (byte {exc.start})."
        raise MalformedRequest(message, [Problem("body.utf8", "$", message)]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"Ugyldig JSON på linje {exc.lineno}, kolonne {exc.colno}: {exc.msg}."
        raise MalformedRequest(message, [Problem("body.json", "$", message)]) from exc


def read_json_object(prefix: str, *, allow_empty: bool = False) -> dict[str, Any]:
    """Read the JSON body and insist on an object."""
    data = read_json(allow_empty=allow_empty)
    if not isinstance(data, dict):
        message = "Kroppen må være et JSON-objekt."
        raise MalformedRequest(message, [Problem(f"{prefix}.body.type", "$", message)])
    return data


def load_body(schema: Schema, prefix: str, *, allow_empty: bool = False) -> Any:
    """Read the JSON body and load it with ``schema``; field errors become one 400."""
    data = read_json_object(prefix, allow_empty=allow_empty)
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise validation_failed(exc, prefix) from exc
    # What the view accepted, for the journal's canonical form: read once, here.
    g.loaded_body = (schema, loaded)
    return loaded


def validation_failed(exc: ValidationError, prefix: str) -> ValidationFailed:
    """Turn a marshmallow error into the sandbox's ValidationFailed with field paths."""
    problems = problems_from(exc.messages, prefix)
    return ValidationFailed(problems[0].message if problems else "Ugyldig innhold.", problems)
