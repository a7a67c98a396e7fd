"""Søknader as DiBK's forms on POST /api/v1/innsending: ET v4, RS v4, IG v5, MB v5, FA v5.

Every fixture (tests/fixtures/dibk/, the sandbox's own, written from the domain notes) is
posted in XML and as its JSON twin to a run whose rammetillatelse carries two vilkår and an
oppfølgingspunkt; each is accepted and changes the case: a new innsending with what the form
says, a follow-up on the rammetillatelse's case with the outcomes it answers answered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import basic
from tests.dibk_forms import filled

SCENARIO = """\
id: folgesak
version: 1
title: A rammetillatelse with vilkår, then the client's follow-ups
description: The kommune grants the rammetillatelse with two vilkår and an oppfølgingspunkt.
clock: {start: "2025-03-03T08:00:00Z"}
case:
  kommunenummer: "0301"
  innsendinger:
    - id: ramme
      soknadstype: RS
      tiltakstype: [nyttbyggboligformal]
      dokumenter: [{dokumentNavn: a.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}]
    - id: oppfolging
      innsendt_av: client
      soknadstype: IG
      tiltakstype: [nyttbyggboligformal]
      dokumenter: [{dokumentNavn: b.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}]
timeline:
  - id: journalfor
    trigger: {at: PT1H}
    event: {type: journalfor, innsendingReferanse: "${innsending.ramme}"}
  - id: vedtak
    trigger: {at: PT2H}
    event:
      type: vedtak
      innsendingReferanse: "${innsending.ramme}"
      resultat: innvilget
      vilkaar:
        - {sjekkpunktId: "3.7", tittel: Krav til rekkefølge}
        - {sjekkpunktId: "18.18", tittel: Utomhusplan før igangsetting, tema: andreForhold}
      oppfolgingspunkter:
        - {sjekkpunktId: "15.10", tittel: Hensyn til kantvegetasjon, tema: utvalgteNaturtyper}
  - id: journalfor-oppfolging
    trigger: {on: innsending, delay: PT1H}
    event: {type: journalfor, innsendingReferanse: "${innsending.oppfolging}"}
"""
KINDS = {"et-v4": "ET", "rs-v4": "RS", "ig-v5": "IG", "mb-v5": "MB", "fa-v5": "FA"}
# What each follow-up fixture answers: utfall placeholder → its state afterwards.
ANSWERS = {
    "ig-v5": {1: "besvart", 2: "besvart", 3: "besvart"},
    "mb-v5": {1: "besvart", 2: "besvaresSenere", 3: "aapen"},
    "fa-v5": {1: "besvart", 2: "aapen", 3: "besvart"},
}


@pytest.fixture
def folgesak_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "folgesak.yaml").write_text(SCENARIO, "utf-8")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(folder)})
    yield app
    app.extensions["sandbox.engine"].dispose()


class Folgesak:
    """One run of the scenario, up to the rammetillatelse."""

    def __init__(self, app: Flask) -> None:
        self.http: FlaskClient = app.test_client()
        answer = self.http.post(
            "/sandbox/runs", json={"scenario": "folgesak", "clock": {"mode": "manual"}}
        )
        assert answer.status_code == 201, answer.json
        run: dict[str, Any] = answer.json  # type: ignore[assignment]
        self.id = run["id"]
        self.ref = run["innsendingReferanser"][0]
        self.auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        self.http.post(f"/sandbox/runs/{self.id}/clock", json={"advance": "PT2H"})
        self.utfall = [u["utfallId"] for u in self.status()["utfall"]]
        assert len(self.utfall) == 3
        saksnummer = self.status()["saksnummer"]
        self.saksnummer = {k: saksnummer[k] for k in ("saksaar", "sakssekvensnummer")}

    def status(self, ref: str | None = None) -> dict[str, Any]:
        answer = self.http.get(
            f"/api/v1/status?innsendingReferanse={ref or self.ref}", headers=self.auth
        )
        assert answer.status_code == 200, answer.json
        return answer.json  # type: ignore[return-value]

    def states(self) -> dict[str, str]:
        return {u["utfallId"]: u["status"] for u in self.status()["utfall"]}

    def post(self, name: str, text: str | None = None) -> Any:
        text = text if text is not None else filled(name, self.utfall, self.saksnummer)
        if name.endswith(".xml"):
            headers = {**self.auth, "Content-Type": "application/xml"}
            return self.http.post("/api/v1/innsending", data=text.encode("utf-8"), headers=headers)
        headers = {**self.auth, "Content-Type": "application/json"}
        return self.http.post("/api/v1/innsending", data=text.encode("utf-8"), headers=headers)

    def move_saksnummer(self) -> None:
        """The kommune gives the case a new saksnummer."""
        moved = self.http.post(
            f"/sandbox/runs/{self.id}/events",
            json={"type": "endre_saksnummer", "typeOppdatering": "endring"},
        )
        assert moved.status_code in (200, 201), moved.json

    def case(self) -> dict[str, Any]:
        return self.http.get(f"/sandbox/runs/{self.id}/case").json["sak"]  # type: ignore[index,no-any-return]


@pytest.mark.parametrize("suffix", ["xml", "json"])
@pytest.mark.parametrize("form", sorted(KINDS))
def test_every_form_kind_is_accepted_and_changes_the_case(
    folgesak_app: Flask, form: str, suffix: str
) -> None:
    run = Folgesak(folgesak_app)
    answer = run.post(f"{form}.{suffix}")
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == [], answer.json["advarsler"]
    innsendinger = run.case()["innsendinger"]
    assert len(innsendinger) == 2
    new = innsendinger[1]
    assert new["innsendingReferanse"] == answer.json["innsendingReferanse"]
    assert new["soknadstype"] == KINDS[form]
    assert new["tittel"].startswith(("Gjerde", "Boligblokk"))
    assert new["ftBID"] == answer.json["ftBID"]
    expected = ANSWERS.get(form, {1: "aapen", 2: "aapen", 3: "aapen"})
    assert run.states() == {run.utfall[n - 1]: state for n, state in expected.items()}
    follow_up = KINDS[form] in ("IG", "MB", "FA")
    assert new["sammeSakSom"] == (run.ref if follow_up else None)
    if suffix == "xml":
        assert new["dokumenter"][0]["mimeType"] == "application/xml"


def test_a_follow_up_is_journalfort_on_the_case_it_names(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    answer = run.post("ig-v5.xml")
    assert answer.status_code == 201, answer.json
    run.http.post(f"/sandbox/runs/{run.id}/clock", json={"advance": "PT1H"})
    status = run.status(answer.json["innsendingReferanse"])
    assert {k: status["saksnummer"][k] for k in run.saksnummer} == run.saksnummer


def test_the_xml_form_and_its_json_twin_read_the_same(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("rs-v4.xml").status_code == 201
    assert run.post("rs-v4.json").status_code == 201
    first, second = run.case()["innsendinger"][1:]
    for key in ("soknadstype", "tiltakstyper", "ftBID", "tittel"):
        assert first[key] == second[key]
    assert first["tiltakstyper"] == ["nyttbyggboligformal", "bruksendring"]


def test_the_same_xml_sent_again_is_one_write(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall, run.saksnummer)
    first = run.post("et-v4.xml", text)
    again = run.post("et-v4.xml", text)
    assert first.status_code == again.status_code == 201
    assert again.json["innsendingReferanse"] == first.json["innsendingReferanse"]
    assert "X-Sandbox-Gjentatt-Fra" in again.headers
    assert len(run.case()["innsendinger"]) == 2


def test_an_unknown_utfall_id_is_a_400_naming_the_element(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", [run.utfall[0], "aldri-utstedt", run.utfall[2]], run.saksnummer)
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["rule"] == "innsending.utfallId.ukjent"
    assert problem["field"] == "/igangsettingstillatelse/utfallBesvarelse/utfallSvar[2]/utfallId"
    assert "aldri-utstedt" in problem["message"] and "(linje " in problem["message"]
    assert len(run.case()["innsendinger"]) == 1


def test_a_follow_up_with_a_saksnummer_never_had_is_a_400(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    answer = run.post(
        "fa-v5.xml", filled("fa-v5.xml", run.utfall, {"saksaar": "1999", "sakssekvensnummer": "7"})
    )
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == "innsending.kommunensSaksnummer.ukjent"
    assert answer.json["errors"][0]["field"] == "/ferdigattest/kommunensSaksnummer"


def test_an_et_with_an_unknown_saksnummer_is_a_new_soknad_with_an_advarsel(
    folgesak_app: Flask,
) -> None:
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall).replace(
        "  <metadata>",
        "  <kommunensSaksnummer><saksaar>1999</saksaar><sakssekvensnummer>7</sakssekvensnummer>"
        "</kommunensSaksnummer>\n  <metadata>",
    )
    answer = run.post("et-v4.xml", text)
    assert answer.status_code == 201, answer.json
    assert any("1999/7" in a and "ny søknad" in a for a in answer.json["advarsler"])
    assert run.case()["innsendinger"][1]["sammeSakSom"] is None


def test_an_old_saksnummer_is_accepted_with_an_advarsel(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    run.move_saksnummer()
    answer = run.post("ig-v5.json")  # still the first saksnummer
    assert answer.status_code == 201, answer.json
    assert any("gjeldende saksnummer" in a for a in answer.json["advarsler"])


def _by_reference(run: Folgesak, ref: str, saksnummer: dict[str, str] | None) -> Any:
    body = json.loads(filled("ig-v5.json", run.utfall, run.saksnummer))
    body.pop("kommunensSaksnummer")
    if saksnummer is not None:
        body["kommunensSaksnummer"] = saksnummer
    body["innsendingReferanse"] = ref
    return run.post("ig-v5.json", json.dumps(body))


def test_a_json_follow_up_may_name_its_case_by_innsending_referanse(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    answer = _by_reference(run, run.ref, None)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    assert answer.json["innsendingReferanse"] != run.ref  # its own, new reference
    new = run.case()["innsendinger"][1]
    assert new["sammeSakSom"] == run.ref
    assert set(run.states().values()) == {"besvart"}
    again = _by_reference(Folgesak(folgesak_app), "AR00000000", None)
    assert again.status_code == 400
    [problem] = again.json["errors"]
    assert problem["rule"] == "innsending.innsendingReferanse.ukjent"
    assert problem["field"] == "innsendingReferanse" and "AR00000000" in problem["message"]


def test_a_named_reference_wins_over_a_saksnummer_of_no_case(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    never = _by_reference(run, run.ref, {"saksaar": "1999", "sakssekvensnummer": "7"})
    assert never.status_code == 400
    assert never.json["errors"][0]["rule"] == "innsending.kommunensSaksnummer.ukjent"
    both = _by_reference(run, run.ref, run.saksnummer)
    assert both.status_code == 201, both.json
    assert both.json["advarsler"] == []


def test_another_form_is_a_400_listing_the_accepted_ones(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    answer = run.post("su-v2.xml", filled("su-v2.xml", run.utfall, run.saksnummer))
    assert answer.status_code == 400
    message = answer.json["errors"][0]["message"]
    for root in ("ettrinn", "ramme", "igangsettingstillatelse", "ferdigattest"):
        assert root in message
    other = run.http.post(
        "/api/v1/innsending", data=b"x", headers={**run.auth, "Content-Type": "text/plain"}
    )
    assert other.status_code == 415
    assert "application/xml" in other.json["errors"][0]["message"]


def test_a_form_without_tiltakstype_is_located(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall).replace("innhegning", "ukjentTiltak")
    answer = run.post("et-v4.xml", text)
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["field"].startswith("/ettrinn/soeknadGjelder/type/kode")
    assert "ukjentTiltak" in problem["message"] and "(linje " in problem["message"]


def test_a_kommunenummer_of_another_kommune_is_refused(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("rs-v4.xml", run.utfall).replace(">9999<", ">4601<")
    answer = run.post("rs-v4.xml", text)
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == "innsending.kommunenummer.feil"


BOMB = """<?xml version="1.0"?>
<!DOCTYPE ettrinn [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ettrinn xmlns="https://skjema.ft.dibk.no/ettrinn/v4"><metadata><prosjektnavn>&lol3;</prosjektnavn></metadata></ettrinn>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE ettrinn [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ettrinn xmlns="https://skjema.ft.dibk.no/ettrinn/v4"><metadata><prosjektnavn>&xxe;</prosjektnavn></metadata></ettrinn>"""


@pytest.mark.parametrize(
    ("text", "rule"),
    [(BOMB, "xml.forbudt"), (EXTERNAL, "xml.forbudt"), ("<ettrinn><metadata>", "xml.ugyldig")],
    ids=["entity-bomb", "external-entity", "malformed"],
)
def test_unsafe_or_malformed_xml_is_a_quick_400(folgesak_app: Flask, text: str, rule: str) -> None:
    run = Folgesak(folgesak_app)
    started = time.monotonic()
    answer = run.post("x.xml", text)
    assert time.monotonic() - started < 1.0
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == rule
    assert "linje" in answer.json["errors"][0]["message"]
    assert len(run.case()["innsendinger"]) == 1
