"""Supplering av søknad v2 as DiBK's XML: read safely, answered like the JSON, errors located.

The fixtures are the sandbox's own (tests/fixtures/dibk/). Malformed XML, an entity bomb
and an external entity are each a 400 in the API's problem format, quickly, never a 500.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from tests.dibk_forms import filled
from tests.test_dibk_forms import _mangler, _saksnummer
from tests.test_supplering_completeness import Run, scenario_app

__all__ = ["scenario_app"]
XML = {"Content-Type": "application/xml"}
SU = "https://skjema.ft.dibk.no/suppleringavsoeknad/v2"


def _post_xml(run: Run, text: str | bytes, content_type: str = "application/xml") -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    headers = {**run.auth, "Content-Type": content_type}
    return run.http.post("/api/v1/supplering", data=data, headers=headers)


def test_an_xml_supplering_answers_like_the_json_one(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    answer = _post_xml(run, filled("su-v2.xml", run.mangler, _saksnummer(run)))
    assert answer.status_code == 201, answer.json
    assert answer.json["innsendingReferanse"] == run.ref
    assert answer.json["advarsler"] == []
    mangler = _mangler(run)
    assert mangler[first]["besvart"] is not None
    assert mangler[second]["besvart"] is None and mangler[second]["besvaresSenere"] is not None
    assert run.supplering_actions() == ["supplering_sendt"]
    later = _post_xml(run, filled("su-v2-senere-besvart.xml", run.mangler, _saksnummer(run)))
    assert later.status_code == 201, later.json
    assert run.open_mangler() == []
    assert run.supplering_actions() == ["supplering_sendt", "supplering_mottatt"]
    journal = run.http.get(f"/sandbox/runs/{run.id}/journal").json["entries"]
    posted = [e for e in journal if e["request"]["path"] == "/api/v1/supplering"]
    assert "<suppleringAvSoeknad" in posted[0]["request"]["body"]  # the raw XML, as sent
    assert f'"utfallId": "{first}"' in posted[0]["request"]["canonicalBody"]


def test_an_unknown_utfall_id_in_xml_is_a_400_naming_the_element_and_line(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    answer = _post_xml(
        run, filled("su-v2.xml", [run.mangler[0], "aldri-utstedt"], _saksnummer(run))
    )
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["rule"] == "supplering.utfallId.ukjent"
    assert problem["field"] == "/suppleringAvSoeknad/utfallBesvarelse/utfallSvar[2]/utfallId"
    assert "aldri-utstedt" in problem["message"] and "(linje 107, kolonne" in problem["message"]


def test_a_missing_required_element_is_located(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    text = filled("su-v2.xml", run.mangler, _saksnummer(run))
    text = text.replace("<tittel>Parkeringsplan</tittel>", "")
    answer = _post_xml(run, text)
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["field"] == "/suppleringAvSoeknad/ettersendinger/ettersending/tittel"
    assert "linje 42" in problem["message"]


def test_an_element_the_sandbox_does_not_read_is_an_advarsel(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    text = filled("su-v2.xml", run.mangler, _saksnummer(run))
    text = text.replace("<kommentar>Målsatt", "<nyttElement>x</nyttElement><kommentar>Målsatt")
    answer = _post_xml(run, text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == [
        "Elementet /suppleringAvSoeknad/utfallBesvarelse/utfallSvar[1]/nyttElement er ikke "
        "lest av sandkassen."
    ]


def test_malformed_xml_is_a_400_with_line_and_column(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    answer = _post_xml(
        run, f'<suppleringAvSoeknad xmlns="{SU}">\n  <metadata>\n</suppleringAvSoeknad>'
    )
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    [problem] = answer.json["errors"]
    assert problem["rule"] == "xml.ugyldig" and "linje 3" in problem["message"]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<suppleringAvSoeknad xmlns="https://skjema.ft.dibk.no/suppleringavsoeknad/v2">&lol9;</suppleringAvSoeknad>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE s [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<suppleringAvSoeknad xmlns="https://skjema.ft.dibk.no/suppleringavsoeknad/v2">&ext;</suppleringAvSoeknad>
"""


def test_an_entity_bomb_and_an_external_entity_are_refused_at_once(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    for text in (BOMB, EXTERNAL):
        started = time.perf_counter()
        answer = _post_xml(run, text)
        assert time.perf_counter() - started < 1.0
        assert answer.status_code == 400
        [problem] = answer.json["errors"]
        assert problem["rule"] == "xml.forbudt" and "linje 2" in problem["message"]
        assert "root:" not in answer.get_data(as_text=True)
    assert run.supplering_actions() == [None, None]  # journalled, changed nothing


def test_another_form_is_a_400_with_the_accepted_list(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    other = (
        '<igangsettingstillatelse xmlns="https://skjema.ft.dibk.no/igangsettingstillatelse/v5"/>'
    )
    answer = _post_xml(run, other)
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["rule"] == "supplering.skjema.ukjent"
    assert f"suppleringAvSoeknad ({SU})" in problem["message"]


def test_another_media_type_is_a_415_naming_json_and_xml(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    answer = _post_xml(run, "hei", content_type="text/plain")
    assert answer.status_code == 415
    message = answer.json["errors"][0]["message"]
    assert "application/json" in message and "application/xml" in message and SU in message


def test_an_oversized_xml_body_is_a_413(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    limit = scenario_app.config["MAX_BODY_BYTES"]
    answer = _post_xml(run, b"<a>" + b" " * limit + b"</a>")
    assert answer.status_code == 413
