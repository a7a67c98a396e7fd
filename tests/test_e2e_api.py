"""End to end over real HTTP on loopback: a whole case as a søknadssystem sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from app.wire import outputs, rules
from app.wire.dates import parse_iso
from tests.conftest import INNSENDING, LiveServer, Sandbox

KVITTERING_KEYS = {
    "metadata",
    "saksnummer",
    "milepæl",
    "mottattDato",
    "registrertDato",
    "mottattDokument",
}
METADATA_KEYS = {
    "fraEbyggesaksystem",
    "innsendingReferanse",
    "ftBID",
    "avsenderId",
    "avsenderNavn",
    "ekspedertDato",
}


class Client:
    """What a søknadssystem does: submit, then poll DiBK's paths with its run credentials."""

    def __init__(self, base: str, credentials: dict[str, str]) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.auth = (credentials["username"], credentials["password"])

    def submit(self) -> dict[str, Any]:
        r = self.http.post(f"{self.base}/api/v1/innsending", json=INNSENDING, timeout=10)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def get(self, api: str, ref: str, **params: Any) -> requests.Response:
        return self.http.get(
            f"{self.base}/api/v1/{api}", params={"innsendingReferanse": ref, **params}, timeout=10
        )

    def oppdateringer(self, ref: str, etter: int = 0) -> list[dict[str, Any]]:
        r = self.get("oppdatering", ref, etter=etter)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()
        return items


def _sak(payload: dict[str, Any]) -> str:
    return f"{payload['saksaar']}/{payload['sakssekvensnummer']}"


def _valid(api: rules.Api, payload: dict[str, Any]) -> None:
    """Every emitted payload passes DiBK's rules and the published output schema."""
    now = datetime.now(UTC).replace(year=2100)
    assert rules.check(api, payload, now) == []
    schema = {
        "kvittering": outputs.KvitteringOut,
        "oppdatering": outputs.OppdateringOut,
        "status": outputs.StatusOut,
    }[api]
    schema().load(payload)


def test_full_case_over_http(live_server: LiveServer, sandbox: Sandbox) -> None:
    run = sandbox.create_run(
        seed=2024, kommunenummer="4601", clock={"mode": "manual", "start": "2024-03-04T07:30:00Z"}
    )
    run_id = run["id"]
    client = Client(live_server.url, run["credentials"])

    # 1. The client submits its søknad; before journalføring there is no kvittering.
    submitted = client.submit()
    ref = submitted["innsendingReferanse"]
    assert ref.startswith("AR") and ref[2:].isdigit()
    assert submitted["ftBID"].startswith("BYGG-")
    r = client.get("kvittering", ref)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["rule"] == "kvittering.ikke_registrert"

    # 2. Journalført on the fordelingssak: the kvittering carries that number.
    sandbox.advance(run_id, "P1D")
    sandbox.event(run_id, {"type": "journalfor", "fordelingssak": True})
    r = client.get("kvittering", ref)
    assert r.status_code == 200
    kvittering = r.json()
    _valid("kvittering", kvittering)
    assert set(kvittering) >= KVITTERING_KEYS
    assert set(kvittering["metadata"]) >= METADATA_KEYS
    assert kvittering["milepæl"] == "MS"
    assert kvittering["metadata"]["avsenderId"] == "4601"
    assert kvittering["metadata"]["avsenderNavn"] == "Bergen kommune"
    assert kvittering["metadata"]["innsendingReferanse"] == ref
    assert kvittering["mottattDato"] == "2024-03-04T07:30:00.000Z"
    assert kvittering["registrertDato"] == "2024-03-05T07:30:00.000Z"
    assert all(isinstance(v, str) for v in kvittering["saksnummer"].values())
    assert kvittering["mottattDokument"][0] == INNSENDING["dokumenter"][0]
    assert "avsenderKontaktpunkt" not in kvittering  # no caseworker yet
    # 12 weeks from receipt for a rammetillatelse.
    assert kvittering["saksbehandlingsfrist"] == "2024-05-27T07:30:00.000Z"
    fordelingssak = _sak(kvittering["saksnummer"])
    status = client.get("status", ref).json()
    _valid("status", status)
    assert status["fordelingssak"] is True and _sak(status["saksnummer"]) == fordelingssak

    # 3. Renumbered from the fordelingssak to its own case.
    sandbox.advance(run_id, "P2D")
    sandbox.event(run_id, {"type": "endre_saksnummer", "typeOppdatering": "endring"})
    [endring] = client.oppdateringer(ref)
    _valid("oppdatering", endring)
    assert endring["metadata"]["innsendingReferanse"] == [ref]
    assert endring["metadata"]["ftBID"] == [submitted["ftBID"]]
    info = endring["nokkelinfo"]["endringAvSaksnummer"]
    assert info["typeOppdatering"] == "endring"
    assert [_sak(s) for s in info["opprinneligSaksnummer"]] == [fordelingssak]
    own_case = _sak(endring["nokkelinfo"]["saksnummer"])
    assert [_sak(s) for s in info["tilSaksnummer"]] == [own_case]
    assert own_case != fordelingssak
    status = client.get("status", ref).json()
    assert _sak(status["saksnummer"]) == own_case and status["fordelingssak"] is False

    # 4. A caseworker is assigned later: only the caseworker is sent.
    sandbox.event(
        run_id,
        {
            "type": "tildel_saksbehandler",
            "saksbehandler": {"navn": "Kari Nordmann", "epost": "kari@bergen.kommune.invalid"},
        },
    )
    items = client.oppdateringer(ref, etter=int(endring["sekvensnummer"]))
    assert len(items) == 1
    assert items[0]["nokkelinfo"] == {
        "saksbehandler": {"navn": "Kari Nordmann", "epost": "kari@bergen.kommune.invalid"}
    }
    assert "saksnummer" not in items[0]["nokkelinfo"]  # unchanged, so not sent

    # 5. A mangel that pauses the running frist.
    mangel = sandbox.event(
        run_id,
        {
            "type": "mangel",
            "svarfrist": "2024-03-28T23:00:00Z",
            "mangler": [
                {
                    "sjekkpunktId": "1.73",
                    "utfall": "MSL",
                    "tittel": "Situasjonsplan mangler",
                    "beskrivelse": "Send inn målsatt situasjonsplan.",
                }
            ],
        },
    )["oppdateringer"][0]
    _valid("oppdatering", mangel)
    assert mangel["soknadStatus"] == "MB"
    assert mangel["nokkelinfo"]["saksbehandlingsfristStatus"] == "pauset"
    [utfall] = mangel["utfall"]
    assert utfall["utfall"] == {
        "kodeverdi": "MSL",
        "kodebeskrivelse": "Mangel/'pauser' løpende tidsfrist",
    }
    assert utfall["svarfrist"] == "2024-03-28T23:00:00.000Z"
    mangel_id = utfall["mangelID"]
    letter = mangel["utgaaendeDokument"][0]
    assert letter["distribusjonsmetode"] == ["fellestjenesterBygg", "svarUt"]
    pdf = client.http.get(letter["dokumentUrl"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-1.4")
    assert letter["filStorrelse"] == str(len(pdf.content))
    assert "saksbehandlingsfrist" not in client.get("status", ref).json()

    # 6. The client answers with a supplering that echoes mangelID and the current saksnummer.
    sandbox.advance(run_id, "P5D")
    saksaar, sekvens = own_case.split("/")
    r = client.http.post(
        f"{live_server.url}/api/v1/supplering",
        json={
            "innsendingReferanse": ref,
            "kommunensSaksnummer": {"saksaar": saksaar, "sakssekvensnummer": sekvens},
            "mangelbesvarelse": [{"mangelID": mangel_id, "kommentar": "Vedlagt."}],
        },
        timeout=10,
    )
    assert r.status_code == 201, r.text
    assert r.json()["advarsler"] == []
    komplett = client.oppdateringer(ref, etter=int(mangel["sekvensnummer"]))[-1]
    _valid("oppdatering", komplett)
    assert komplett["soknadStatus"] == "KS"
    # The frist resumes with the time that was left when it paused (paused 2024-03-07).
    resumed = parse_iso(komplett["nokkelinfo"]["saksbehandlingsfrist"])
    assert resumed == datetime(2024, 6, 1, 7, 30, tzinfo=UTC)

    # 7. Vedtak with a vilkår and an oppfølgingspunkt, and its letter.
    vedtak = sandbox.event(
        run_id,
        {
            "type": "vedtak",
            "resultat": "innvilget",
            "vilkaar": [{"sjekkpunktId": "3.7", "tittel": "Krav til rekkefølge"}],
            "oppfolgingspunkter": [{"sjekkpunktId": "14.17", "tittel": "Samtykke fra netteier"}],
        },
    )["oppdateringer"][0]
    _valid("oppdatering", vedtak)
    assert vedtak["soknadStatus"] == "VF"
    assert vedtak["vedtak"]["resultat"] == "innvilget"
    codes = [u["utfall"]["kodeverdi"] for u in vedtak["utfall"]]
    assert codes == ["FV", "SVV", "MKV"]
    assert vedtak["utfall"][1]["utloestFraSjekkpunkt"] == {
        "sjekkpunktId": "3.7",
        "sjekkpunktEier": "dibk",
    }
    status = client.get("status", ref).json()
    _valid("status", status)
    assert status["milepæl"] == "VF" and _sak(status["saksnummer"]) == own_case
    assert status["avsenderKontaktpunkt"]["navn"] == "Kari Nordmann"

    # Every oppdatering, in order, each passing the rules; the cursor skips what was seen.
    everything = client.oppdateringer(ref)
    assert [o["hendelse"] for o in everything] == [
        "endre_saksnummer",
        "tildel_saksbehandler",
        "mangel",
        "supplering",
        "vedtak",
    ]
    assert [int(o["sekvensnummer"]) for o in everything] == [1, 2, 3, 4, 5]
    for item in everything:
        _valid("oppdatering", item)
    assert client.oppdateringer(ref, etter=5) == []

    # The journal holds every exchange the client made, in order, with the password redacted.
    journal = sandbox.http.get(f"{live_server.url}/sandbox/runs/{run_id}/journal", timeout=10)
    entries = journal.json()["entries"]
    paths = [
        (e["request"]["method"], e["request"]["path"], e["response"]["status"]) for e in entries
    ]
    assert paths[0] == ("POST", "/api/v1/innsending", 201)
    assert paths[1] == ("GET", "/api/v1/kvittering", 404)
    assert ("POST", "/api/v1/supplering", 201) in paths
    assert ("GET", f"/api/v1/dokument/{letter['dokumentUrl'].rsplit('/', 1)[1]}", 200) in paths
    assert len(entries) == 14  # every request the client made above
    password = run["credentials"]["password"]
    assert all(password not in str(e) for e in entries)
    assert entries[0]["request"]["headers"]["Authorization"].endswith(":***")
    assert entries[1]["virtualTime"] == "2024-03-04T07:30:00.000Z"


def test_kvittering_path_is_case_insensitive(live_server: LiveServer, sandbox: Sandbox) -> None:
    run = sandbox.create_run(innsending=INNSENDING)
    ref = run["innsendingReferanser"][0]
    sandbox.event(run["id"], {"type": "journalfor"})
    client = Client(live_server.url, run["credentials"])
    # DiBK's own kvitteringUrl spells the path with a capital K.
    r = client.http.get(
        f"{live_server.url}/api/v1/Kvittering", params={"innsendingReferanse": ref}, timeout=10
    )
    assert r.status_code == 200
    assert r.json()["metadata"]["innsendingReferanse"] == ref


def test_query_names_bind_whatever_their_casing(live_server: LiveServer, sandbox: Sandbox) -> None:
    # ASP.NET binds query names case-insensitively; a søknadssystem written against DiBK
    # may spell them so. A 400 (or a cursor silently ignored) would fail it for nothing.
    run = sandbox.create_run(innsending=INNSENDING)
    ref = run["innsendingReferanser"][0]
    sandbox.event(run["id"], {"type": "journalfor"})
    sandbox.event(run["id"], {"type": "tildel_saksbehandler"})
    sandbox.event(run["id"], {"type": "vedtak", "resultat": "innvilget"})
    client = Client(live_server.url, run["credentials"])
    base = f"{live_server.url}/api/v1"
    kvittering = client.http.get(f"{base}/Kvittering?InnsendingReferanse={ref}", timeout=10)
    assert kvittering.status_code == 200, kvittering.text
    assert kvittering.json()["metadata"]["innsendingReferanse"] == ref
    # A name percent-encoded (%45 is E) is the same name once decoded.
    after_one = client.http.get(
        f"{base}/oppdatering?INNSENDINGREFERANSE={ref}&%45tter=1", timeout=10
    )
    assert after_one.status_code == 200, after_one.text
    assert [o["sekvensnummer"] for o in after_one.json()] == ["2"]
    # A name the API does not know keeps its spelling; a value keeps its own casing.
    status = client.http.get(f"{base}/status?innsendingreferanse={ref}&Foo=Bar", timeout=10)
    assert status.status_code == 200, status.text
    # The journal (and so the scoring) reads the names in DiBK's spelling.
    journal = sandbox.http.get(f"{live_server.url}/sandbox/runs/{run['id']}/journal", timeout=10)
    queries = [e["request"]["query"] for e in journal.json()["entries"][-3:]]
    assert queries == [
        f"innsendingReferanse={ref}",
        f"innsendingReferanse={ref}&etter=1",
        f"innsendingReferanse={ref}&Foo=Bar",
    ]


def test_document_gone_after_30_days_of_run_time(live_server: LiveServer, sandbox: Sandbox) -> None:
    run = sandbox.create_run(innsending=INNSENDING, clock={"mode": "manual"})
    sandbox.event(run["id"], {"type": "journalfor"})
    vedtak = sandbox.event(run["id"], {"type": "vedtak", "resultat": "avslag"})
    url = vedtak["oppdateringer"][0]["utgaaendeDokument"][0]["dokumentUrl"]
    client = Client(live_server.url, run["credentials"])
    sandbox.advance(run["id"], "P29DT23H")
    assert client.http.get(url, timeout=10).status_code == 200
    sandbox.advance(run["id"], "PT1H")
    gone = client.http.get(url, timeout=10)
    assert gone.status_code == 410
    assert gone.json()["errors"][0]["rule"] == "dokument.slettet"
