"""The checks answers_every_utfall and follow_up_uses_current_saksnummer.

Each is run on a real run of the folgesak scenario (a rammetillatelse with two vilkår and an
oppfølgingspunkt): a faulty client fails it for the right reason, and a correct client in
another spelling (DiBK's XML, PascalCase JSON) passes it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask

from app.scenarios.model import Expectation
from app.scoring import checks
from app.scoring.evidence import Facts, gather
from app.store.models import Run
from tests.dibk_forms import filled, pascal
from tests.test_dibk_soeknad import Folgesak, folgesak_app

__all__ = ["folgesak_app"]


def _facts(app: Flask, run_id: str) -> Facts:
    with app.app_context():
        session = app.extensions["sandbox.db"]()
        try:
            run = session.get(Run, run_id)
            assert run is not None
            return gather(session, run)
        finally:
            session.close()


def _check(app: Flask, run: Folgesak, name: str) -> Any:
    return checks.CHECKS[name](_facts(app, run.id), Expectation(id=name, check=name))


def _ig_json(run: Folgesak, drop_last: bool = False) -> str:
    body = json.loads(filled("ig-v5.json", run.utfall, run.saksnummer))
    if drop_last:
        body["utfallBesvarelse"]["utfallSvar"].pop()
    return json.dumps(pascal(body), ensure_ascii=False)


def test_an_ig_that_leaves_the_oppfolgingspunkt_unanswered_fails(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("ig-v5.json", _ig_json(run, drop_last=True)).status_code == 201
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is False
    assert f"MKV {run.utfall[2]}" in result.reason and "never answered" in result.reason


def test_answered_later_is_not_answered_yet(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("mb-v5.xml").status_code == 201  # vilkår 2 later, the MKV not at all
    assert run.post("fa-v5.xml").status_code == 201  # the MKV answered
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is False
    assert run.utfall[1] in result.reason and "answered later" in result.reason


def test_every_outcome_answered_in_xml_passes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("ig-v5.xml").status_code == 201
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is True, result.reason


def test_every_outcome_answered_in_pascal_case_json_passes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("ig-v5.json", _ig_json(run)).status_code == 201
    assert _check(folgesak_app, run, "answers_every_utfall").ok is True
    assert _check(folgesak_app, run, "follow_up_uses_current_saksnummer").ok is True


def test_answered_later_then_for_real_passes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("mb-v5.xml").status_code == 201
    assert run.post("ig-v5.xml").status_code == 201  # answers all three for real
    assert _check(folgesak_app, run, "answers_every_utfall").ok is True


def test_a_follow_up_with_the_old_saksnummer_fails(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    old = run.saksnummer
    run.move_saksnummer()
    answer = run.post("ig-v5.xml", filled("ig-v5.xml", run.utfall, old))
    assert answer.status_code == 201  # accepted with an advarsel; the check scores it
    result = _check(folgesak_app, run, "follow_up_uses_current_saksnummer")
    assert result.ok is False
    label = f"{old['saksaar']}/{old['sakssekvensnummer']}"
    assert f"used saksnummer {label}" in result.reason


def test_an_rs_placed_on_the_case_by_an_old_saksnummer_fails_and_by_the_current_passes(
    folgesak_app: Flask,
) -> None:
    for moved in (True, False):
        run = Folgesak(folgesak_app)
        old = run.saksnummer
        if moved:
            run.move_saksnummer()
        body = json.loads(filled("rs-v4.json", run.utfall, run.saksnummer))
        body["kommunensSaksnummer"] = old
        answer = run.post("rs-v4.json", json.dumps(body))
        assert answer.status_code == 201, answer.json
        assert run.case()["innsendinger"][-1]["sammeSakSom"] == run.ref
        result = _check(folgesak_app, run, "follow_up_uses_current_saksnummer")
        assert result.ok is (not moved), result.reason


def test_a_follow_up_without_kommunens_saksnummer_fails(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    body = json.loads(filled("fa-v5.json", run.utfall, run.saksnummer))
    del body["kommunensSaksnummer"], body["utfallBesvarelse"]
    assert run.post("fa-v5.json", json.dumps(body)).status_code == 201
    result = _check(folgesak_app, run, "follow_up_uses_current_saksnummer")
    assert result.ok is False and "carried no kommunensSaksnummer" in result.reason


def test_a_follow_up_with_the_current_saksnummer_in_xml_passes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("mb-v5.xml").status_code == 201
    assert run.post("ig-v5.xml").status_code == 201
    result = _check(folgesak_app, run, "follow_up_uses_current_saksnummer")
    assert result.ok is True, result.reason
    assert "all 2 follow-ups" in result.reason


def test_a_json_follow_up_naming_its_case_by_reference_alone_passes(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    run.move_saksnummer()
    body = json.loads(filled("ig-v5.json", run.utfall, run.saksnummer))
    del body["kommunensSaksnummer"]
    body["innsendingReferanse"] = run.ref
    answer = run.post("ig-v5.json", json.dumps(pascal(body), ensure_ascii=False))
    assert answer.status_code == 201, answer.json
    result = _check(folgesak_app, run, "follow_up_uses_current_saksnummer")
    assert result.ok is True, result.reason
    assert _check(folgesak_app, run, "answers_every_utfall").ok is True


def test_no_follow_up_and_no_outcome_do_not_apply(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    assert run.post("et-v4.xml").status_code == 201
    assert _check(folgesak_app, run, "follow_up_uses_current_saksnummer").ok is None


def _emptied(text: str, utfall_id: str) -> str:
    """The form with the utfallSvar for ``utfall_id`` saying "not answered" and nothing else."""
    blocks = re.findall(r"<utfallSvar>.*?</utfallSvar>", text, flags=re.S)
    [block] = [b for b in blocks if utfall_id in b]
    empty = (
        f"<utfallSvar><utfallId>{utfall_id}</utfallId>"
        "<erUtfallBesvaresSenere>false</erUtfallBesvaresSenere>"
        "<erUtfallBesvart>false</erUtfallBesvart><kommentar/><vedleggsliste/></utfallSvar>"
    )
    return text.replace(block, empty)


def test_an_utfall_svar_saying_not_answered_with_nothing_in_it_answers_nothing(
    folgesak_app: Flask,
) -> None:
    """A client that echoes an id it cannot handle as "not answered" (flag false, no comment,
    no vedlegg) has not answered it: the outcome stays open, with an advarsel, and the check
    fails the client for it."""
    run = Folgesak(folgesak_app)
    text = _emptied(filled("ig-v5.xml", run.utfall, run.saksnummer), run.utfall[2])
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert any(run.utfall[2] in a and "står åpent" in a for a in answer.json["advarsler"])
    assert run.states()[run.utfall[2]] == "aapen"
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is False
    assert f"MKV {run.utfall[2]}" in result.reason and "never answered" in result.reason


def test_neither_flag_with_a_comment_or_vedlegg_still_answers(folgesak_app: Flask) -> None:
    """The documented assumption stays: DiBK's test data answers with neither flag set but a
    comment and attachments; and a bare {utfallId} (the older bodies' shape) answers too."""
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = text.replace(
        "<erUtfallBesvart>true</erUtfallBesvart>", "<erUtfallBesvart>false</erUtfallBesvart>"
    )
    answer = run.post("ig-v5.xml", text)
    assert answer.status_code == 201, answer.json
    assert set(run.states().values()) == {"besvart"}
    assert _check(folgesak_app, run, "answers_every_utfall").ok is True


def test_a_wrong_utfall_id_is_a_400_and_fails_the_check_even_if_retried(
    folgesak_app: Flask,
) -> None:
    run = Folgesak(folgesak_app)
    wrong = filled("ig-v5.xml", run.utfall, run.saksnummer).replace(run.utfall[1], "123456")
    answer = run.post("ig-v5.xml", wrong)
    assert answer.status_code == 400
    assert answer.json["errors"][0]["field"].endswith("utfallSvar[2]/utfallId")
    assert "'123456'" in answer.json["errors"][0]["message"]
    assert run.post("ig-v5.xml").status_code == 201
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is False and "sent unknown utfallId 123456" in result.reason


def test_a_follow_up_that_drops_its_answers_fails(folgesak_app: Flask) -> None:
    run = Folgesak(folgesak_app)
    text = filled("ig-v5.xml", run.utfall, run.saksnummer)
    text = re.sub(
        r"<utfallBesvarelse>.*</utfallBesvarelse>",
        '<utfallBesvarelse xsi:nil="true"/>',
        text,
        flags=re.S,
    )
    assert run.post("ig-v5.xml", text).status_code == 201
    result = _check(folgesak_app, run, "answers_every_utfall")
    assert result.ok is False and "never answered" in result.reason
    # its saksnummer is still the current one
    assert _check(folgesak_app, run, "follow_up_uses_current_saksnummer").ok is True
