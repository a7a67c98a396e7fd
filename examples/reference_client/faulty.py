"""Faulty variants of the reference client, each with one realistic defect.

The sandbox's own tests run each against scenarios and assert that it fails exactly the
checks its defect should trip: the proof that the scoring can fail, for the right reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from client import Client, Sak


class IgnoresSaksnummerChange(Client):
    """Keeps the kvittering's saksnummer (e.g. the fordelingssak) after the kommune moves the case."""

    def on_new_saksnummer(self, sak: Sak, saksnummer: dict[str, str]) -> None:
        """Ignore the change."""


class NeverDownloadsVedtakLetter(Client):
    """Downloads mangelbrev but never the vedtak letter."""

    def queue_document(self, item: dict[str, Any], dokument: dict[str, Any]) -> None:
        """Skip documents that come with a vedtak."""
        if item.get("vedtak") or item.get("soknadStatus") == "VF":
            return
        super().queue_document(item, dokument)


class DropsMangelId(Client):
    """Answers the mangelbrev, but loses the first mangelID on the way."""

    def supplering(self, sak: Sak, mangel_ids: list[str]) -> dict[str, Any]:
        """Leave the first mangel out; with only one, send an unstructured ettersending."""
        body = super().supplering(sak, mangel_ids)
        body["mangelbesvarelse"] = body["mangelbesvarelse"][1:]
        if not body["mangelbesvarelse"]:
            del body["mangelbesvarelse"]
            body["ettersending"] = [
                {"tema": "generelt", "tittel": "Svar på brev", "kommentar": "Se vedlegg."}
            ]
        return body


class TightLoop(Client):
    """Polls as fast as it can and ignores Retry-After."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.poll_interval = 0.0

    def retry_after(self, response: Any) -> float:
        """Never wait."""
        return 0.0


class StopsAfterKvittering(Client):
    """Treats the kvittering as the end of the story."""

    def done(self) -> bool:
        """Stop as soon as every innsending has a kvittering."""
        return all(s.kvittering is not None for s in self.saker.values())


KNOWN_OPPDATERING_KEYS = {
    "sekvensnummer",
    "metadata",
    "oppdatertDato",
    "hendelse",
    "soknadStatus",
    "nokkelinfo",
    "utfall",
    "vedtak",
    "melding",
    "utgaaendeDokument",
}


class CrashesOnUnknownField(Client):
    """Parses oppdateringer strictly and falls over on a field it does not know."""

    def parse_oppdateringer(self, body: Any) -> list[dict[str, Any]]:
        """Raise on unknown keys."""
        for item in body:
            unknown = set(item) - KNOWN_OPPDATERING_KEYS
            if unknown:
                raise ValueError(f"unexpected field(s) in oppdatering: {sorted(unknown)}")
        return super().parse_oppdateringer(body)


class AnswersAfterSvarfrist(Client):
    """Waits for the user, who answers only after the svarfrist has passed."""

    def answer_mangler(self, sak: Sak) -> None:
        """Answer only once the kommune's clock is past every open mangel's svarfrist."""
        open_mangler = [m for k, m in sak.mangler.items() if k not in sak.besvart]
        if not open_mangler:
            return
        status = self.request(
            "GET", "/api/v1/status", params={"innsendingReferanse": sak.referanse}
        )
        now = _parse(status.json()["metadata"]["ekspedertDato"])
        if all(now > _parse(m["svarfrist"]) for m in open_mangler):
            super().answer_mangler(sak)


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


VARIANTS: dict[str, type[Client]] = {
    "ignores-saksnummer-change": IgnoresSaksnummerChange,
    "never-downloads-vedtak-letter": NeverDownloadsVedtakLetter,
    "drops-mangel-id": DropsMangelId,
    "tight-loop": TightLoop,
    "stops-after-kvittering": StopsAfterKvittering,
    "crashes-on-unknown-field": CrashesOnUnknownField,
    "answers-after-svarfrist": AnswersAfterSvarfrist,
}


# -- clients that end early -------------------------------------------------------------------


class ExitsAfterMangelbrev(Client):
    """Downloads the mangelbrev, then treats the case as handed to a human and exits."""

    def answer_mangler(self, sak: Sak) -> None:
        """Never answer: the user is meant to do it elsewhere."""

    def done(self) -> bool:
        """Stop once every innsending has a mangel and every queued letter is downloaded."""
        return (
            all(s.mangler for s in self.saker.values())
            and bool(self.downloaded)
            and not self.pending_documents
        )


VARIANTS["exits-after-mangelbrev"] = ExitsAfterMangelbrev


# ---- answering over several suppleringer --------------------------------------------------


class AnswersInTwoSuppleringer(Client):
    """Not faulty: answers the first mangel now and the rest later, as DiBK allows.

    The first supplering answers one mangel and declares the others answered later
    (``erUtfallBesvaresSenere``); the next poll answers them. The kommune must wait for
    the second before it decides.
    """

    def answer_mangler(self, sak: Sak) -> None:
        """Split the answer when more than one mangel is open."""
        open_ids = [m for m in sak.mangler if m not in sak.besvart]
        if len(open_ids) < 2 or sak.saksnummer is None:
            super().answer_mangler(sak)
            return
        body = self.supplering(sak, open_ids[:1])
        body["mangelbesvarelse"] += [
            {"mangelID": m, "erUtfallBesvaresSenere": True} for m in open_ids[1:]
        ]
        response = self.request("POST", "/api/v1/supplering", json=body)
        response.raise_for_status()
        sak.besvart.add(open_ids[0])


VARIANTS["answers-in-two-suppleringer"] = AnswersInTwoSuppleringer


# ---- spellings the API accepts, and a strict parser ------------------------------------
# Not defects: the first two send what docs/wire-contract.md allows, and must score exactly
# as the reference client does. The last drops what its parser rejects.


def _pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


class PascalCaseKeys(Client):
    """Sends every body with PascalCase keys, as DiBK's documentation tables spell them."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """PascalCase the JSON body of every POST."""
        if "json" in kwargs:
            kwargs["json"] = _pascal(kwargs["json"])
        return super().request(method, path, **kwargs)


class MangelIdSpelling(Client):
    """Echoes each mangel as ``mangelId``, as the split APIs' examples spell it."""

    def supplering(self, sak: Sak, mangel_ids: list[str]) -> dict[str, Any]:
        """Rename mangelID to mangelId."""
        body = super().supplering(sak, mangel_ids)
        for item in body["mangelbesvarelse"]:
            item["mangelId"] = item.pop("mangelID")
        return body


class DropsUnparseable(Client):
    """Parses oppdateringer strictly (additionalProperties: false) and drops those it rejects."""

    def parse_oppdateringer(self, body: Any) -> list[dict[str, Any]]:
        """Keep only oppdateringer with no key beyond the documented ones."""
        return [
            item
            for item in super().parse_oppdateringer(body)
            if not set(item) - KNOWN_OPPDATERING_KEYS
        ]


VARIANTS.update(
    {
        "pascal-case-keys": PascalCaseKeys,
        "mangel-id-spelling": MangelIdSpelling,
        "drops-unparseable": DropsUnparseable,
    }
)


class AnswersManglerOneByOne(Client):
    """Answers each mangel in a supplering of its own, 263 ms after the one before, with a
    poll in between: one reaction, which the kommune must see within one virtual moment."""

    def answer_mangler(self, sak: Sak) -> None:
        """Send one supplering a mangel, polling once between them."""
        for number, mangel_id in enumerate([m for m in sak.mangler if m not in sak.besvart]):
            if number:
                self.sleep(0.13)
                self.request(
                    "GET", "/api/v1/oppdatering", params={"innsendingReferanse": sak.referanse}
                )
                self.sleep(0.13)
            body = self.supplering(sak, [mangel_id])
            self.request("POST", "/api/v1/supplering", json=body).raise_for_status()
            sak.besvart.add(mangel_id)


VARIANTS["answers-mangler-one-by-one"] = AnswersManglerOneByOne
