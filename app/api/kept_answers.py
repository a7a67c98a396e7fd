"""Answers kept for polls: a quiet run's unchanged answer, given again without Flask.

Clients poll: the same ``GET /api/v1/kvittering`` or ``/oppdatering`` again and again,
and while the run stays at one version and nothing can fire, the answer is the same
bytes every time. So a worker keeps the last such answer for each request (method,
path, query, credentials, host). When the same request comes again it still does what
every request does first — reads the run's head row and checks the version and the
password hash — and then, instead of dispatching through Flask, gives the kept status,
headers and body, and journals the exchange exactly as the first one was journalled
(with this request's own headers and times).

An answer is kept only when the view says it depends on nothing but the run's version
(``offer``), and only while the run is quiet (``prepare.client_request``): no step due
before the answer's ``until``, none waiting for a client action, no fault counting
requests, no clock that moves on each poll. Anything else — a changed version, a step
falling due on a moving clock, a request with a body, any other path — goes through
Flask as before, and a broken read leaves the answer to Flask as well.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, g, request

from app.api.journal import RECORDED, STARTED, request_headers
from app.engine.clock import Clock, aware, utcnow
from app.engine.snapshots import head_by_username

OFFER = "sandbox.offer"  # environ: a view's Quiet, for the answer it is giving
KEPT = 4096  # answers a worker keeps (one per distinct request)


@dataclass(frozen=True)
class Quiet:
    """Why a run's answers stay the same: its version, and until when nothing can fire."""

    username: str
    password_sha256: str
    version: int
    until: datetime
    clock: Clock


@dataclass(frozen=True)
class Kept:
    """One kept answer and the journal entry of its first giving."""

    quiet: Quiet
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    entry: dict[str, Any]


def offer() -> None:
    """Let this request's answer be kept: the view answers from the run's version alone."""
    quiet = g.get("quiet")
    if quiet is not None:
        request.environ[OFFER] = quiet


def _key(environ: dict[str, Any]) -> tuple[str, ...]:
    return (
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_AUTHORIZATION", ""),
        environ.get("HTTP_HOST", ""),
    )


def _has_body(environ: dict[str, Any]) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ


class KeptAnswers:
    """WSGI middleware around Flask: give a kept answer while it is still the answer."""

    def __init__(self, wsgi_app: Any, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self._kept: OrderedDict[tuple[str, ...], Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.given = 0  # answers given from memory: for tests and benchmarks

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "GET" or not environ.get("PATH_INFO", "").startswith(
            "/api/"
        ):
            return self.wsgi_app(environ, start_response)
        key = _key(environ)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and not _has_body(environ):
            answer = self._give(key, kept, environ, start_response)
            if answer is not None:
                return answer
        return self._through_flask(key, environ, start_response)

    def _give(
        self, key: tuple[str, ...], kept: Kept, environ: dict[str, Any], start_response: Any
    ) -> list[bytes] | None:
        """The kept answer if the run is still where it was; None to go through Flask."""
        quiet = kept.quiet
        try:
            head = head_by_username(self.app.extensions["sandbox.engine"], quiet.username)
        except Exception:  # Flask's path reads again and answers the error properly
            return None
        now = aware(quiet.clock.now())
        if (
            head is None
            or head.version != quiet.version
            or head.password_sha256 != quiet.password_sha256
            or head.poll_step_seconds
            or now >= quiet.until
        ):
            with self._lock:
                if self._kept.get(key) is kept:
                    del self._kept[key]
            return None
        started = environ.get(STARTED, time.perf_counter())
        entry = {
            **kept.entry,
            "real_time": utcnow(),
            "virtual_time": now,
            "request_headers": request_headers(environ),
            "request_body": None,  # a request with a body is never given a kept answer
            "request_body_truncated": False,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        self.app.extensions["sandbox.journal"].write(entry, wait=False)
        start_response(kept.status, list(kept.headers))
        with self._lock:
            self.given += 1
            if key in self._kept:
                self._kept.move_to_end(key)
        return [kept.body]

    def _through_flask(
        self, key: tuple[str, ...], environ: dict[str, Any], start_response: Any
    ) -> Any:
        answered: list[Any] = []

        def note(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, note)
        quiet, entry = environ.get(OFFER), environ.get(RECORDED)
        if quiet is None or entry is None or not answered or not answered[0].startswith("200"):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        kept = Kept(quiet, answered[0], answered[1], body, entry)
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return [body]
