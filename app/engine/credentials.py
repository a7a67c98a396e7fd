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


# A tenant's password may be one a person chose, so it gets a salted, slow hash.
SECRET_ITERATIONS = 120_000
SECRET_SCHEME = "pbkdf2_sha256"


def hash_secret(
    password: str, salt: bytes | None = None, iterations: int = SECRET_ITERATIONS
) -> str:
    """A salted PBKDF2-SHA256 hash of a tenant password, with its parameters."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(errors="surrogatepass"), salt, iterations
    )
    return f"{SECRET_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def secret_matches(stored: str, password: str) -> bool:
    """Constant-time check of a tenant password against :func:`hash_secret`'s output."""
    try:
        scheme, iterations, salt, _digest = stored.split("$")
        if scheme != SECRET_SCHEME:
            return False
        given = hash_secret(password, bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(stored, given)


def new_tenant_password() -> str:
    """A fresh tenant password (shown once; only the hash is stored)."""
    return secrets.token_urlsafe(24)
