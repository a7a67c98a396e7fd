"""The one place errors become HTTP responses: problem JSON with rule, field and message."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.errors import (
    MalformedRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    RequestError,
    SandboxError,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

_HTTP_TO_SANDBOX: dict[int, type[RequestError]] = {
    400: MalformedRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def problem_response(error: SandboxError) -> Response:
    """Render a sandbox error as RFC 7807 problem JSON with DiBK-style messages."""
    problems = error.problems or [Problem(f"http.{error.status}", "$", error.detail)]
    body = {
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "errors": [p.to_dict() for p in problems],
    }
    response = jsonify(body)
    response.status_code = error.status
    response.mimetype = "application/problem+json"
    for key, value in error.headers.items():
        response.headers[key] = value
    return response


def _from_http(exc: HTTPException) -> Response:
    code = exc.code or 500
    kind = _HTTP_TO_SANDBOX.get(code)
    if code == 404:
        detail = "Fant ingen ressurs på denne adressen."
    elif code == 405:
        detail = "Metoden er ikke tillatt for denne adressen."
    elif code == 413:
        detail = "Forespørselen er større enn sandkassen tar imot (SANDBOX_MAX_BODY_BYTES)."
    else:
        detail = exc.description or exc.name
    if kind is None:
        error: SandboxError = RequestError(detail)
        error.status = code
        error.title = exc.name
    else:
        error = kind(detail, [Problem(f"http.{code}", "$", detail)])
    response = problem_response(error)
    if code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return problem_response(SandboxError("Uventet feil i sandkassen; se serverloggen."))


def init_app(app: Flask) -> None:
    """Register the handlers for sandbox errors, HTTP errors and anything unexpected."""
    app.register_error_handler(SandboxError, problem_response)
    app.register_error_handler(HTTPException, _from_http)
    app.register_error_handler(Exception, _unexpected)
