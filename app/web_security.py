"""What protects the sandbox from other sites' pages: security headers, and refusing
state-changing control-plane calls that a browser sent for another origin.

Every HTML page gets a Content-Security-Policy (scripts and styles from the sandbox
itself, and Swagger UI's style attributes on ``/docs``; a downloaded report, which is one
self-contained file, only its inline styles),
``frame-ancestors 'none'`` with ``X-Frame-Options: DENY``, ``Referrer-Policy:
same-origin`` (not ``no-referrer``: with it a browser sends ``Origin: null`` on the UI's
own forms), and ``X-Content-Type-Options: nosniff`` (which every answer outside the
simulated API gets). The simulated API's answers are left exactly as they were: they are
the wire a client is scored on, and no browser renders them.

The control plane is called by the CLI, CI and curl, never by a browser page: a POST,
DELETE, PUT or PATCH whose ``Origin`` (or ``Sec-Fetch-Site``) names another site is 403,
and one whose body is declared as anything but ``application/json`` is 415 even when it
is empty, since an HTML form can send only form bodies and plain text.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from app.errors import Forbidden, Problem, UnsupportedMediaType
from app.reports.html import SVG_STYLE

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_SVG_STYLE_HASH = base64.b64encode(hashlib.sha256(SVG_STYLE.encode()).digest()).decode()
UI_POLICY = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'self' 'sha256-{_SVG_STYLE_HASH}'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# /docs: Swagger UI's bundle from the sandbox; it sets style attributes as it renders.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Any other HTML: a report is one offline file, with inline styles and no scripts.
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
UI_ENDPOINTS_WITH_DOCUMENTS = ("ui.report",)


def cross_site() -> bool:
    """The browser says another origin sent this request (``Origin``, ``Sec-Fetch-Site``)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == "null" or urlsplit(origin).netloc.lower() not in _own_hosts()
    return request.headers.get("Sec-Fetch-Site", "") == "cross-site"


def _own_hosts() -> set[str]:
    """The host[:port] the sandbox answers as: the request's Host and SANDBOX_BASE_URL's."""
    hosts = {request.host.lower()}
    base = current_app.config.get("BASE_URL")
    if base:
        hosts.add(urlsplit(str(base)).netloc.lower())
    return hosts


def refuse_forged_control_calls() -> None:
    """Refuse a state-changing control-plane call from another site's page or a form body."""
    if request.method in SAFE_METHODS or not request.path.startswith("/sandbox/"):
        return
    if cross_site():
        message = "Kontrollflaten tar ikke imot kall fra andre nettsteders sider (Origin)."
        raise Forbidden(message, [Problem("origin.fremmed", "Origin", message)])
    declared = request.headers.get("Content-Type")
    if declared is not None and request.mimetype != "application/json":
        message = f"Innholdstypen må være application/json, ikke '{request.mimetype or declared}'."
        raise UnsupportedMediaType(message, [Problem("body.innholdstype", "$", message)])


def add_headers(response: Response) -> Response:
    """The security headers: on every HTML page, and nosniff outside the simulated API."""
    if request.path.lower().startswith("/api/"):
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _policy())
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _policy() -> str:
    """The Content-Security-Policy of this request's HTML page."""
    if request.blueprint == "ui" and request.endpoint not in UI_ENDPOINTS_WITH_DOCUMENTS:
        return UI_POLICY
    return DOCS_POLICY if request.blueprint == "apidocs" else DOCUMENT_POLICY


def init_app(app: Flask) -> None:
    """Check every control-plane call's origin and send the security headers."""
    app.before_request(refuse_forged_control_calls)
    app.after_request(add_headers)
