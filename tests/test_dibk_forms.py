"""Supplering av søknad v2 in JSON: answers by utfallId, answered later, ettersendinger.

Each test posts one of the sandbox's own DiBK-shaped fixtures (tests/fixtures/dibk/) to a
scenario run with two mangler and sees the case change: an outcome answered, one left open
knowingly, the søknad complete only once every mangel is really answered.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.dibk_forms import filled_json
from tests.test_supplering_completeness import Run, scenario_app

__all__ = ["scenario_app"]


def _saksnummer(run: Run) -> dict[str, str]:
    saksnummer: dict[str, str] = run.status()["saksnummer"]
    return {k: saksnummer[k] for k in ("saksaar", "sakssekvensnummer")}


def _post(run: Run, body: Any) -> Any:
    return run.http.post("/api/v1/supplering", json=body, headers=run.auth)


def _mangler(run: Run) -> dict[str, dict[str, Any]]:
    case = run.http.get(f"/sandbox/runs/{run.id}/case").json
    return {m["mangelID"]: m for m in case["sak"]["innsendinger"][0]["mangler"]}  # type: ignore[index]


def test_a_v2_supplering_answers_one_mangel_and_leaves_the_other_for_later(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    body = filled_json("su-v2.json", run.mangler, _saksnummer(run))
    assert isinstance(body["kommunensSaksnummer"]["saksaar"], int)  # as in DiBK's forms
    answer = _post(run, body)
    assert answer.status_code == 201, answer.json
    assert answer.json["innsendingReferanse"] == run.ref  # found by its saksnummer
    mangler = _mangler(run)
    assert mangler[first]["besvart"] is not None
    assert mangler[second]["besvart"] is None and mangler[second]["besvaresSenere"] is not None
    # Answered later is open, not complete: the kommune's vedtak waits.
    run.advance("P30D")
    assert run.steps()["vedtak"] == "pending" and run.steps()["kvittert"] == "fired"
    assert run.supplering_actions() == ["supplering_sendt"]
    # The echoed title differs from the kommune's record: accepted, with an advarsel.
    assert any("tittel" in a and second in a for a in answer.json["advarsler"])
    case = run.http.get(f"/sandbox/runs/{run.id}/case").json
    [supplering] = case["sak"]["suppleringer"]  # type: ignore[index]
    assert supplering["ettersending"][0]["tema"] == "Parkering"


def test_an_ettersending_tema_in_another_case_is_the_listed_code(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    body = filled_json("su-v2.json", run.mangler, _saksnummer(run))
    body.pop("utfallBesvarelse")
    body["ettersendinger"]["ettersending"][0]["tema"] = {"kodeverdi": "parkering"}
    answer = _post(run, body)
    assert answer.status_code == 201, answer.json
    old = {"innsendingReferanse": run.ref, "ettersending": [{"tema": "PLAN", "tittel": "Plan"}]}
    assert _post(run, old).status_code == 201
    case = run.http.get(f"/sandbox/runs/{run.id}/case").json
    temaer = [e["tema"] for s in case["sak"]["suppleringer"] for e in s["ettersending"]]  # type: ignore[index]
    assert temaer == ["Parkering", "plan"]
    body["ettersendinger"]["ettersending"][0]["tema"] = {"kodeverdi": "Parkeringsplass"}
    refused = _post(run, body)
    assert refused.status_code == 400 and "Parkeringsplass" in refused.json["errors"][0]["message"]


def test_the_answer_given_later_completes_the_soknad_once(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    saksnummer = _saksnummer(run)
    assert _post(run, filled_json("su-v2.json", run.mangler, saksnummer)).status_code == 201
    later = _post(run, filled_json("su-v2-senere-besvart.json", run.mangler, saksnummer))
    assert later.status_code == 201, later.json
    assert run.open_mangler() == []
    assert run.supplering_actions() == ["supplering_sendt", "supplering_mottatt"]
    [komplett] = run.oppdateringer("supplering")
    assert komplett["soknadStatus"] == "KS"
    run.advance("P1D")
    assert run.steps()["vedtak"] == "fired"


def test_an_utfall_id_the_kommune_never_issued_is_a_400_naming_it(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    body = filled_json("su-v2.json", [run.mangler[0], "ukjent-utfall-42"], _saksnummer(run))
    answer = _post(run, body)
    assert answer.status_code == 400
    [problem] = answer.json["errors"]
    assert problem["rule"] == "supplering.utfallId.ukjent"
    assert problem["field"] == "utfallBesvarelse.utfallSvar[1].utfallId"
    assert "ukjent-utfall-42" in problem["message"]
    assert all(m["besvart"] is None for m in _mangler(run).values())  # nothing changed


def test_a_saksnummer_the_case_never_had_is_a_400(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    body = filled_json("su-v2.json", run.mangler, {"saksaar": "1999", "sakssekvensnummer": "1"})
    answer = _post(run, body)
    assert answer.status_code == 400
    assert answer.json["errors"][0]["rule"] == "supplering.kommunensSaksnummer.ukjent"


def test_differing_content_is_accepted_with_advarsler(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    body = filled_json("su-v2.json", run.mangler, _saksnummer(run))
    svar = body["utfallBesvarelse"]["utfallSvar"][0]
    svar["utfallType"] = {"kodeverdi": "SVV", "kodebeskrivelse": "Vilkår i vedtak"}
    svar["tema"] = {"kodeverdi": "Parkering", "kodebeskrivelse": "Parkering"}
    svar["utloestFraSjekkpunkt"]["sjekkpunktId"] = "9.99"
    svar["vedleggsliste"]["vedlegg"][0]["vedleggstype"]["kodeverdi"] = "NoeNytt"
    answer = _post(run, body)
    assert answer.status_code == 201, answer.json
    advarsler = " ".join(answer.json["advarsler"])
    for what in ("utfallType 'SVV'", "tema 'Parkering'", "sjekkpunktId '9.99'", "'NoeNytt'"):
        assert what in advarsler
    assert _mangler(run)[run.mangler[0]]["besvart"] is not None


def test_the_old_mangelbesvarelse_body_still_answers(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    run.supplering([{"mangelID": m} for m in run.mangler])
    assert run.open_mangler() == []
    assert run.supplering_actions() == ["supplering_mottatt"]


def test_the_status_lists_each_outcome_with_its_utfall_id_and_state(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    assert [(u["utfallId"], u["status"]) for u in run.status()["utfall"]] == [
        (first, "aapen"),
        (second, "aapen"),
    ]
    assert _post(run, filled_json("su-v2.json", run.mangler, _saksnummer(run))).status_code == 201
    states = {u["utfallId"]: u["status"] for u in run.status()["utfall"]}
    assert states == {first: "besvart", second: "besvaresSenere"}
