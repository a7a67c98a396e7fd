"""The domain core on its own: frist semantics and what each event changes and emits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.answers import UtfallSvar
from app.domain.case import (
    Innsending,
    Kontaktpunkt,
    MottattDokument,
    Sak,
    Saksnummer,
    UtgaaendeDokument,
)
from app.domain.events import (
    EndreSaksnummer,
    EndreSoknadstype,
    FattVedtak,
    Journalfor,
    Komplett,
    Mangelbrev,
    MangelInput,
    MottaSupplering,
    SettFrist,
    TildelSaksbehandler,
)
from app.domain.frist import Frist
from app.domain.messages import Kvittering, Oppdatering
from app.domain.plain import from_plain, to_plain
from app.errors import Conflict, ValidationFailed

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)


class Ctx:
    """A hand-driven EventContext: a settable clock, counted ids, recorded letters."""

    def __init__(self) -> None:
        self.now = T0
        self.ids = 0
        self.letters: list[tuple[str, list[str]]] = []

    def new_id(self) -> str:
        self.ids += 1
        return f"id-{self.ids}"

    def new_saksbehandler(self) -> Kontaktpunkt:
        return Kontaktpunkt("Generert Saksbehandler")

    def publish(
        self, innsending: Innsending, tittel: str, linjer: list[str], metoder: list[str]
    ) -> UtgaaendeDokument:
        self.letters.append((tittel, linjer))
        return UtgaaendeDokument(self.new_id(), tittel, "100", f"http://x/{self.ids}", metoder)


def _sak(*soknadstyper: str) -> Sak:
    sak = Sak(
        "0301", "Oslo", "Testsystem", neste_sakssekvensnummer=500, fordelingssak_sekvensnummer=17
    )
    for index, soknadstype in enumerate(soknadstyper):
        sak.innsendinger.append(
            Innsending(
                innsendingReferanse=f"AR1000000{index}",
                ftBID=f"BYGG-{index}",
                soknadstype=soknadstype,
                tiltakstyper=["nyttbyggboligformal"],
                mottattDato=T0 - timedelta(days=1),
                dokumenter=[MottattDokument("Skjema.pdf", "application/pdf", "10")],
            )
        )
    return sak


class TestFrist:
    def test_start_pause_resume_keeps_remaining_time(self) -> None:
        frist = Frist()
        assert frist.start(T0, 12) == T0 + timedelta(weeks=12)
        assert frist.pause(T0 + timedelta(days=10)) is True
        assert frist.status == "pauset" and frist.dato is None
        resumed = frist.resume(T0 + timedelta(days=30))
        assert resumed == T0 + timedelta(days=30) + timedelta(weeks=12) - timedelta(days=10)

    def test_pause_only_a_running_frist(self) -> None:
        frist = Frist()
        assert frist.pause(T0) is False and frist.status == "ikke_startet"
        assert frist.resume(T0) is None

    def test_withdraw_and_stop(self) -> None:
        frist = Frist()
        frist.start(T0, 3)
        assert frist.withdraw() is True and frist.status == "ikke_startet" and frist.dato is None
        assert frist.withdraw() is False
        assert frist.stop() is True and frist.stop() is False


class TestEvents:
    def test_journalfor_issues_kvittering_once_and_starts_frist(self) -> None:
        sak, ctx = _sak("TA"), Ctx()
        [kvittering] = Journalfor().apply(sak, ctx)
        assert isinstance(kvittering, Kvittering)
        assert kvittering.saksnummer == Saksnummer("2024", "500", "1")
        # Tiltak uten ansvarsrett: 3 weeks from when the kommune received it.
        assert kvittering.saksbehandlingsfrist == T0 - timedelta(days=1) + timedelta(weeks=3)
        with pytest.raises(Conflict) as exc:
            Journalfor().apply(sak, ctx)
        assert exc.value.problems[0].rule == "kvittering.allerede_sendt"

    def test_journalfor_incomplete_does_not_start_frist(self) -> None:
        sak = _sak("RS")
        [kvittering] = Journalfor(komplett=False, fordelingssak=True).apply(sak, Ctx())
        assert isinstance(kvittering, Kvittering)
        assert kvittering.saksbehandlingsfrist is None
        assert kvittering.saksnummer.sakssekvensnummer == "17"

    def test_events_need_a_journalfort_innsending(self) -> None:
        with pytest.raises(Conflict) as exc:
            TildelSaksbehandler().apply(_sak("RS"), Ctx())
        assert exc.value.problems[0].rule == "hendelse.ikke_journalfort"

    def test_msi_withdraws_frist_until_complete(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        [mangel] = Mangelbrev(mangler=[MangelInput("1.73", "MSI", "Situasjonsplan mangler")]).apply(
            sak, ctx
        )
        assert isinstance(mangel, Oppdatering)
        assert mangel.fristStatus == "ikke_startet" and sak.innsendinger[0].frist.dato is None
        assert mangel.utfall[0].svarfrist == T0 + timedelta(weeks=3)
        assert ctx.letters[0][0] == "Anmodning om tilleggsopplysninger"
        ctx.now = T0 + timedelta(days=7)
        [komplett] = MottaSupplering(
            referanse="AR2",
            kommunensSaksnummer=Saksnummer("2024", "500"),
            svar=[UtfallSvar(mangel.utfall[0].mangelID or "")],
        ).apply(sak, ctx)
        assert isinstance(komplett, Oppdatering)
        # MSI: the statutory frist starts afresh from the complete application.
        assert komplett.soknadStatus == "KS"
        assert komplett.saksbehandlingsfrist == ctx.now + timedelta(weeks=12)

    def test_supplering_with_old_saksnummer_is_accepted_with_a_warning(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor(fordelingssak=True).apply(sak, ctx)
        EndreSaksnummer(typeOppdatering="endring").apply(sak, ctx)
        [mangel] = Mangelbrev(mangler=[MangelInput("1.73", "MG", "x")]).apply(sak, ctx)
        assert isinstance(mangel, Oppdatering)
        event = MottaSupplering(
            referanse="AR3",
            kommunensSaksnummer=Saksnummer("2024", "17"),
            svar=[UtfallSvar(mangel.utfall[0].mangelID or "")],
        )
        event.apply(sak, ctx)
        assert event.advarsler == [
            "kommunensSaksnummer 2024/17 er ikke sakens gjeldende saksnummer 2024/500."
        ]

    def test_supplering_unknown_mangel_changes_nothing(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        before = to_plain(sak)
        with pytest.raises(ValidationFailed) as exc:
            MottaSupplering(
                referanse="AR4", svar=[UtfallSvar("nope", felt="mangelbesvarelse[0].mangelID")]
            ).apply(sak, ctx)
        assert exc.value.problems[0].field == "mangelbesvarelse[0].mangelID"
        assert to_plain(sak) == before

    def test_samling_merges_two_innsendinger_onto_one_saksnummer(self) -> None:
        sak, ctx = _sak("RS", "RS"), Ctx()
        for innsending in sak.innsendinger:
            Journalfor(innsendingReferanse=innsending.innsendingReferanse).apply(sak, ctx)
        [oppdatering] = EndreSaksnummer(
            typeOppdatering="samling", tilSaksnummer=[Saksnummer("2024", "900")]
        ).apply(sak, ctx)
        assert isinstance(oppdatering, Oppdatering)
        assert oppdatering.innsendingReferanser == ["AR10000000", "AR10000001"]
        assert oppdatering.ftBIDer == ["BYGG-0", "BYGG-1"]
        endring = oppdatering.endringAvSaksnummer
        assert endring is not None and len(endring.opprinneligSaksnummer) == 2
        assert {i.saksnummer.label for i in sak.innsendinger if i.saksnummer} == {"2024/900"}

    def test_splitting_needs_two_targets(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        with pytest.raises(ValidationFailed) as exc:
            EndreSaksnummer(
                typeOppdatering="splitting", tilSaksnummer=[Saksnummer("2024", "1")]
            ).apply(sak, ctx)
        assert exc.value.problems[0].rule == "endretSaksnummer.tilSaksnummer.antall"
        [oppdatering] = EndreSaksnummer(typeOppdatering="splitting").apply(sak, ctx)
        assert isinstance(oppdatering, Oppdatering)
        assert oppdatering.endringAvSaksnummer is not None
        assert len(oppdatering.endringAvSaksnummer.tilSaksnummer) == 2
        assert len(sak.innsendinger[0].relaterteSaksnummer) == 1

    def test_soknadstype_change_comes_with_a_letter(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        [oppdatering] = EndreSoknadstype(soknadstype="ET").apply(sak, ctx)
        assert isinstance(oppdatering, Oppdatering)
        assert oppdatering.soknadstype == "ET" and oppdatering.utgaaendeDokument
        [only_tiltak] = EndreSoknadstype(tiltakstyper=["pabygg"]).apply(sak, ctx)
        assert isinstance(only_tiltak, Oppdatering)
        assert only_tiltak.utgaaendeDokument == [] and only_tiltak.soknadstype is None
        with pytest.raises(Conflict):
            EndreSoknadstype(tiltakstyper=["pabygg"]).apply(sak, ctx)

    def test_vedtak_stops_frist_and_is_final(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        [vedtak] = FattVedtak(resultat="avvisning").apply(sak, ctx)
        assert isinstance(vedtak, Oppdatering)
        assert [u.utfall for u in vedtak.utfall] == ["AVV"]
        assert sak.innsendinger[0].frist.status == "stoppet"
        for event in (
            FattVedtak(),
            Komplett(),
            SettFrist(uker=3),
            Mangelbrev(mangler=[MangelInput("1.1", "MG", "x")]),
        ):
            with pytest.raises(Conflict):
                event.apply(sak, ctx)

    def test_sett_frist_refuses_a_past_date(self) -> None:
        sak, ctx = _sak("RS"), Ctx()
        Journalfor().apply(sak, ctx)
        with pytest.raises(ValidationFailed):
            SettFrist(dato=T0 - timedelta(days=1)).apply(sak, ctx)

    def test_case_round_trips_through_plain_data(self) -> None:
        sak, ctx = _sak("RS", "IG"), Ctx()
        Journalfor(
            innsendingReferanse="AR10000000", saksbehandler=Kontaktpunkt("A", "a@b.invalid")
        ).apply(sak, ctx)
        Mangelbrev(
            innsendingReferanse="AR10000000", mangler=[MangelInput("1.73", "MSL", "x")]
        ).apply(sak, ctx)
        assert from_plain(Sak, to_plain(sak)) == sak
