"""The UI's session: a signed cookie that expires, a CSRF token per session, the Origin check.

The cookie is ``<id>.<expires>.<kind>.<signature>``: a random session id, its expiry
(Unix seconds), ``a`` for a session that logged in with SANDBOX_ADMIN_TOKEN or ``o`` for
one that did not need to (an open sandbox, or the login page itself), and an HMAC of the
three. The key is derived from the admin token, so every worker and container checks a
cookie alike, and a new token ends every session. An open sandbox has no secret to sign
with: its key is fixed, and the CSRF token still holds, since another site can neither
read the session cookie nor set one for the sandbox's host.

Every state-changing form carries ``csrf_token``, an HMAC of the session id; a POST
whose token does not match its session, or whose ``Origin`` (or ``Sec-Fetch-Site``) says
another site sent it, is refused with 403 before its view runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from flask import current_app, g, request
from werkzeug.wrappers import Response as WerkzeugResponse

from app.web_security import cross_site

COOKIE = "byggesak_sandbox_ui"
FIELD = "csrf_token"
LOGGED_IN, OPEN, TENANT = "a", "o", "t"
_OPEN_KEY = b"byggesak-sandbox-ui-open"
SESSION = "ui_session"  # g: this request's valid session, or the one minted for it
MINTED = "ui_session_minted"  # g: a new session to set as the cookie


@dataclass(frozen=True)
class UiSession:
    """A UI session as its cookie carries it."""

    id: str
    expires: int
    kind: str

    def value(self) -> str:
        """The cookie's value: the fields and their signature."""
        payload = f"{self.id}.{self.expires}.{self.kind}"
        return f"{payload}.{_sign(payload)}"


def _key() -> bytes:
    token = current_app.config["ADMIN_TOKEN"]
    if not token:
        return _OPEN_KEY
    return hashlib.sha256(b"byggesak-sandbox-ui:" + str(token).encode()).digest()


def _sign(payload: str) -> str:
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def _parse(value: str) -> UiSession | None:
    """The session a cookie value names, if its signature holds and it has not expired."""
    parts = value.split(".")
    if len(parts) != 4 or not parts[1].isdigit() or not _known_kind(parts[2]):
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3], _sign(payload)):
        return None
    session = UiSession(parts[0], int(parts[1]), parts[2])
    return session if session.expires > time.time() else None


def _known_kind(kind: str) -> bool:
    if kind in (LOGGED_IN, OPEN):
        return True
    # A tenant's session: ``t`` and the tenant's name in hex (a name may hold dots).
    rest = kind.removeprefix(TENANT)
    return kind.startswith(TENANT) and bool(rest) and all(c in "0123456789abcdef" for c in rest)


def tenant_kind(name: str) -> str:
    """The session kind of a login with tenant ``name``'s credentials."""
    return TENANT + name.encode().hex()


def tenant() -> str | None:
    """The tenant this request's session logged in as, or None."""
    session = current()
    if session is None or not session.kind.startswith(TENANT):
        return None
    return bytes.fromhex(session.kind.removeprefix(TENANT)).decode()


def current() -> UiSession | None:
    """This request's session: the cookie's, if valid, or one minted during the request."""
    if SESSION not in g:
        g.setdefault(SESSION, _parse(request.cookies.get(COOKIE, "")))
    session: UiSession | None = g.get(SESSION)
    return session


def logged_in() -> bool:
    """The request carries a session that logged in with the admin token."""
    session = current()
    return session is not None and session.kind == LOGGED_IN


def begin(kind: str) -> UiSession:
    """A fresh session (a new id, so no one can plant one before a login), set on the response."""
    lifetime = int(current_app.config["UI_SESSION_SECONDS"])
    session = UiSession(secrets.token_urlsafe(18), int(time.time()) + lifetime, kind)
    setattr(g, SESSION, session)
    setattr(g, MINTED, session)
    return session


def csrf_token() -> str:
    """The CSRF token of this request's session (one is started if there is none)."""
    session = current() or begin(OPEN)
    return hmac.new(_key(), f"csrf:{session.id}".encode(), hashlib.sha256).hexdigest()


def forged() -> str | None:
    """Why this state-changing UI request is refused as forged, or None when it is not."""
    if cross_site():
        return "The form was sent from another site."
    session = current()
    if session is None:
        return "Your session has expired or is missing. Reload the page and try again."
    given = request.form.get(FIELD, "")
    if not given or not hmac.compare_digest(given, csrf_token()):
        return "The form lacks a valid CSRF token. Reload the page and try again."
    return None


def set_cookie(response: WerkzeugResponse) -> WerkzeugResponse:
    """Send a session minted during this request as the cookie: HttpOnly, SameSite=Strict,
    expiring with the session, and Secure when the sandbox is reached over HTTPS."""
    session: UiSession | None = g.get(MINTED)
    if session is None:
        return response
    response.set_cookie(
        COOKIE,
        session.value(),
        max_age=max(0, session.expires - int(time.time())),
        path="/ui",
        httponly=True,
        samesite="Strict",
        secure=over_https(),
    )
    return response


def over_https() -> bool:
    """The browser reaches the sandbox over HTTPS: directly, or through a proxy in front
    (``SANDBOX_BASE_URL`` is an https URL)."""
    return request.is_secure or str(current_app.config.get("BASE_URL") or "").startswith("https://")
