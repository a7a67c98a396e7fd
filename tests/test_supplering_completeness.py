"""The kommune waits for a complete answer: partial, split, redundant and later answers.

A mangelbrev may be answered over several suppleringer. Only the supplering that leaves no
mangel awaited makes the søknad complete (one "komplett" oppdatering) and counts as
``supplering_mottatt``; every supplering counts as ``supplering_sendt``. A mangel declared
answered later (``erUtfallBesvaresSenere``) stays open, and counts toward completeness only
where the scenario's case has ``godtar_besvares_senere``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.domain.answers import UtfallSvar
from app.domain.case import Mangel, Saksnummer
from app.domain.events import Journalfor, Mangelbrev, MangelInput, MottaSupplering
from app.domain.messages import Oppdatering
from app.domain.plain import from_plain, to_plain
from app.store.db import get_session
from app.store.models import JournalEntry
from tests.conftest import basic
from tests.test_domain import Ctx, _sak

SAKSNUMMER = Saksnummer("2024", "500")


def _two_mangler(godtar_besvares_senere: bool = False) -> tuple[Any, Ctx, list[str]]:
    sak, ctx = _sak("RS"), Ctx()
    sak.godtar_besvares_senere = godtar_besvares_senere
    Journalfor().apply(sak, ctx)
    [brev] = Mangelbrev(
        mangler=[MangelInput("1.73", "MSL", "Situasjonsplan"), MangelInput("2.2", "MG", "Nabo")]
    ).apply(sak, ctx)
    assert isinstance(brev, Oppdatering)
    return sak, ctx, [u.mangelID or "" for u in brev.utfall]


def _supplering(ids: list[str], later: list[str] | None = None) -> MottaSupplering:
    return MottaSupplering(
        referanse="AR9",
        kommunensSaksnummer=SAKSNUMMER,
        svar=[UtfallSvar(i, erUtfallBesvaresSenere=i in (later or [])) for i in ids],
    )


class TestDomain:
    def test_a_partial_answer_leaves_the_other_mangel_open(self) -> None:
        sak, ctx, (first, second) = _two_mangler()
        event = _supplering([first])
        assert event.apply(sak, ctx) == []
        assert not event.completes
        innsending = sak.innsendinger[0]
        assert [m.mangelID for m in innsending.open_mangler()] == [second]
        assert innsending.milepael == "MB" and innsending.frist.status == "pauset"

    def test_two_suppleringer_together_complete_the_soknad_once(self) -> None:
        sak, ctx, (first, second) = _two_mangler()
        assert _supplering([first]).apply(sak, ctx) == []
        ctx.now += timedelta(days=2)
        event = _supplering([second])
        [komplett] = event.apply(sak, ctx)
        assert event.completes
        assert isinstance(komplett, Oppdatering) and komplett.soknadStatus == "KS"
        assert komplett.melding == [
            "Kommunen har mottatt svar på alle mangler. Søknaden er komplett."
        ]
        assert sak.innsendinger[0].open_mangler() == []

    def test_a_redundant_supplering_emits_no_second_komplett(self) -> None:
        sak, ctx, ids = _two_mangler()
        assert len(_supplering(ids).apply(sak, ctx)) == 1
        again = _supplering(ids[:1])
        assert again.apply(sak, ctx) == []
        assert not again.completes
        assert again.advarsler == [f"Mangel-ID '{ids[0]}' var allerede besvart."]

    def test_an_ettersending_answers_nothing(self) -> None:
        sak, ctx, _ids = _two_mangler()
        event = MottaSupplering(
            referanse="AR9", ettersending=[{"tema": "generelt", "tittel": "x", "kommentar": ""}]
        )
        assert event.apply(sak, ctx) == [] and not event.completes
        assert len(sak.innsendinger[0].open_mangler()) == 2
        # Nor does one on a søknad with no mangel at all: nothing was awaited.
        plain, plain_ctx = _sak("RS"), Ctx()
        Journalfor().apply(plain, plain_ctx)
        assert event.apply(plain, plain_ctx) == [] and not event.completes

    def test_answered_later_stays_open_and_the_kommune_waits_by_default(self) -> None:
        sak, ctx, (first, second) = _two_mangler()
        event = _supplering([first, second], later=[second])
        assert event.apply(sak, ctx) == [] and not event.completes
        [still_open] = sak.innsendinger[0].open_mangler()
        assert still_open.mangelID == second and still_open.besvaresSenere == ctx.now
        ctx.now += timedelta(days=5)
        answer = _supplering([second])
        assert len(answer.apply(sak, ctx)) == 1 and answer.completes

    def test_answered_later_completes_where_the_case_accepts_it(self) -> None:
        sak, ctx, (first, second) = _two_mangler(godtar_besvares_senere=True)
        event = _supplering([first, second], later=[second])
        [komplett] = event.apply(sak, ctx)
        assert event.completes and isinstance(komplett, Oppdatering)
        assert komplett.soknadStatus == "KS"
        assert komplett.melding == [
            "Kommunen har mottatt svar på manglene; 1 besvares senere. Søknaden er komplett."
        ]
        [still_open] = sak.innsendinger[0].open_mangler()
        assert still_open.mangelID == second and still_open.besvart is None
        # The real answer later closes it, without a second komplett.
        answer = _supplering([second])
        assert answer.apply(sak, ctx) == [] and not answer.completes
        assert sak.innsendinger[0].open_mangler() == []

    def test_a_declared_mangel_answered_already_gets_a_warning(self) -> None:
        sak, ctx, (first, _second) = _two_mangler()
        _supplering([first]).apply(sak, ctx)
        event = _supplering([first], later=[first])
        assert event.apply(sak, ctx) == []
        assert event.advarsler == [f"Mangel-ID '{first}' var allerede besvart."]
        assert sak.innsendinger[0].mangler[0].besvaresSenere is None

    def test_a_stored_mangel_from_before_reads_as_not_declared(self) -> None:
        sak, _ctx, _ids = _two_mangler()
        plain = to_plain(sak.innsendinger[0].mangler[0])
        del plain["besvaresSenere"]
        assert from_plain(Mangel, plain).besvaresSenere is None


SCENARIO = """
id: {id}
version: 1
title: Two mangler
description: Two mangler; a letter on any supplering, the vedtak once both are answered.
clock: {{start: "2025-03-03T08:00:00Z"}}
case:
  kommunenummer: "0301"
  godtar_besvares_senere: {godtar}
  innsendinger:
    - id: s
      soknadstype: RS
      tiltakstype: [nyttbyggboligformal]
      dokumenter: [{{dokumentNavn: a.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}}]
timeline:
  - {{id: journalfor, trigger: {{at: PT1H}}, event: {{type: journalfor}}}}
  - id: mangel
    trigger: {{at: PT2H}}
    event:
      type: mangel
      mangler:
        - {{sjekkpunktId: "1.73", utfall: MSL, tittel: Situasjonsplan mangler}}
        - {{sjekkpunktId: "2.2", utfall: MG, tittel: Nabovarsel mangler, tema: nabovarsel}}
  - id: kvittert
    trigger: {{on: supplering_sendt}}
    event: {{type: publiser_dokument, tittel: Vi har mottatt suppleringen}}
  - id: vedtak
    trigger: {{on: supplering_mottatt, delay: P1D}}
    event: {{type: vedtak, resultat: innvilget}}
"""


@pytest.fixture
def scenario_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for scenario_id, godtar in (("to-mangler", "false"), ("to-mangler-senere", "true")):
        (folder / f"{scenario_id}.yaml").write_text(
            SCENARIO.format(id=scenario_id, godtar=godtar), "utf-8"
        )
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SCENARIO_DIR": str(folder)})
    yield app
    app.extensions["sandbox.engine"].dispose()


class Run:
    """One scenario run driven through the test client, up to the mangelbrev."""

    def __init__(self, app: Flask, scenario: str = "to-mangler") -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        answer = self.http.post(
            "/sandbox/runs", json={"scenario": scenario, "clock": {"mode": "manual"}}
        )
        assert answer.status_code == 201, answer.json
        run: dict[str, Any] = answer.json  # type: ignore[assignment]
        self.id = run["id"]
        self.ref = run["innsendingReferanser"][0]
        self.auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        self.advance("PT2H")
        self.mangler = [m["mangelID"] for m in self.status()["mangler"]]
        assert len(self.mangler) == 2

    def advance(self, duration: str) -> None:
        answer = self.http.post(f"/sandbox/runs/{self.id}/clock", json={"advance": duration})
        assert answer.status_code == 200, answer.json

    def status(self) -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/status?innsendingReferanse={self.ref}", headers=self.auth)
        assert answer.status_code == 200, answer.json
        return answer.json  # type: ignore[return-value]

    def supplering(self, answers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        saksnummer = self.status()["saksnummer"]
        body: dict[str, Any] = {
            "innsendingReferanse": self.ref,
            "kommunensSaksnummer": {
                "saksaar": saksnummer["saksaar"],
                "sakssekvensnummer": saksnummer["sakssekvensnummer"],
            },
            **extra,
        }
        if answers:
            body["mangelbesvarelse"] = answers
        answer = self.http.post("/api/v1/supplering", json=body, headers=self.auth)
        assert answer.status_code == 201, answer.json
        return answer.json  # type: ignore[return-value]

    def steps(self) -> dict[str, str]:
        timeline = self.http.get(f"/sandbox/runs/{self.id}/timeline").json
        return {s["id"]: s["status"] for s in timeline["steps"]}  # type: ignore[index]

    def oppdateringer(self, hendelse: str) -> list[dict[str, Any]]:
        listed = self.http.get(
            f"/api/v1/oppdatering?innsendingReferanse={self.ref}", headers=self.auth
        ).json
        return [o for o in listed if o["hendelse"] == hendelse]  # type: ignore[union-attr]

    def supplering_actions(self) -> list[str | None]:
        with self.app.app_context():
            query = (
                select(JournalEntry.action)
                .where(JournalEntry.run_id == self.id, JournalEntry.method == "POST")
                .order_by(JournalEntry.id)
            )
            return list(get_session().scalars(query))

    def open_mangler(self) -> list[str]:
        return [m["mangelID"] for m in self.status()["mangler"] if not m["besvart"]]


def test_a_partial_supplering_brings_no_vedtak(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    run.supplering([{"mangelID": first}])
    run.advance("P30D")
    assert run.steps()["vedtak"] == "pending"
    assert run.open_mangler() == [second]
    assert run.status()["milepæl"] == "MB" and run.oppdateringer("supplering") == []
    assert run.supplering_actions() == ["supplering_sendt"]


def test_two_suppleringer_bring_the_vedtak_after_the_second_and_one_komplett(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    run.supplering([{"mangelID": first}])
    run.advance("P2D")
    run.supplering([{"mangelID": second, "kommentar": "Vedlagt."}])
    assert run.steps()["vedtak"] == "pending"  # due a day after the second
    run.advance("P1D")
    assert run.steps()["vedtak"] == "fired"
    [komplett] = run.oppdateringer("supplering")
    assert komplett["soknadStatus"] == "KS"
    [vedtak] = run.oppdateringer("vedtak")
    assert vedtak["oppdatertDato"] == "2025-03-06T10:00:00.000Z"  # 10:00 + 2 days + 1 day
    assert run.supplering_actions() == ["supplering_sendt", "supplering_mottatt"]


def test_a_redundant_supplering_brings_no_second_komplett(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    run.supplering([{"mangelID": m} for m in run.mangler])
    answer = run.supplering([{"mangelID": run.mangler[0]}])
    assert answer["advarsler"] == [f"Mangel-ID '{run.mangler[0]}' var allerede besvart."]
    assert len(run.oppdateringer("supplering")) == 1
    assert run.supplering_actions() == ["supplering_mottatt", "supplering_sendt"]


def test_an_ettersending_without_mangel_id_is_sent_not_a_complete_answer(
    scenario_app: Flask,
) -> None:
    run = Run(scenario_app)
    ettersending = [{"tema": "generelt", "tittel": "Fasadetegning", "kommentar": "Ny versjon."}]
    run.supplering([], ettersending=ettersending)
    run.advance("P30D")
    steps = run.steps()
    # The any-supplering trigger fires on the first; the vedtak waits for the answers.
    assert steps["kvittert"] == "fired" and steps["vedtak"] == "pending"
    assert len(run.open_mangler()) == 2
    assert run.supplering_actions() == ["supplering_sendt"]


def test_the_any_supplering_trigger_fires_on_the_first_only(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    assert run.steps()["kvittert"] == "pending"
    run.supplering([{"mangelID": run.mangler[0]}])
    assert run.steps()["kvittert"] == "fired"
    [letter] = run.oppdateringer("publiser_dokument")
    assert letter["utgaaendeDokument"][0]["dokumentTittel"] == "Vi har mottatt suppleringen"
    run.supplering([{"mangelID": run.mangler[1]}])
    assert len(run.oppdateringer("publiser_dokument")) == 1


def test_answered_later_keeps_the_kommune_waiting_by_default(scenario_app: Flask) -> None:
    run = Run(scenario_app)
    first, second = run.mangler
    run.supplering([{"mangelID": first}, {"mangelID": second, "erUtfallBesvaresSenere": True}])
    run.advance("P30D")
    assert run.steps()["vedtak"] == "pending" and run.open_mangler() == [second]
    # The DiBK PascalCase spelling loads too.
    run.supplering([{"MangelID": second, "ErUtfallBesvaresSenere": False}])
    assert run.supplering_actions() == ["supplering_sendt", "supplering_mottatt"]


def test_answered_later_counts_where_the_scenario_allows_it(scenario_app: Flask) -> None:
    run = Run(scenario_app, "to-mangler-senere")
    first, second = run.mangler
    run.supplering([{"mangelID": first}, {"mangelID": second, "erUtfallBesvaresSenere": True}])
    assert run.open_mangler() == [second]  # stays open, knowingly
    run.advance("P1D")
    assert run.steps()["vedtak"] == "fired"
    [komplett] = run.oppdateringer("supplering")
    assert komplett["melding"] == [
        "Kommunen har mottatt svar på manglene; 1 besvares senere. Søknaden er komplett."
    ]
    run.supplering([{"mangelID": second}])
    assert run.open_mangler() == [] and len(run.oppdateringer("supplering")) == 1
    assert run.supplering_actions() == ["supplering_mottatt", "supplering_sendt"]
