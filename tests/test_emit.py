"""Every emission is held to its one description (the output schemas) and DiBK's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.domain.case import MottattDokument, Sak, Saksnummer
from app.domain.messages import Kvittering
from app.errors import EmissionRejected
from app.wire import emit, render


def _kvittering() -> tuple[Kvittering, Sak]:
    sak = Sak("0301", "Oslo", "Testsystem")
    now = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    kvittering = Kvittering(
        innsendingReferanse="AR1",
        ftBID="BYGG-1",
        ekspedertDato=now,
        saksnummer=Saksnummer("2024", "118"),
        mottattDato=now,
        registrertDato=now,
        mottattDokument=[MottattDokument("Skjema.pdf", "application/pdf", "123")],
    )
    return kvittering, sak


def test_a_payload_as_described_is_emitted() -> None:
    kvittering, sak = _kvittering()
    payload = emit.kvittering(kvittering, sak, kvittering.ekspedertDato)
    assert payload["saksnummer"] == {"saksaar": "2024", "sakssekvensnummer": "118"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(nyttFelt="x"), "kvittering.nyttFelt"),
        (lambda p: p["saksnummer"].update(saksaar=2024), "kvittering.saksnummer.saksaar"),
        (lambda p: p.pop("mottattDato"), "kvittering.mottattDato"),
    ],
)
def test_a_payload_that_leaves_its_description_is_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, change: Any, field: str
) -> None:
    kvittering, sak = _kvittering()
    rendered = render.kvittering_json

    def drifted(*args: Any) -> dict[str, Any]:
        payload = rendered(*args)
        change(payload)
        return payload

    monkeypatch.setattr(render, "kvittering_json", drifted)
    with pytest.raises(EmissionRejected) as caught:
        emit.kvittering(kvittering, sak, kvittering.ekspedertDato)
    assert field in [f"kvittering.{p.field}" for p in caught.value.problems], caught.value.problems
