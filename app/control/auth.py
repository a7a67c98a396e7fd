"""The control plane's guard: SANDBOX_ADMIN_TOKEN as a Bearer token, when it is set."""

from __future__ import annotations

import hmac

from flask import current_app, request

from app.errors import AuthenticationRequired, Problem


def require_admin() -> None:
    """When SANDBOX_ADMIN_TOKEN is set, demand it as a Bearer token."""
    token = current_app.config["ADMIN_TOKEN"]
    if not token:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        message = "Kontrollflaten krever 'Authorization: Bearer <SANDBOX_ADMIN_TOKEN>'."
        raise AuthenticationRequired(
            message,
            [Problem("admin.token.mangler", "Authorization", message)],
            {"WWW-Authenticate": 'Bearer realm="byggesak-sandbox-admin"'},
        )
    if not hmac.compare_digest(given.encode(), str(token).encode()):
        message = "Feil administrasjonsnøkkel."
        raise AuthenticationRequired(
            message,
            [Problem("admin.token.feil", "Authorization", message)],
            {"WWW-Authenticate": 'Bearer realm="byggesak-sandbox-admin"'},
        )
