"""DiBK's rules catch bad payloads; input keys in PascalCase load; the PDF letter is a real PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain import codelists, codes
from app.domain.case import Sak
from app.domain.events import FattVedtak, Journalfor, Mangelbrev, MangelInput, VedtakspunktInput
from app.domain.messages import Oppdatering, Utfall
from app.engine.pdf import render_letter
from app.wire import render, rules
from app.wire.dates import iso
from app.wire.inputs import InnsendingSchema, SuppleringSchema
from tests.test_domain import Ctx, _sak

NOW = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def _sak_with_mangel() -> tuple[Sak, Ctx]:
    sak, ctx = _sak("RS"), Ctx()
    Journalfor().apply(sak, ctx)
    Mangelbrev(mangler=[MangelInput("1.73", "MSL", "Situasjonsplan mangler")]).apply(sak, ctx)
    return sak, ctx


def _kvittering() -> dict[str, Any]:
    return {
        "metadata": {
            "fraEbyggesaksystem": "VårtSystem",
            "innsendingReferanse": "AR12345679",
            "ftBID": "BYGG-3001",
            "avsenderId": "3817",
            "avsenderNavn": "Midt-Telemark kommune",
            "ekspedertDato": "2023-01-25T10:02:44.711Z",
        },
        "saksnummer": {"saksaar": "2023", "sakssekvensnummer": "123", "journalpostnummer": "1"},
        "milepæl": "MS",
        "mottattDato": "2023-01-24T10:02:44.711Z",
        "registrertDato": "2023-01-25T10:02:44.711Z",
        "mottattDokument": [
            {
                "dokumentNavn": "Skjema.pdf",
                "mimeType": "application/pdf",
                "dokumentStorrelse": "123245",
            }
        ],
    }


def test_dibk_example_passes() -> None:
    assert rules.check("kvittering", _kvittering(), NOW) == []


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        pytest.param(("metadata",), None, "metadata.påkrevd", id="no-metadata"),
        pytest.param(
            ("metadata", "avsenderId"),
            "38170",
            "metadata.avsenderId.format",
            id="avsender-5-digits",
        ),
        pytest.param(
            ("metadata", "avsenderId"), 3817, "metadata.avsenderId.format", id="avsender-number"
        ),
        pytest.param(
            ("metadata", "ekspedertDato"),
            "2099-01-01T00:00:00.000Z",
            "metadata.ekspedertDato.fremtid",
            id="future",
        ),
        pytest.param(
            ("metadata", "ekspedertDato"),
            "2023-01-25 10:02",
            "metadata.ekspedertDato.format",
            id="date-format",
        ),
        pytest.param(
            ("metadata", "fraEbyggesaksystem"),
            "",
            "metadata.fraEbyggesaksystem.påkrevd",
            id="no-system",
        ),
        pytest.param(
            ("saksnummer", "saksaar"), 2023, "saksnummer.saksaar.format", id="saksaar-int"
        ),
        pytest.param(("milepæl",), "XX", "milepæl.kodeverdi", id="bad-milepael"),
        pytest.param(("mottattDokument",), [], "kvittering.mottattDokument.påkrevd", id="no-files"),
    ],
)
def test_rules_catch_each_fault(path: tuple[str, ...], value: Any, rule: str) -> None:
    payload = _kvittering()
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    assert rule in [p.rule for p in rules.check("kvittering", payload, NOW)]


def test_oppdatering_rules() -> None:
    base = {
        "sekvensnummer": "1",
        "metadata": {**_kvittering()["metadata"], "innsendingReferanse": "AR1"},
        "oppdatertDato": "2023-01-25T10:02:44.711Z",
        "hendelse": "mangel",
        "utfall": [
            {"utfall": {"kodeverdi": "SVV"}, "prosesskategori": {"kodeverdi": "RS"}, "tittel": "x"}
        ],
        "nokkelinfo": {
            "endringAvSaksnummer": {
                "typeOppdatering": "samling",
                "opprinneligSaksnummer": [{}],
                "tilSaksnummer": [{}],
            }
        },
        "utgaaendeDokument": [
            {
                "dokumentTittel": "Brev",
                "filStorrelse": "1",
                "distribusjonsmetode": ["fellestjenesterBygg"],
            }
        ],
    }
    found = {p.rule for p in rules.check("oppdatering", base, NOW)}
    assert {
        "metadata.innsendingReferanse.påkrevd",  # must be a list in oppdatering
        "utfall[0].utfall.kodeverdi",  # SVV is no mangel outcome
        "oppdatering.utfall.mangelID.påkrevd",
        "endretSaksnummer.opprinneligSaksnummer.antall",  # samling needs two originals
        "utgaaendeDokument.dokumentUrl.påkrevd",  # FtB distribution needs a URL
        "utfall.utfallId.påkrevd",  # every outcome carries its id
        "utfall[0].tema.kodeverdi",
        "utfall[0].utfallType.kodeverdi",  # a vilkår is of utfallType SVV
    } <= found


def test_an_outcome_is_emitted_with_its_id_type_tema_and_sjekkpunkt() -> None:
    sak, ctx = _sak_with_mangel()
    [vedtak] = FattVedtak(
        vilkaar=[VedtakspunktInput("3.7", "Krav til rekkefølge", tema="plan")],
        oppfolgingspunkter=[VedtakspunktInput("14.17", "Samtykke fra netteier")],
    ).apply(sak, ctx)
    assert isinstance(vedtak, Oppdatering)
    items = [render.utfall_json(u) for u in vedtak.utfall]
    decision, vilkaar, oppfolging = items
    assert decision["utfallId"] and "utfallType" not in decision
    assert "utloestFraSjekkpunkt" not in decision
    assert vilkaar["utfallType"] == {"kodeverdi": "SVV", "kodebeskrivelse": "Vilkår i vedtak"}
    assert vilkaar["tema"] == {"kodeverdi": "plan", "kodebeskrivelse": "Plan"}
    assert vilkaar["utloestFraSjekkpunkt"] == {"sjekkpunktId": "3.7", "sjekkpunktEier": "dibk"}
    assert oppfolging["utfallType"]["kodeverdi"] == "MKV"
    assert oppfolging["tema"]["kodeverdi"] == "generelt"
    assert len({decision["utfallId"], vilkaar["utfallId"], oppfolging["utfallId"]}) == 3
    [mangel] = [render.utfall_json(Utfall.from_mangel(m)) for m in sak.innsendinger[0].mangler]
    assert mangel["mangelID"] == mangel["utfallId"]
    assert mangel["utfallType"] == {"kodeverdi": "MG", "kodebeskrivelse": "Mangel"}


def test_the_code_lists_are_one_dated_file_each_with_their_sources() -> None:
    for liste in codelists.ALL:
        assert liste.filename == f"{liste.name.lower()}_{liste.dato[:7]}.json"
        assert liste.koder and set(liste.kilder) == set(liste.koder)
    assert codelists.TEMA.koder["Parkering"] == "Parkering"
    assert codes.ETTERSENDING_TEMA is codelists.TEMA.koder
    assert {codes.utfall_type(u) for u in codes.MANGEL_UTFALL} == {"MG"}
    assert set(codelists.UTFALLTYPE.koder) == {"MG", "SVV", "MKV"}


def test_iso_dates_are_utc_with_milliseconds() -> None:
    assert iso(datetime(2023, 1, 25, 11, 2, 44, 711999, tzinfo=UTC)) == "2023-01-25T11:02:44.711Z"
    assert iso(datetime(2023, 1, 25, 11, 2, 44)) == "2023-01-25T11:02:44.000Z"


def test_pascal_case_input_loads_like_camel_case() -> None:
    loaded = SuppleringSchema().load(
        {
            "InnsendingReferanse": "AR1",
            "KommunensSaksnummer": {"Saksaar": "2024", "Sakssekvensnummer": "9"},
            "Mangelbesvarelse": [{"MangelID": "m-1"}, {"mangelId": "m-2"}],
        }
    )
    assert [m["utfallId"] for m in loaded["utfallSvar"]] == ["m-1", "m-2"]
    assert loaded["kommunensSaksnummer"].label == "2024/9"
    assert (
        InnsendingSchema().load(
            {
                "Soknadstype": "TA",
                "Tiltakstype": ["pabygg"],
                "Dokumenter": [{"DokumentNavn": "a", "MimeType": "b", "DokumentStorrelse": "1"}],
            }
        )["soknadstype"]
        == "TA"
    )


def test_letter_is_a_wellformed_pdf() -> None:
    content = render_letter(
        "Bærum kommune",
        "Vedtak (RS)",
        NOW,
        ["Saksnummer: 2024/118"],
        ["Søknaden er innvilget.", "x" * 300],
    )
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", content).group(1))  # type: ignore[union-attr]
    assert content[startxref:].startswith(b"xref")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", content)]
    for number, offset in enumerate(offsets, start=1):
        assert content[offset:].startswith(b"%d 0 obj" % number)
    assert "Bærum".encode("cp1252") in content and b"Vedtak \\(RS\\)" in content
    assert render_letter("A", "B", NOW, [], ["c"]) == render_letter("A", "B", NOW, [], ["c"])
