"""A run's HTTP Basic credentials: fresh random secrets, stored hashed, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def hash_password(password: str) -> str:
    """SHA-256 of a run password; the passwords are random 192-bit tokens, not user secrets."""
    return hashlib.sha256(password.encode()).hexdigest()


def password_matches(password_sha256: str, password: str) -> bool:
    """Constant-time check of a run password against its stored hash."""
    return hmac.compare_digest(password_sha256, hash_password(password))


def new_credentials() -> tuple[str, str]:
    """A fresh username and password (shown once; only the hash is stored)."""
    return f"klient-{secrets.token_hex(5)}", secrets.token_urlsafe(24)
