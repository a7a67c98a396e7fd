"""The blocks DiBK's forms define that the sandbox does not read: accepted without an advarsel.

An advarsel must mean something a vendor should act on. So each form's known-but-unread
blocks (app/wire/inputs/form_blocks.py, one list per form, documented in
docs/wire-contract.md) are taken as sent, silently; the sandbox's own fixtures
(tests/fixtures/dibk/) carry them in the sandbox's own words and post with no advarsel. An
element on no list (a typo, or another form's block) is still left out with an advarsel
naming its path, and an element in PascalCase is read as its camelCase twin.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from app.wire.inputs import form_blocks
from tests.dibk_forms import FIXTURES, filled, filled_json
from tests.test_dibk_forms import _mangler, _saksnummer
from tests.test_dibk_soeknad import Folgesak, folgesak_app
from tests.test_dibk_xml import _post_xml
from tests.test_supplering_completeness import Run, scenario_app

__all__ = ["folgesak_app", "scenario_app"]
CONTRACT = Path(__file__).parents[1] / "docs" / "wire-contract.md"
SOEKNADER = {"ET": "et-v4", "RS": "rs-v4", "IG": "ig-v5", "MB": "mb-v5", "FA": "fa-v5"}


@pytest.mark.parametrize("code", sorted(SOEKNADER))
def test_each_forms_fixture_carries_dibks_unread_blocks_without_an_advarsel(
    folgesak_app: Flask, code: str
) -> None:
    name = f"{SOEKNADER[code]}.xml"
    text = (FIXTURES / name).read_text("utf-8")
    present = {b for b in form_blocks.top_level(code) if f"<{b}>" in text}
    assert {"tiltakshaver", "automatiseringskrav", "generelleVilkaar"} <= present
    run = Folgesak(folgesak_app)
    answer = run.post(name)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []


@pytest.mark.parametrize(
    ("code", "block", "inside"),
    [
        ("FA", "<planer><gjeldendePlan><navn>x</navn></gjeldendePlan></planer>", None),
        ("ET", "<delsoeknader><delsoeknad/></delsoeknader>", None),
        ("IG", "<tiltakshavr><navn>Skrivefeil</navn></tiltakshavr>", None),
        ("MB", "<bruk><tiltaksformaal/></bruk>", "soeknadGjelder"),
    ],
)
def test_an_element_no_list_names_is_still_an_advarsel_naming_its_path(
    folgesak_app: Flask, code: str, block: str, inside: str | None
) -> None:
    name = f"{SOEKNADER[code]}.xml"
    run = Folgesak(folgesak_app)
    text = filled(name, run.utfall, run.saksnummer)
    root = re.search(r"<(\w+) xmlns=", text)
    assert root is not None
    closing = f"</{inside}>" if inside else f"</{root[1]}>"
    text = text.replace(closing, block + closing, 1)
    answer = run.post(name, text)
    assert answer.status_code == 201, answer.json
    element = re.match(r"<(\w+)", block)
    assert element is not None
    where = f"/{root[1]}/{inside + '/' if inside else ''}{element[1]}"
    assert answer.json["advarsler"] == [f"Elementet {where} er ikke lest av sandkassen."]


def test_supplering_unread_blocks_are_silent_in_xml_and_in_pascal_case_json(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    answer = _post_xml(run, filled("su-v2.xml", run.mangler, _saksnummer(run)))
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    body = filled_json("su-v2-senere-besvart.json", run.mangler, _saksnummer(run))
    body["EiendomByggested"] = {"Eiendom": [{"Adresse": {"Adresselinje1": "Prøvevegen 3"}}]}
    body["generelleVilkaar"] = {"norskSvenskDansk": True}
    answer = run.http.post(
        "/api/v1/supplering",
        data=json.dumps(body, ensure_ascii=False),
        headers={**run.auth, "Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.json
    blocks = ("iendomByggested", "generelleVilkaar", "ikke lest")
    assert not [a for a in answer.json["advarsler"] if any(b in a for b in blocks)]


def test_a_json_supplering_still_refuses_a_key_no_list_names(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    body = filled_json("su-v2-senere-besvart.json", run.mangler, _saksnummer(run))
    body["tiltakshavr"] = {"navn": "Skrivefeil"}
    answer = run.http.post("/api/v1/supplering", json=body, headers=run.auth)
    assert answer.status_code == 400
    assert answer.json["errors"][0]["field"] == "tiltakshavr"


def test_a_pascal_case_element_is_read_as_its_camel_case_twin(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    text = filled("su-v2.xml", run.mangler, _saksnummer(run))
    text = re.sub(r"<(/?)erUtfallBesvaresSenere>", r"<\1ErUtfallBesvaresSenere>", text)
    text = re.sub(r"<(/?)kommentar>", r"<\1Kommentar>", text)
    answer = _post_xml(run, text)
    assert answer.status_code == 201, answer.json
    assert answer.json["advarsler"] == []
    mangler = _mangler(run)
    assert mangler[first]["besvart"] is not None
    # read, not left out: the second mangel stays declared answered later
    assert mangler[second]["besvart"] is None and mangler[second]["besvaresSenere"] is not None


def test_every_unread_block_is_in_the_wire_contract() -> None:
    contract = CONTRACT.read_text("utf-8")
    section = contract[contract.index("### DiBK's blocks the sandbox does not read") :]
    section = section[: section.index("\n## ")]
    for code, blocks in form_blocks.UNREAD.items():
        for block in blocks:
            assert f"`{block}`" in section, (code, block)
