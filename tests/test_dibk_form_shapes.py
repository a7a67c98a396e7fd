"""The shapes DiBK's published example forms take, on the sandbox's own fixtures.

DiBK's examples (not copied here) are written as a form editor leaves them: a byte-order
mark, CRLF line ends, another declared encoding, ``text/xml``; blocks left empty
(``<kodeverdi></kodeverdi>``, ``<x />``, ``xsi:nil="true"``) or commented out; a
follow-up with nothing to answer (``<utfallBesvarelse xsi:nil="true" />``); a vedlegg with
every field empty beside a real one; another of DiBK's test kommunenumre (9996-9999, each
the run's kommune), mixed in one form. Each is accepted and read as what it says, and a
forbidden entity stays a 400 in any encoding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask

from tests.dibk_forms import filled
from tests.test_dibk_forms import _mangler, _saksnummer
from tests.test_dibk_soeknad import BOMB, Folgesak, folgesak_app
from tests.test_supplering_completeness import Run, scenario_app

__all__ = ["folgesak_app", "scenario_app"]
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
EMPTY_BLOCKS = """  <fakturamottaker>
    <partstype>
      <kodeverdi></kodeverdi>
      <kodebeskrivelse></kodebeskrivelse>
    </partstype>
    <navn></navn>
    <adresse>
      <adresselinje1 />
      <adresselinje2 xsi:nil="true" />
    </adresse>
  </fakturamottaker>
  <!--kommunensSaksnummer>
    <saksaar></saksaar>
    <sakssekvensnummer></sakssekvensnummer>
  </kommunensSaksnummer-->
</ettrinn>"""
EMPTY_VEDLEGG = """<vedleggsliste>
        <vedlegg>
          <versjonsnummer />
          <vedleggstype>
            <kodeverdi />
            <kodebeskrivelse />
          </vedleggstype>
          <versjonsdato xsi:nil="true" />
          <filnavn />
        </vedlegg>"""


def _declared(encoding: str) -> Callable[[str], bytes]:
    def encode(text: str) -> bytes:
        return text.replace('encoding="utf-8"', f'encoding="{encoding}"').encode(encoding)

    return encode


ENCODINGS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "bom": (lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), "application/xml"),
    "crlf": (lambda t: t.replace("\n", "\r\n").encode("utf-8"), "application/xml"),
    "utf-16": (_declared("utf-16"), "application/xml"),
    "iso-8859-1": (_declared("iso-8859-1"), "application/xml"),
    "no-declaration": (lambda t: t.replace(DECLARATION, "").lstrip().encode(), "application/xml"),
    "text-xml": (lambda t: t.encode("utf-8"), "text/xml; charset=utf-8"),
}


@pytest.mark.parametrize("shape", sorted(ENCODINGS))
def test_an_encoding_a_form_editor_writes_is_read(folgesak_app: Flask, shape: str) -> None:
    run = Folgesak(folgesak_app)
    encode, content_type = ENCODINGS[shape]
    answer = run.http.post(
        "/api/v1/innsending",
        data=encode(filled("et-v4.xml", run.utfall).replace("mot veg", "mot Bøgata")),
        headers={**run.auth, "Content-Type": content_type},
    )
    assert answer.status_code == 201, answer.json
    assert len(run.case()["innsendinger"]) == 2
    journal = run.http.get(f"/sandbox/runs/{run.id}/journal").json["entries"]
    body = json.loads(journal[-1]["request"]["canonicalBody"])
    assert body["tittel"] == "Gjerde mot Bøgata"  # decoded as declared


@pytest.mark.parametrize("encoding", ["utf-16", "iso-8859-1"])
def test_an_entity_bomb_is_a_400_in_any_encoding(folgesak_app: Flask, encoding: str) -> None:
    run = Folgesak(folgesak_app)
    text = BOMB.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    answer = run.http.post(
        "/api/v1/innsending",
        data=text.encode(encoding),
        headers={**run.auth, "Content-Type": "application/xml"},
    )
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == "xml.forbudt"
    assert len(run.case()["innsendinger"]) == 1


def test_empty_and_commented_out_blocks_are_a_new_soknad(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall).replace("</ettrinn>", EMPTY_BLOCKS)
    answer = run.post("et-v4.xml", text)
    assert answer.status_code == 201, answer.json
    assert not any("kommunensSaksnummer" in a for a in answer.json["advarsler"])
    assert len(run.case()["innsendinger"]) == 2


@pytest.mark.parametrize(
    "besvarelse",
    ['<utfallBesvarelse xsi:nil="true" />', "<utfallBesvarelse></utfallBesvarelse>"],
    ids=["nil", "empty"],
)
def test_a_follow_up_with_nothing_to_answer_answers_nothing(
    folgesak_app: Flask, besvarelse: str
) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = re.sub(r"<utfallBesvarelse>.*</utfallBesvarelse>", besvarelse, text, flags=re.S)
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert set(run.states().values()) == {"aapen"}
    assert [i["soknadstype"] for i in run.case()["innsendinger"]] == ["RS", "IG"]


def test_an_all_empty_vedlegg_beside_a_real_one_still_answers(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = text.replace("<vedleggsliste>", EMPTY_VEDLEGG, 1)
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert set(run.states().values()) == {"besvart"}


@pytest.mark.parametrize("kommunenumre", [("9996",), ("9997", "9998")])
def test_every_dibk_test_kommunenummer_is_the_runs_kommune(
    folgesak_app: Flask, kommunenumre: tuple[str, ...]
) -> None:
    run = Folgesak(folgesak_app)
    text = filled("fa-v5.xml", run.utfall, run.saksnummer)
    eiendom = re.search(r"\s*<eiendom>.*?</eiendom>", text, re.S)
    assert eiendom is not None
    copies = "".join(eiendom[0].replace(">9999<", f">{n}<") for n in kommunenumre)
    answer = run.post("fa-v5.xml", text.replace(eiendom[0], copies))
    assert answer.status_code == 201, answer.json
    assert run.states()[run.utfall[0]] == "besvart"


def test_a_supplering_with_an_empty_utfall_besvarelse_is_an_ettersending(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    text = filled("su-v2.xml", run.mangler, _saksnummer(run))
    text = re.sub(
        r"<utfallBesvarelse>.*</utfallBesvarelse>",
        "<utfallBesvarelse></utfallBesvarelse>",
        text,
        flags=re.S,
    )
    answer = run.http.post(
        "/api/v1/supplering",
        data=text.replace("\n", "\r\n").encode("utf-8"),
        headers={**run.auth, "Content-Type": "application/xml"},
    )
    assert answer.status_code == 201, answer.json
    assert all(m["besvart"] is None for m in _mangler(run).values())


def test_a_tema_echoed_in_another_case_is_the_kommunes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = text.replace(
        "<kodeverdi>andreForhold</kodeverdi>", "<kodeverdi>AndreForhold</kodeverdi>"
    )
    text = text.replace("<kodeverdi>generelt</kodeverdi>", "<kodeverdi>nabovarsel</kodeverdi>")
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    # a tema differing only in case (as DiBK's Parkering, Plan) is no advarsel; another one is
    assert answer.json["advarsler"] == [
        f"utfallId '{run.utfall[0]}': tema 'nabovarsel' er ikke kommunens 'generelt'."
    ]


def test_codes_dibks_example_forms_use_are_listed(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall)
    text = text.replace(
        "<kodeverdi>innhegning</kodeverdi>", "<kodeverdi>rehabiliteringSkorstein</kodeverdi>"
    )
    answer = run.post("et-v4.xml", text)
    assert answer.status_code == 201, answer.json
    assert run.case()["innsendinger"][1]["tiltakstyper"] == ["rehabiliteringSkorstein"]
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    codes = iter(["ErklaeringAnsvarsrett", "Annet"])
    text = re.sub(
        r"<vedleggstype>\s*<kodeverdi>[^<]*</kodeverdi>",
        lambda _: f"<vedleggstype><kodeverdi>{next(codes)}</kodeverdi>",
        text,
        count=2,
    )
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []


def test_elements_in_another_order_read_the_same(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    delsoeknader = re.search(r"  <delsoeknader>.*?</delsoeknader>\n", text, re.S)
    assert delsoeknader is not None
    text = text.replace(delsoeknader[0], "").replace(
        "  <soeknadGjelder>", delsoeknader[0] + "  <soeknadGjelder>", 1
    )
    text = re.sub(  # adresse before eiendomsidentifikasjon
        r"(\s*<eiendomsidentifikasjon>.*?</eiendomsidentifikasjon>)(\s*<adresse>.*?</adresse>)",
        r"\2\1",
        text,
        count=1,
        flags=re.S,
    )
    text = re.sub(  # utfallType before utfallId, as DiBK's IG and SU examples put it
        r"(\s*<utfallId>[^<]*</utfallId>)(\s*<utfallType>.*?</utfallType>)",
        r"\2\1",
        text,
        flags=re.S,
    )
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    assert set(run.states().values()) == {"besvart"}


def test_one_utfall_answered_twice_in_one_form_is_read_once_with_an_advarsel(
    folgesak_app: Flask,
) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = text.replace(run.utfall[1], run.utfall[0])  # DiBK's IG example repeats an utfallId
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == [
        f"utfallId '{run.utfall[0]}' står flere ganger i skjemaet; sandkassen leser det "
        "første utfallSvar."
    ]
    assert run.states() == {
        run.utfall[0]: "besvart",
        run.utfall[1]: "aapen",
        run.utfall[2]: "besvart",
    }


def test_a_form_with_a_namespace_prefix_reads_the_same(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = re.sub(r"<(/?)(?!\?)([a-zA-Z]\w*)([ >/])", r"<\1dibk:\2\3", text)
    text = text.replace("dibk:xsi:", "xsi:").replace(
        'xmlns="https://skjema', 'xmlns:dibk="https://skjema', 1
    )
    assert "<dibk:utfallSvar>" in text
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    assert set(run.states().values()) == {"besvart"}


def test_a_bare_number_versjonsnummer_is_read_in_xml_and_json(folgesak_app: Flask) -> None:
    """DiBK's MB and FA examples number their vedlegg 1, 2, 5, 7 (not V1): in JSON an integer."""
    run = Folgesak(folgesak_app)
    body = json.loads(filled("ig-v5.json", run.utfall, run.saksnummer))
    vedlegg = body["utfallBesvarelse"]["utfallSvar"][0]["vedleggsliste"]["vedlegg"][0]
    vedlegg["versjonsnummer"] = 5
    answer = run.post("ig-v5.json", json.dumps(body, ensure_ascii=False))
    assert answer.status_code == 201, answer.json
    journal = run.http.get(f"/sandbox/runs/{run.id}/journal").json["entries"]
    canonical = json.loads(journal[-1]["request"]["canonicalBody"])
    first = canonical["utfallBesvarelse"]["utfallSvar"][0]["vedleggsliste"]["vedlegg"][0]
    assert first["versjonsnummer"] == "5"


EMPTY_SAKSNUMMER = (
    "<kommunensSaksnummer><saksaar></saksaar><sakssekvensnummer/></kommunensSaksnummer>"
)


def test_an_all_empty_kommunens_saksnummer_block_is_absent(folgesak_app: Flask) -> None:
    """DiBK's minimum ET and RS leave their unused blocks empty (they comment this one out)."""
    run = Folgesak(folgesak_app)
    text = filled("et-v4.xml", run.utfall).replace("</metadata>", "</metadata>" + EMPTY_SAKSNUMMER)
    answer = run.post("et-v4.xml", text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    assert run.case()["innsendinger"][1]["sammeSakSom"] is None  # a new søknad


def test_a_follow_up_with_an_empty_saksnummer_and_answers_is_told_to_fill_it_in(
    folgesak_app: Flask,
) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = re.sub(
        r"<kommunensSaksnummer>.*?</kommunensSaksnummer>", EMPTY_SAKSNUMMER, text, flags=re.S
    )
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 400
    assert "Du må fylle ut kommunensSaksnummer" in answer.json["errors"][0]["message"]
