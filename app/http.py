"""Reading request bodies strictly: size, media type, UTF-8, JSON, then the schema."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Response, current_app, g, request
from marshmallow import Schema, ValidationError

from app import limits
from app.errors import (
    MalformedRequest,
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.wire.inputs import form_blocks, problems_from
from app.wire.xml_forms import FormKind, XmlForm, XmlProblem, parse, prune

XML_TYPES = ("application/xml", "text/xml")


def json_body(payload: Any) -> bytes:
    """``payload`` encoded exactly as ``jsonify`` would send it, for answers kept in memory."""
    response = cast(Response, current_app.json.response(payload))
    return response.get_data()


_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_READ_CHUNK = 64 * 1024


def _too_large(limit: int, size: int | None) -> PayloadTooLarge:
    told = f"{size} byte" if size is not None else f"mer enn {limit} byte"
    return PayloadTooLarge(
        f"Forespørselen er {told}; grensen er {limit} byte.",
        [Problem("body.for_stor", "$", f"Kroppen kan være høyst {limit} byte.")],
    )


def read_body() -> bytes:
    """The raw body, at most ``max_content_length`` bytes, with or without Content-Length.

    A chunked body has no length to check up front: it is read up to one byte past the
    limit, so an oversized one is a 413, never a body cut short at the limit.
    """
    limit = request.max_content_length
    length = request.content_length
    if limit is not None and (length or 0) > limit:
        raise _too_large(limit, length)
    environ = request.environ
    cached: bytes | None = getattr(request, "_cached_data", None)
    if cached is not None or limit is None or length is not None:
        return request.get_data(cache=True)
    if "wsgi.input_terminated" not in environ:
        return b""  # a stream the server does not end cannot be read safely
    stream = environ["wsgi.input"]
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    raw = b"".join(parts)
    # What the journal reads back: the body as far as it was read.
    request._cached_data = raw[:limit]
    if size > limit:
        raise _too_large(limit, None)
    return raw


def too_deep(text: str, depth: int = limits.JSON_DEPTH) -> bool:
    """Whether the JSON ``text`` nests more than ``depth`` arrays and objects.

    Counted without parsing, so a body nested thousands deep never reaches the parser's
    recursion: strings are taken out, then the innermost ``[]``/``{}`` pairs, one level a
    pass. A malformed text answers False and is left for the parser to place.
    """
    if text.count("[") + text.count("{") <= depth:
        return False
    opened = re.compile(r"[\[{]{" + str(depth + 1) + "}")
    brackets = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", brackets))
    for _ in range(depth + 1):
        if opened.search(brackets):
            return True
        inner = _INNERMOST.sub("", brackets)
        if inner == brackets:
            return False
        brackets = inner
    return False


def read_json(*, allow_empty: bool = False) -> Any:
    """Parse the request body as JSON, with a precise 400/413/415 when it cannot be."""
    raw = read_body()
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
    if too_deep(text):
        message = f"JSON-kroppen er nøstet dypere enn {limits.JSON_DEPTH} nivåer."
        raise MalformedRequest(message, [Problem("body.dybde", "$", message)])
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


@dataclass
class FormBody:
    """A body read as JSON or as one of DiBK's XML forms, loaded by the endpoint's schema."""

    loaded: Any
    form: XmlForm | None = None
    kind: FormKind | None = None
    advarsler: list[str] = field(default_factory=list)

    def located(self, exc: ValidationFailed) -> ValidationFailed:
        """``exc`` with each problem naming its XML element and line (unchanged for JSON)."""
        if self.form is None:
            return exc
        problems = [self.form.located(p) for p in exc.problems]
        return ValidationFailed(problems[0].message if problems else str(exc), problems)


# Turns a loaded XML form (of its kind, the body's size) into the JSON body ``schema`` loads.
FormToJson = Callable[[FormKind, Any, int], dict[str, Any]]


def load_json_or_form(
    schema: Schema,
    prefix: str,
    kinds: tuple[FormKind, ...],
    *,
    form_schema: Schema | None = None,
    to_json: FormToJson | None = None,
) -> FormBody:
    """Read the body as JSON, or as DiBK's XML (``application/xml``) of one of ``kinds``.

    The XML is read by ``form_schema`` (default ``schema``) and, with ``to_json``, turned
    into the JSON body ``schema`` loads, so both are one reading.
    """
    raw = read_body()
    if request.mimetype not in XML_TYPES:
        if raw and request.mimetype != "application/json":
            message = (
                f"Innholdstypen må være application/json eller application/xml, ikke "
                f"'{request.mimetype or 'ingen'}'. Godtatte skjema i XML: "
                + ", ".join(k.label for k in kinds)
                + "."
            )
            raise UnsupportedMediaType(message, [Problem("body.innholdstype", "$", message)])
        return FormBody(load_body(schema, prefix))
    try:
        form = parse(raw)
    except XmlProblem as exc:
        raise MalformedRequest(str(exc), [exc.problem]) from exc
    kind = next((k for k in kinds if (k.namespace, k.root) == (form.namespace, form.root)), None)
    if kind is None:
        message = (
            f"Skjemaet {form.root} ({form.namespace or 'uten navnerom'}) tas ikke imot her. "
            "Godtatte skjema: " + ", ".join(k.label for k in kinds) + "."
        )
        raise ValidationFailed(message, [Problem(f"{prefix}.skjema.ukjent", "/", message)])
    reader = form_schema or schema
    data, dropped = prune(form.data, reader, unread=form_blocks.unread(kind.code))
    body = FormBody(None, form, kind)
    body.advarsler = [
        f"Elementet {form.where(path)[0]} er ikke lest av sandkassen." for path in dropped
    ]
    try:
        body.loaded = reader.load(data)
        if to_json is not None:
            body.loaded = schema.load(to_json(kind, body.loaded, len(raw)))
    except ValidationError as exc:
        raise body.located(validation_failed(exc, prefix)) from exc
    g.loaded_body = (schema, body.loaded)
    return body
