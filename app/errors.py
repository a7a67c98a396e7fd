"""The sandbox's exceptions, in one tree.

Every error a caller can see is one of these; the central handler in
``app.error_handlers`` turns them into an ``application/problem+json`` body with a
rule id, a JSON path and a message per problem. Nothing here imports Flask, so the
domain core can raise them too.

    SandboxError                     base; never raised directly
    ├── RequestError                 the caller sent something we refuse (4xx)
    │   ├── MalformedRequest         400: body is not JSON / not UTF-8 / not an object
    │   ├── ValidationFailed         400: JSON parsed, but fields break the rules
    │   ├── AuthenticationRequired   401: credentials missing or wrong
    │   ├── Forbidden                403: another site's page sent a state-changing call
    │   ├── NotFound                 404: unknown run, reference or document
    │   ├── MethodNotAllowed         405
    │   ├── Conflict                 409: the case is not in a state that allows this
    │   ├── Gone                     410: the document has expired
    │   ├── PayloadTooLarge          413: over SANDBOX_MAX_BODY_BYTES
    │   └── UnsupportedMediaType     415: not application/json
    ├── EmissionRejected             500: the sandbox built a payload that breaks DiBK's
    │                                rules; a bug in the sandbox, never the client's fault
    └── JournalUnavailable           503: the exchange could not be recorded, so it is not
                                     answered as done (the client may send it again)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One field-level problem, mirroring an FtB validation message."""

    rule: str
    field: str
    message: str
    messagetype: str = "ERROR"

    def to_dict(self) -> dict[str, str]:
        """Render as the JSON object used in error bodies."""
        return {
            "rule": self.rule,
            "field": self.field,
            "message": self.message,
            "messagetype": self.messagetype,
        }


@dataclass
class SandboxError(Exception):
    """Base of every error the sandbox raises on purpose."""

    detail: str
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    status = 500
    title = "Intern feil i sandkassen"

    def __post_init__(self) -> None:
        super().__init__(self.detail)


class RequestError(SandboxError):
    """The caller sent something the sandbox refuses."""

    status = 400
    title = "Ugyldig forespørsel"


class MalformedRequest(RequestError):
    """The body could not be read as a JSON object."""

    status = 400
    title = "Ugyldig forespørsel"


class ValidationFailed(RequestError):
    """The JSON parsed but one or more fields break the rules."""

    status = 400
    title = "Valideringsfeil"


class AuthenticationRequired(RequestError):
    """Credentials are missing or wrong."""

    status = 401
    title = "Mangler gyldig autentisering"


class Forbidden(RequestError):
    """The request is refused whoever sends it: a page of another site sent it."""

    status = 403
    title = "Ikke tillatt"


class NotFound(RequestError):
    """The run, reference or document does not exist for this caller."""

    status = 404
    title = "Ikke funnet"


class MethodNotAllowed(RequestError):
    """The path exists, the method does not."""

    status = 405
    title = "Metoden er ikke tillatt"


class Conflict(RequestError):
    """The case is not in a state that allows the request."""

    status = 409
    title = "Konflikt med sakens tilstand"


class Gone(RequestError):
    """The resource existed but has expired."""

    status = 410
    title = "Ikke lenger tilgjengelig"


class PayloadTooLarge(RequestError):
    """The body is larger than SANDBOX_MAX_BODY_BYTES."""

    status = 413
    title = "Forespørselen er for stor"


class UnsupportedMediaType(RequestError):
    """The body is not sent as application/json."""

    status = 415
    title = "Ikke støttet innholdstype"


class ConfigError(SandboxError, ValueError):
    """A ``SANDBOX_*`` setting the sandbox cannot start with; the message names it."""


class EmissionRejected(SandboxError):
    """A payload the sandbox built breaks DiBK's rules: a sandbox bug."""

    status = 500
    title = "Sandkassen laget en ugyldig melding"


class JournalUnavailable(SandboxError):
    """The journal could not commit the exchange: it is not answered as done."""

    status = 503
    title = "Sandkassen kunne ikke lagre utvekslingen"
