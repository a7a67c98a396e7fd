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
    "The submission's Altinn reference. Sandbox assumption: every query name of this API "
    "binds whatever its casing (`InnsendingReferanse=` too), as ASP.NET binds them.",
    {"type": "string", "minLength": 1, "example": "AR12345679"},
    required=True,
)
# A scenario's `faults:` can answer any client request with one of these.
# A 503 is also the answer to an exchange the journal could not record (never a 2xx).
FAULTS: dict[str, str | dict[str, Any]] = {
    status: problem(f"{text}, injected by the run's scenario (faults:)")
    | {"headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}}
    for status, text in (
        ("429", "Too many requests"),
        ("500", "A transient internal error"),
        (
            "503",
            "Service unavailable; also when the sandbox could not record the exchange in "
            "its journal (sandbox assumption: nothing unrecorded is answered as done)",
        ),
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

INNSENDING_EXAMPLE = {
    "soknadstype": "RS",
    "tiltakstype": ["nyttbyggboligformal"],
    "tittel": "Enebolig",
    "kommunenummer": "4601",
    "ftBID": "BYGG-3001",
    "dokumenter": [
        {"dokumentNavn": "Skjema.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "123245"}
    ],
}
IG_EXAMPLE = {
    "soknadstype": "IG",
    "tiltakstype": ["nyttbyggboligformal"],
    "tittel": "Enebolig, igangsetting",
    "ftBID": "FTB-12345",
    "fraSluttbrukersystem": "Vårt søknadssystem",
    "dokumenter": [
        {"dokumentNavn": "Skjema.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "90000"}
    ],
    "kommunensSaksnummer": {"saksaar": 2024, "sakssekvensnummer": 118},
    "utfallBesvarelse": {
        "utfallSvar": [
            {
                "utfallId": "8d0e4b7a-1c2f-4e9b-b3a6-5f7c9d1e2a40",
                "utfallType": {"kodeverdi": "SVV", "kodebeskrivelse": "Vilkår i vedtak"},
                "erUtfallBesvart": True,
                "kommentar": "Rekkefølgekravet er oppfylt.",
            }
        ]
    },
}
IG_XML_EXAMPLE = """<igangsettingstillatelse xmlns="https://skjema.ft.dibk.no/igangsettingstillatelse/v5"
    dataFormatProvider="DIBK" dataFormatId="10003" dataFormatVersion="5">
  <eiendomByggested><eiendom><eiendomsidentifikasjon>
    <kommunenummer>9999</kommunenummer><gaardsnummer>12</gaardsnummer><bruksnummer>34</bruksnummer>
  </eiendomsidentifikasjon></eiendom></eiendomByggested>
  <kommunensSaksnummer><saksaar>2024</saksaar><sakssekvensnummer>118</sakssekvensnummer></kommunensSaksnummer>
  <metadata>
    <fraSluttbrukersystem>Vårt søknadssystem</fraSluttbrukersystem>
    <ftbId>FTB-12345</ftbId>
    <prosjektnavn>Enebolig, igangsetting</prosjektnavn>
  </metadata>
  <soeknadGjelder><type><kode>
    <kodeverdi>nyttbyggboligformal</kodeverdi><kodebeskrivelse>Nytt bygg - Boligformål</kodebeskrivelse>
  </kode></type></soeknadGjelder>
  <utfallBesvarelse>
    <utfallSvar>
      <utfallId>8d0e4b7a-1c2f-4e9b-b3a6-5f7c9d1e2a40</utfallId>
      <utfallType><kodeverdi>SVV</kodeverdi><kodebeskrivelse>Vilkår i vedtak</kodebeskrivelse></utfallType>
      <erUtfallBesvaresSenere>false</erUtfallBesvaresSenere>
      <erUtfallBesvart>true</erUtfallBesvart>
      <kommentar>Rekkefølgekravet er oppfylt.</kommentar>
    </utfallSvar>
  </utfallBesvarelse>
</igangsettingstillatelse>"""

INNSENDING = doc(
    "Submit a søknad: the JSON innsending or DiBK's ET, RS, IG, MB or FA form",
    tags=STAND_INS,
    description=(
        "Sandbox assumption: real submissions go through Altinn and FtB. The body is the "
        "sandbox's JSON innsending or DiBK's form as XML (Content-Type application/xml): "
        "ET v4 (ettrinn), RS v4 (ramme), IG v5 (igangsettingstillatelse), MB v5 "
        "(midlertidigbrukstillatelse) or FA v5 (ferdigattest), namespaces "
        "https://skjema.ft.dibk.no/<form>/v<n>. The XML is read into the JSON: kommunenummer "
        "from eiendomByggested (DiBK's test kommunenumre 9996-9999 stand for the run's "
        "kommune), tiltakstype from soeknadGjelder, ftbId, prosjektnavn as tittel, "
        "fraSluttbrukersystem; dokumenter are the form itself and the files it names. A "
        "follow-up (IG, MB, FA) names its case by kommunensSaksnummer (any number it has had; "
        "an old one is an advarsel) and may answer the earlier vedtak's vilkår and "
        "oppfølgingspunkter by utfallId (utfallBesvarelse). An ET or RS with an unknown "
        "kommunensSaksnummer is a new søknad, with an advarsel. DiBK's blocks the sandbox "
        "does not read (tiltakshaver, planer, delsoeknader ..., listed per form in "
        "docs/wire-contract.md) are accepted as sent; any other element is an advarsel."
        + RESENT
        + " With a "
        "tenant's credentials each søknad starts a run of its own, chosen by a "
        "[sandbox:<scenario-id>] marker in tittel or prosjektnavn, the picked next scenario, "
        "the tenant's rules or its default; the same body from the same tenant within 10 "
        "minutes of wall time is the same søknad sent again (the first answer, no new run), "
        "later a new søknad."
    ),
    assumption=True,
    body="Soeknad",
    examples={"json": INNSENDING_EXAMPLE, "igangsetting": IG_EXAMPLE},
    xml_example=IG_XML_EXAMPLE,
    responses={
        "201": _created("Registered; innsendingReferanse, kvitteringUrl and advarsler"),
        "400": (
            "Malformed JSON or XML (with line and column), field errors (an XML form's name the "
            "element and line), a kommunenummer other than the run's, an utfallId the kommune "
            "never issued, a follow-up's saksnummer no case had, or an XML form other than "
            "ET, RS, IG, MB or FA (the accepted list); with a tenant's credentials an unknown "
            "scenario in the marker (naming the known ones)"
        ),
        "409": FINISHED + " A tenant's copy of a søknad whose first copy is still being "
        "answered after 10 s.",
        **UPLOAD_ERRORS,
        "415": "Neither application/json nor application/xml (the accepted forms are listed)",
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
        "erUtfallBesvaresSenere leaves the outcome open, and so does erUtfallBesvart false "
        "with neither kommentar nor vedlegg. Differing echoed content is an advarsel, never "
        "a refusal." + RESENT
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
