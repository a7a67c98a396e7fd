"""Record every exchange on the simulated API in the run's journal (redacted, capped)."""

from __future__ import annotations

import base64
import codecs
import hashlib
import re
import time
from typing import Any

from flask import Flask, Request, Response, current_app, g, request

from app import vocabulary
from app.api.auth import authenticated_run_id
from app.engine.clock import clock_of, utcnow
from app.error_handlers import problem_response
from app.errors import JournalUnavailable
from app.store.auth_failures import RecorderSlot
from app.store.db import get_session
from app.store.journal_service import WriterSlot
from app.store.models import Run
from app.wire.inputs.canonical import accepted_text

REDACTED = "***"


# What each header name gets in the journal: kept, or its credentials hidden.
KEEP, AUTHORIZATION, HIDE = 0, 1, 2
_HIDDEN = {
    "authorization": AUTHORIZATION,
    "cookie": HIDE,
    "set-cookie": HIDE,
    "proxy-authorization": HIDE,
}
_NAMES_KEPT = 512  # distinct environ keys remembered (clients may send any header name)
_names: dict[str, tuple[str, int] | None] = {}
_UNSEEN = ("", -1)


def _environ_name(key: str) -> tuple[str, int] | None:
    """The header name of a WSGI environ key as werkzeug's ``EnvironHeaders`` gives it, and
    how it is journalled; None for keys that are not headers."""
    found = _names.get(key, _UNSEEN)
    if found is not _UNSEEN:
        return found
    name: str | None = None
    if key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        name = key[5:].replace("_", "-").title()
    elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        name = key.replace("_", "-").title()
    result = None if name is None else (name, _HIDDEN.get(name.lower(), KEEP))
    if len(_names) < _NAMES_KEPT:
        _names[key] = result
    return result


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers, credentials hidden, read straight from the environ."""
    out: dict[str, str] = {}
    for key, value in environ.items():
        named = _environ_name(key)
        if named is None or (not value and not key.startswith("HTTP_")):
            continue
        name, kind = named
        out[name] = value if kind == KEEP else _hidden(kind, value)
    return out


def _redact_headers(headers: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        kind = _HIDDEN.get(key.lower(), KEEP)
        out[key] = value if kind == KEEP else _hidden(kind, value)
    return out


def _hidden(kind: int, value: str) -> str:
    return _redact_authorization(value) if kind == AUTHORIZATION else REDACTED


def _redact_authorization(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            username = base64.b64decode(credentials).decode("utf-8").partition(":")[0]
        except ValueError:
            return f"Basic {REDACTED}"
        return f"Basic {username}:{REDACTED}"
    return f"{scheme} {REDACTED}"


def _capture(raw: bytes, mimetype: str | None, cap: int) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    if (
        mimetype
        and not (mimetype.startswith("application/") and "json" in mimetype)
        and not (mimetype.startswith("application/") and "xml" in mimetype)
        and not (mimetype.startswith("text/"))
    ):
        return f"[{mimetype}, {len(raw)} byte]", False
    return _text(raw[:cap], bool(mimetype and "xml" in mimetype)), len(raw) > cap


_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _text(raw: bytes, xml: bool) -> str:
    """A captured body as text: XML in the encoding its byte-order mark or declaration
    names (a UTF-16 form reads as its text), anything else as UTF-8; a NUL, which
    PostgreSQL's text cannot hold, is kept as U+FFFD so the entry is never lost."""
    encoding = "utf-8"
    if xml:
        bom = next((name for mark, name in _BOMS if raw.startswith(mark)), None)
        declared = _XML_ENCODING.match(raw)
        encoding = bom or (declared[1].decode("ascii") if declared else "utf-8")
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:  # an encoding Python does not know: read as UTF-8
        text = raw.decode("utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")


def _run_from_credentials() -> str | None:
    """For /api/ calls that never reached a view (unknown path, wrong method): the run the
    credentials prove; a wrong password names none."""
    if not request.path.lower().startswith("/api/"):
        return None
    return authenticated_run_id()


ACTIONS = vocabulary.CLIENT_ACTIONS
_action = vocabulary.client_action


def action_of(method: str, path: str, status: int, outcome: str | None = None) -> str | None:
    """The client action the journal records for an exchange (and its endpoint's outcome)."""
    return vocabulary.refined_action(_action(method, path, status), outcome)


STARTED = "sandbox.started"
RECORDED = "journal_recorded"  # g: this exchange's entry went in with the change it made


class _Timed:
    """WSGI middleware: note when each request arrived (a Flask hook would cost more)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def entry_for(response: Response, outcome: str | None = None) -> dict[str, Any] | None:
    """The journal entry of this request and ``response``; None for no run's exchange.

    ``outcome`` names the kind of client action the endpoint told by what the exchange
    did (``supplering_mottatt`` for a supplering that made the søknad complete).
    """
    # Plain objects, not Flask's context proxies: this runs on every request.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    ctx = g._get_current_object()
    run_id = ctx.get("journal_run_id") or _run_from_credentials()
    if run_id is None:
        return None
    body_cap = int(current_app.config["JOURNAL_BODY_CAP"])
    limit = req.max_content_length or 0
    environ = req.environ
    canonical: str | None = None
    if not req.content_length and "HTTP_TRANSFER_ENCODING" not in environ:
        request_body: str | None = None  # no body: nothing to read
        request_truncated = False
    elif (req.content_length or 0) > limit:
        request_body = f"[ikke lest: {req.content_length} byte over grensen]"
        request_truncated = True
    else:
        raw = req.get_data(cache=True)
        request_body, request_truncated = _capture(raw, req.mimetype, body_cap)
        accepted = ctx.get("loaded_body")
        if accepted is not None:
            canonical = accepted_text(*accepted)
        if canonical is not None and len(canonical) > body_cap:
            canonical = None  # kept whole or not at all: scoring must not read half a body
    response_body, response_truncated = _capture(
        response.get_data() if not response.direct_passthrough else b"", response.mimetype, body_cap
    )
    virtual_time = ctx.get("journal_virtual_time")
    if virtual_time is None:  # the request never got as far as the run's clock
        session = get_session()
        session.rollback()
        run = session.get(Run, run_id)
        if run is None:  # deleted while the request was served
            return None
        virtual_time = clock_of(run).now()
    method, path, status = req.method, req.path, response.status_code
    replay_of = ctx.get("journal_replay_of")
    fault = ctx.get("journal_fault")
    headers = request_headers(environ)
    fold_key = None
    if method == "GET" and status == 200 and fault is None and not response_truncated:
        fold_key = _fold_key(ctx.get("journal_fold"), path, environ, response_body)
    return {
        "run_id": run_id,
        "real_time": utcnow(),
        "virtual_time": virtual_time,
        "method": method,
        "path": path,
        "query": req.query_string.decode("utf-8", errors="replace"),
        "request_headers": headers,
        "request_body": request_body,
        "request_body_truncated": request_truncated,
        "request_body_canonical": canonical,
        "status": status,
        "response_headers": _redact_headers(response.headers),
        "response_body": response_body,
        "response_body_truncated": response_truncated,
        # A write sent again counts as no action of its own (app.api.resend).
        "action": None if replay_of is not None else action_of(method, path, status, outcome),
        "fault": fault,
        "replay_of": replay_of,
        "fold_key": fold_key,
        "duration_ms": round((time.perf_counter() - environ.get(STARTED, 0.0)) * 1000, 3),
    }


_SENT_AT = re.compile(r'"ekspedertDato":\s*"[^"]*"')


def _fold_key(
    epoch: str | None, path: str, environ: dict[str, Any], body: str | None
) -> str | None:
    """What a poll shares with its identical repeats (``app.store.journal_folding``): the
    question (path and query) and the answer.

    Not the request's headers: no verdict reads them, and a client instrumented as
    vendors' systems are (a ``traceparent`` or a request id on every request) would
    otherwise never fold, fill the journal's cap and lose its first kvittering to the trim.
    """
    if epoch is None or body is None or path.lower() not in vocabulary.POLL_PATHS:
        return None
    # When the answer was sent is no part of what it says: a status stamps every answer.
    said = _SENT_AT.sub("", body)
    seen = f"{epoch}\n{path}\n{environ.get('QUERY_STRING', '')}\n{said}"
    return hashlib.sha256(seen.encode()).hexdigest()


def recorded_with_change() -> None:
    """Note that this exchange's entry was committed with the change it made."""
    g.setdefault(RECORDED, True)


def _record(response: Response) -> Response:
    if g.get(RECORDED):
        return response
    entry = entry_for(response)
    if entry is None:
        return response
    # End any read before the write: the writer commits on its own connection.
    if "db_session" in g:
        g.db_session.rollback()
    try:
        current_app.extensions["sandbox.journal"].write(entry)
    except JournalUnavailable as error:
        # Not recorded, so not answered as done: the client may send it again.
        return problem_response(error)
    return response


def init_app(app: Flask) -> None:
    """Time every request, record the simulated API's exchanges and count failed logins."""
    engine = app.extensions["sandbox.engine"]
    app.extensions["sandbox.journal"] = WriterSlot(
        engine, int(app.config["JOURNAL_MAX_ENTRIES"]), app.config["JOURNAL_SOCKET"]
    )
    app.extensions["sandbox.auth_failures"] = RecorderSlot(engine)
    app.wsgi_app = _Timed(app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(_record)
