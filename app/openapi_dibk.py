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
RESENT = (
    " Sandbox assumption: the same body sent again (as the schema reads it) gets the first "
    "answer, with `X-Sandbox-Gjentatt-Fra`, and applies nothing."
)


def _created(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "X-Sandbox-Gjentatt-Fra": {
                "description": "On a write sent again: the journal entry whose answer it is.",
                "schema": {"type": "string"},
            }
        },
    }


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
    description="Sandbox assumption: real submissions go through Altinn and FtB." + RESENT,
    assumption=True,
    body="Innsending",
    responses={
        "201": _created("Registered; innsendingReferanse and kvitteringUrl"),
        "400": "Malformed JSON, field errors, or a kommunenummer other than the run's",
        "409": FINISHED,
        **UPLOAD_ERRORS,
    },
)

SUPPLERING_V2_EXAMPLE = {
    "kommunensSaksnummer": {"saksaar": 2024, "sakssekvensnummer": 118},
    "metadata": {"fraSluttbrukersystem": "Vårt søknadssystem"},
    "utfallBesvarelse": {
        "utfallSvar": [
            {
                "utfallId": "3f1c2a9e-5d7b-4c1e-9a0f-2b6d8e4c7a11",
                "utfallType": {"kodeverdi": "MG", "kodebeskrivelse": "Mangel"},
                "tema": {"kodeverdi": "generelt", "kodebeskrivelse": "Generelt"},
                "tittel": "Situasjonsplan mangler",
                "utloestFraSjekkpunkt": {"sjekkpunktId": "1.73", "sjekkpunktEier": "dibk"},
                "erUtfallBesvart": True,
                "erUtfallBesvaresSenere": False,
                "kommentar": "Vedlagt.",
                "vedleggsliste": {
                    "vedlegg": [
                        {
                            "versjonsnummer": "V1",
                            "vedleggstype": {
                                "kodeverdi": "Situasjonsplan",
                                "kodebeskrivelse": "Situasjonsplan",
                            },
                            "versjonsdato": "2025-03-07",
                            "filnavn": "situasjonsplan.pdf",
                        }
                    ]
                },
            }
        ]
    },
    "ettersendinger": {
        "ettersending": [
            {
                "tema": {"kodeverdi": "Parkering", "kodebeskrivelse": "Parkering"},
                "tittel": "Parkeringsplan",
                "kommentar": "Oppdatert plan.",
            }
        ]
    },
}
SUPPLERING_OLD_EXAMPLE = {
    "innsendingReferanse": "AR16659337",
    "kommunensSaksnummer": {"saksaar": "2024", "sakssekvensnummer": "118"},
    "mangelbesvarelse": [
        {"mangelID": "3f1c2a9e-5d7b-4c1e-9a0f-2b6d8e4c7a11", "kommentar": "Vedlagt."}
    ],
}
SUPPLERING_XML_EXAMPLE = """<suppleringAvSoeknad xmlns="https://skjema.ft.dibk.no/suppleringavsoeknad/v2"
    dataFormatProvider="DIBK" dataFormatId="10008" dataFormatVersion="2">
  <kommunensSaksnummer><saksaar>2024</saksaar><sakssekvensnummer>118</sakssekvensnummer></kommunensSaksnummer>
  <utfallBesvarelse>
    <utfallSvar>
      <utfallId>3f1c2a9e-5d7b-4c1e-9a0f-2b6d8e4c7a11</utfallId>
      <erUtfallBesvaresSenere>false</erUtfallBesvaresSenere>
      <erUtfallBesvart>true</erUtfallBesvart>
      <kommentar>Vedlagt.</kommentar>
    </utfallSvar>
  </utfallBesvarelse>
</suppleringAvSoeknad>"""

SUPPLERING = doc(
    "Supplering av søknad v2: answers to outcomes by utfallId, and ettersendinger",
    tags=STAND_INS,
    description=(
        "Sandbox assumption: real suppleringer go through Altinn and FtB. The body is "
        "Supplering av søknad v2 in JSON (DiBK's element names in camelCase) or as DiBK's "
        "XML (Content-Type application/xml, namespace "
        "https://skjema.ft.dibk.no/suppleringavsoeknad/v2); the older mangelbesvarelse body "
        "is accepted too. The case is found by innsendingReferanse or by kommunensSaksnummer "
        "(any number it has had). Each utfallSvar names an utfallId the kommune issued; "
        "erUtfallBesvaresSenere leaves the outcome open. Differing echoed content is an "
        "advarsel, never a refusal." + RESENT
    ),
    assumption=True,
    body="Supplering",
    examples={"v2": SUPPLERING_V2_EXAMPLE, "mangelbesvarelse": SUPPLERING_OLD_EXAMPLE},
    xml_example=SUPPLERING_XML_EXAMPLE,
    responses={
        "201": _created("Received; advarsler lists soft problems"),
        "400": (
            "Malformed JSON or XML (with line and column), field errors (an XML form's name the "
            "element and line), an utfallId the kommune never issued, a saksnummer the case "
            "never had, or an XML form other than Supplering av søknad v2 (the accepted list)"
        ),
        "404": "Unknown innsendingReferanse",
        "409": f"The innsending is not journalført yet. {FINISHED}",
        **UPLOAD_ERRORS,
        "415": "Neither application/json nor application/xml (the accepted forms are listed)",
    },
)
