"""The OpenAPI operations of the simulated DiBK API; each view in app.api wears its own.

Kept apart from the views so a view carries a single decorator line; the texts say
which parts are DiBK facts and which are sandbox assumptions.
"""

from __future__ import annotations

from typing import Any

from app.openapi_docs import BODY_ERRORS, FINISHED, doc, json_content, problem, query

DIBK = ("DiBK saksbehandlingsdata",)
STAND_INS = ("Sandbox stand-ins",)

REF_PARAM = query(
    "innsendingReferanse",
    "The submission's Altinn reference.",
    {"type": "string", "minLength": 1, "example": "AR12345679"},
    required=True,
)
# A scenario's `faults:` can answer any client request with one of these.
FAULTS: dict[str, str | dict[str, Any]] = {
    status: problem(f"{text}, injected by the run's scenario (faults:)")
    | {"headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}}
    for status, text in (
        ("429", "Too many requests"),
        ("500", "A transient internal error"),
        ("503", "Service unavailable"),
    )
}
CREDENTIALS: dict[str, str | dict[str, Any]] = {
    "401": "Missing or wrong HTTP Basic credentials",
    **FAULTS,
}
COMMON_ERRORS: dict[str, str | dict[str, Any]] = {
    "400": "innsendingReferanse missing or malformed",
    "404": "Unknown reference (also another run's)",
    **CREDENTIALS,
}
UPLOAD_ERRORS: dict[str, str | dict[str, Any]] = BODY_ERRORS | CREDENTIALS


def _ok(description: str, schema: str) -> dict[str, str | dict[str, Any]]:
    return {"200": {"description": description, "content": json_content(schema)}}


KVITTERING = doc(
    "The kvittering (receipt) for a submission",
    tags=DIBK,
    description="DiBK fact: path and shape. 404 until the kommune has journalført.",
    parameters=[REF_PARAM],
    responses=_ok("Kvittering", "Kvittering") | COMMON_ERRORS,
)

OPPDATERINGER_OK: dict[str, str | dict[str, Any]] = {
    "200": {
        "description": "Oppdateringer",
        "headers": {
            "X-Sandbox-Siste-Sekvensnummer": {
                "description": "The last sekvensnummer in this answer (or `etter`).",
                "schema": {"type": "string"},
            }
        },
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Oppdatering"},
                }
            }
        },
    }
}

OPPDATERING = doc(
    "All oppdateringer for a submission, in order",
    tags=DIBK,
    description=(
        "Draft 1 (utkast-2022) API. Sandbox assumption: the response is a JSON array; "
        "each item has a string `sekvensnummer`, strictly increasing per run (gaps "
        "are possible when several submissions share a run); `etter=N` returns only "
        "items after N."
    ),
    assumption=True,
    parameters=[
        REF_PARAM,
        query(
            "etter",
            "Cursor: the last sekvensnummer the client has seen.",
            {"type": "integer", "minimum": 0},
        ),
    ],
    responses=OPPDATERINGER_OK
    | COMMON_ERRORS
    | {"400": "innsendingReferanse missing or malformed, or `etter` not a whole number ≥ 0"},
)

STATUS = doc(
    "The current view of a submission",
    tags=DIBK,
    description="Sandbox extension modelled on DiBK's planned 'API for status (ny versjon)'.",
    assumption=True,
    parameters=[REF_PARAM],
    responses=_ok("Status", "Status") | COMMON_ERRORS,
)

DOKUMENT = doc(
    "An outgoing document (PDF)",
    tags=DIBK,
    description="DiBK fact: 410 Gone once the document is 30 days old (run's time).",
    responses={
        "200": {"description": "The letter", "content": {"application/pdf": {}}},
        "404": "Unknown document (also another run's)",
        "410": "Deleted after 30 days",
        **CREDENTIALS,
    },
)

INNSENDING = doc(
    "Submit a søknad (stand-in for Altinn/FtB)",
    tags=STAND_INS,
    description="Sandbox assumption: real submissions go through Altinn and FtB.",
    assumption=True,
    body="Innsending",
    responses={
        "201": "Registered; innsendingReferanse and kvitteringUrl",
        "400": "Malformed JSON, field errors, or a kommunenummer other than the run's",
        "409": FINISHED,
        **UPLOAD_ERRORS,
    },
)

SUPPLERING = doc(
    "Supplering av søknad: mangelbesvarelse or ettersending",
    tags=STAND_INS,
    description=(
        "Sandbox assumption: real suppleringer go through Altinn and FtB. Each "
        "mangelbesvarelse must echo a mangelID; kommunensSaksnummer is required then."
    ),
    assumption=True,
    body="Supplering",
    responses={
        "201": "Received; advarsler lists soft problems",
        "400": "Malformed JSON, field errors or an unknown mangelID",
        "404": "Unknown innsendingReferanse",
        "409": f"The innsending is not journalført yet. {FINISHED}",
        **UPLOAD_ERRORS,
    },
)
