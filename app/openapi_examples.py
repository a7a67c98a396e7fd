"""Examples for /openapi.json and /docs: the kvittering, an innsending, a supplering and
every kommune event, each event kind also its own schema under a ``type`` discriminator.

The tests load every example through the schema it illustrates, so none can go stale.
"""

from __future__ import annotations

from typing import Any

from app.vocabulary import EVENT_KINDS
from app.wire.inputs import EVENT_SCHEMAS

REF = "AR16659337"
SAKSNUMMER = {"saksaar": "2024", "sakssekvensnummer": "118"}
MANGEL_ID = "5b0c3f7e-2f6a-4f7b-9a51-0d2b9c1e4a10"

KVITTERING: dict[str, Any] = {
    "metadata": {
        "fraEbyggesaksystem": "Sandkasse eByggesak",
        "innsendingReferanse": REF,
        "ftBID": "BYGG-38913",
        "avsenderId": "4601",
        "avsenderNavn": "Bergen kommune",
        "ekspedertDato": "2024-03-05T07:30:00.000Z",
        "offentligJournalUrl": "https://postjournal.sandbox.invalid/4601/sak/2024-118",
    },
    "saksnummer": {**SAKSNUMMER, "journalpostnummer": "1"},
    "milepæl": "MS",
    "mottattDato": "2024-03-04T07:30:00.000Z",
    "registrertDato": "2024-03-05T07:30:00.000Z",
    "mottattDokument": [
        {
            "dokumentNavn": "Skjema.pdf",
            "mimeType": "application/pdf",
            "dokumentStorrelse": "123245",
            "ekstraMetadata": [{"key": "skjemaversjon.dokument", "value": "5844.43006"}],
        }
    ],
    "avsenderKontaktpunkt": {
        "navn": "Kari Nordmann",
        "epost": "kari.nordmann@bergen.kommune.invalid",
        "telefon": "55 56 00 00",
    },
    "saksbehandlingsfrist": "2024-05-27T07:30:00.000Z",
}

INNSENDING: dict[str, Any] = {
    "soknadstype": "RS",
    "tiltakstype": ["nyttbyggboligformal"],
    "tittel": "Enebolig med garasje",
    "dokumenter": [
        {"dokumentNavn": "Skjema.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "123245"}
    ],
}

SUPPLERING: dict[str, Any] = {
    "innsendingReferanse": REF,
    "kommunensSaksnummer": SAKSNUMMER,
    "mangelbesvarelse": [
        {"mangelID": MANGEL_ID, "kommentar": "Situasjonsplanen er vedlagt.", "vedlegg": []}
    ],
}

EVENTS: dict[str, dict[str, Any]] = {
    "journalfor": {"type": "journalfor", "fordelingssak": True},
    "endre_saksnummer": {"type": "endre_saksnummer", "typeOppdatering": "endring"},
    "tildel_saksbehandler": {
        "type": "tildel_saksbehandler",
        "saksbehandler": {"navn": "Ola Nordmann", "epost": "ola@bergen.kommune.invalid"},
    },
    "sett_frist": {"type": "sett_frist", "uker": 12},
    "endre_soknadstype": {"type": "endre_soknadstype", "soknadstype": "ET"},
    "mangel": {
        "type": "mangel",
        "mangler": [{"sjekkpunktId": "1.73", "utfall": "MSL", "tittel": "Situasjonsplan mangler"}],
        "svarfrist": "2024-04-01T00:00:00.000Z",
    },
    "supplering": {"type": "supplering", **SUPPLERING},
    "komplett": {"type": "komplett"},
    "vedtak": {
        "type": "vedtak",
        "resultat": "innvilget",
        "vilkaar": [{"sjekkpunktId": "3.7", "tittel": "Ferdigattest før innflytting"}],
    },
    "publiser_dokument": {
        "type": "publiser_dokument",
        "tittel": "Orientering om saken",
        "tekst": ["Saken er til behandling."],
    },
}


def event_component(kind: str) -> str:
    """``mangel`` → ``MangelEvent``: the component name of one event kind."""
    return "".join(part.capitalize() for part in kind.split("_")) + "Event"


def event_union() -> dict[str, Any]:
    """The ``Event`` component: one of the event kinds, told apart by ``type``."""
    refs = {kind: f"#/components/schemas/{event_component(kind)}" for kind in EVENT_SCHEMAS}
    return {
        "description": "A kommune event; `type` says which, and which fields it takes.",
        "oneOf": [{"$ref": ref} for ref in refs.values()],
        "discriminator": {"propertyName": "type", "mapping": refs},
    }


def _body(operation: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = operation["requestBody"]["content"]["application/json"]
    return media


def add_examples(document: dict[str, Any]) -> None:
    """Put the examples into ``document`` and pin each event kind's ``type``."""
    schemas = document["components"]["schemas"]
    descriptions = {kind.name: kind.description for kind in EVENT_KINDS.values()}
    for kind in EVENT_SCHEMAS:
        schema = schemas[event_component(kind)]
        schema["properties"]["type"] = {"type": "string", "const": kind}
        schema["description"] = f"{kind}: {descriptions.get(kind, '')}".rstrip(": ")
        schema["example"] = EVENTS[kind]
    paths = document["paths"]
    paths["/api/v1/kvittering"]["get"]["responses"]["200"]["content"]["application/json"][
        "example"
    ] = KVITTERING
    _body(paths["/api/v1/innsending"]["post"])["example"] = INNSENDING
    _body(paths["/api/v1/supplering"]["post"])["example"] = SUPPLERING
    _body(paths["/sandbox/runs/{runId}/events"]["post"])["examples"] = {
        kind: {"summary": descriptions.get(kind, kind), "value": value}
        for kind, value in EVENTS.items()
    }
