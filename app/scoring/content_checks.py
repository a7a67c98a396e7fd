"""Protocol checks on what the client did with the content it was sent.

Mangler answered, the current saksnummer used, documents downloaded, and oppdateringer
that carry something new (a field no version documents, metadata listing several
innsendinger) acted on like any other. Every one reads request bodies in their canonical
form (``Exchange.body``), so each spelling the API accepts scores the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.engine.clock import aware
from app.scenarios.model import Expectation
from app.scoring.evidence import Exchange, Facts
from app.scoring.outcome import Outcome
from app.wire.dates import iso

MANGEL_UTFALL = frozenset({"DOK", "MG", "MSL", "MSI", "OTI"})
UNKNOWN_FIELD = "nyttFeltFraDiBK"
DOKUMENT_PATH = "/api/v1/dokument/"


def outcome(
    ok: bool | None, reason: str, divergence: str | None = None, evidence: list[int] | None = None
) -> Outcome:
    """An outcome with its evidence list filled in."""
    return Outcome(ok, reason, divergence, evidence or [])


def suppleringer(facts: Facts, *, accepted: bool = True) -> list[Exchange]:
    """The client's suppleringer whose body loaded (only those answered 201 by default)."""
    return [
        e
        for e in facts.exchanges
        if e.method == "POST"
        and e.path == "/api/v1/supplering"
        and isinstance(e.body, dict)
        and (e.status == 201 or not accepted)
    ]


def answers_in(body: Any) -> list[dict[str, Any]]:
    """The utfallSvar items of a canonical supplering or søknad body (Supplering v2's
    shape), each utfallId once: the first, as the API reads it (a repeat in the same form
    is read as not sent, ``app.domain.answers.first_answers``)."""
    block = body.get("utfallBesvarelse") if isinstance(body, dict) else None
    items = block.get("utfallSvar") if isinstance(block, dict) else None
    first: dict[str, dict[str, Any]] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("utfallId"), str):
            first.setdefault(item["utfallId"], item)
    return list(first.values())


ANSWERED, LATER = "answered", "later"


def reading(svar: dict[str, Any]) -> str | None:
    """What one canonical utfallSvar does to its outcome: ``ANSWERED``, ``LATER`` (declared
    answered later), or None ("not answered" with nothing in it answers nothing). The
    canonical flags are the sandbox's reading (app.wire.inputs.forms.utfall_svar_json)."""
    if svar.get("erUtfallBesvart") is True:
        return ANSWERED
    if svar.get("erUtfallBesvaresSenere") is True:
        return LATER
    return None


def _label(saksnummer: Any) -> str:
    if not isinstance(saksnummer, dict):
        return "None/None"
    return f"{saksnummer.get('saksaar')}/{saksnummer.get('sakssekvensnummer')}"


def uses_current_saksnummer(facts: Facts, _expectation: Expectation) -> Outcome:
    """Every answer to an outcome carries the case's saksnummer as it stood when it was sent."""
    answers = [e for e in suppleringer(facts) if answers_in(e.body)]
    if not answers:
        return outcome(None, "the client answered no outcome")
    for exchange in answers:
        ref = exchange.reference()
        current = facts.saksnummer_at(ref, exchange.virtual_time) if ref else None
        got = _label(exchange.body.get("kommunensSaksnummer"))
        if current is not None and got != current.label:
            what = ""
            kvittering = facts.kvitteringer.get(ref or "")
            if kvittering and got == _label(kvittering["saksnummer"]):
                what = " (the kvittering's"
                innsending = facts.sak.innsending(ref or "")
                history = innsending.saksnummerHistorikk if innsending else []
                what += (
                    ", the fordelingssak)"
                    if history and history[0].typeOppdatering == "endring"
                    else ")"
                )
            return outcome(
                False,
                f"supplering {exchange.id} used saksnummer {got}",
                f"expected supplering with saksnummer {current.label}, got {got}{what}",
                [exchange.id],
            )
    return outcome(
        True,
        f"all {len(answers)} answers used the current saksnummer",
        None,
        [e.id for e in answers],
    )


def _mangel_ids(exchange: Exchange) -> list[str]:
    return [i["utfallId"] for i in answers_in(exchange.body)]


def echoes_mangel_ids(facts: Facts, _expectation: Expectation) -> Outcome:
    """Every mangel is answered with its mangelID, before its svarfrist, and no unknown id is sent."""
    mangler = [m for i in facts.sak.innsendinger for m in i.mangler]
    if not mangler:
        return outcome(None, "the kommune sent no mangel")
    answered: dict[str, Exchange] = {}
    later: dict[str, Exchange] = {}
    sent_ids: list[tuple[str, Exchange]] = []
    for exchange in suppleringer(facts, accepted=False):
        for svar in answers_in(exchange.body):
            mangel_id = svar["utfallId"]
            sent_ids.append((mangel_id, exchange))
            if exchange.status != 201:
                continue
            read = reading(svar)
            if read == ANSWERED:
                answered.setdefault(mangel_id, exchange)
            elif read == LATER:
                later.setdefault(mangel_id, exchange)
    known = {m.mangelID for m in mangler}
    for mangel_id, exchange in sent_ids:
        if mangel_id not in known:
            return outcome(
                False,
                f"sent unknown mangelID {mangel_id}",
                f"expected one of the kommune's mangelIDs; got '{mangel_id}' in exchange {exchange.id}",
                [exchange.id],
            )
    for mangel in mangler:
        answer = answered.get(mangel.mangelID)
        svarfrist = aware(mangel.svarfrist)
        if answer is None and mangel.mangelID in later:
            said = later[mangel.mangelID]
            return outcome(
                False,
                f"mangel {mangel.mangelID} ({mangel.tittel}) was declared answered later "
                "and never answered",
                f"expected a supplering answering mangelID {mangel.mangelID} before "
                f"{iso(svarfrist)}; exchange {said.id} only said erUtfallBesvaresSenere",
                [said.id],
            )
        if answer is None:
            return outcome(
                False,
                f"mangel {mangel.mangelID} ({mangel.tittel}) was never answered",
                f"expected a supplering echoing mangelID {mangel.mangelID} before {iso(svarfrist)}; none came",
                [e.id for _, e in sent_ids][:3],
            )
        if answer.virtual_time > svarfrist:
            return outcome(
                False,
                f"mangel {mangel.mangelID} answered after its svarfrist",
                f"expected the answer before {iso(svarfrist)}; got it {iso(answer.virtual_time)} (exchange {answer.id})",
                [answer.id],
            )
    return outcome(
        True,
        f"all {len(mangler)} mangler answered in time with their mangelID",
        None,
        sorted({e.id for e in answered.values()}),
    )


def _document_requests(facts: Facts, dokument_id: str) -> list[Exchange]:
    return [
        e
        for e in facts.exchanges
        if e.method == "GET" and e.path == f"{DOKUMENT_PATH}{dokument_id}"
    ]


def downloads_documents(facts: Facts, _expectation: Expectation) -> Outcome:
    """Every outgoing document is downloaded before it expires; a fetch that came too late says so."""
    if not facts.documents:
        return outcome(None, "the kommune published no document")
    downloads: list[Exchange] = []
    for document in sorted(facts.documents, key=lambda d: d.created_virtual):
        expires = aware(document.expires_virtual)
        expected = (
            f"expected GET {DOKUMENT_PATH}{document.dokument_id} ('{document.tittel}') before "
            f"{iso(expires)}; "
        )
        tries = _document_requests(facts, document.dokument_id)
        got = next((e for e in tries if e.status == 200 and e.virtual_time < expires), None)
        if got is not None:
            downloads.append(got)
            continue
        late = next((e for e in tries if e.status == 410 or e.virtual_time >= expires), None)
        if late is not None:
            return outcome(
                False,
                f"'{document.tittel}' was fetched too late: it had expired",
                expected + f"the client first fetched it {iso(late.virtual_time)}, too late "
                f"(exchange {late.id} answered {late.status})",
                [late.id],
            )
        return outcome(
            False,
            f"'{document.tittel}' was never downloaded",
            expected + "the client never fetched it",
            [e.id for e in tries][:3],
        )
    return outcome(
        True,
        f"all {len(facts.documents)} documents downloaded in time",
        None,
        sorted(e.id for e in downloads),
    )


# ---- acting on oppdateringer that carry something new ---------------------------------------


@dataclass
class _Delivery:
    """The first time an oppdatering carrying a novelty reached the client for a reference."""

    exchange: Exchange
    ref: str
    item: dict[str, Any]

    @property
    def seq(self) -> str:
        """Its sekvensnummer."""
        return str(self.item.get("sekvensnummer"))


def _deliveries(facts: Facts, novel: Callable[[dict[str, Any]], bool]) -> list[_Delivery]:
    seen: set[tuple[str, str]] = set()
    out: list[_Delivery] = []
    for exchange in facts.exchanges:
        ref = exchange.reference()
        if (
            exchange.method != "GET"
            or exchange.path != "/api/v1/oppdatering"
            or exchange.status != 200
            or ref is None
            or not isinstance(exchange.response_body, list)
        ):
            continue
        for item in exchange.response_body:
            if isinstance(item, dict) and novel(item):
                key = (ref, str(item.get("sekvensnummer")))
                if key not in seen:
                    seen.add(key)
                    out.append(_Delivery(exchange, ref, item))
    return out


def _tasks(facts: Facts, delivery: _Delivery) -> Iterator[tuple[str, Exchange | None]]:
    """What the oppdatering asked of the client that its requests can show, each with the
    request that did it (None: it never did)."""
    item = delivery.item
    for utfall in item.get("utfall") or []:
        code = (utfall.get("utfall") or {}).get("kodeverdi") if isinstance(utfall, dict) else None
        mangel_id = utfall.get("mangelID") if isinstance(utfall, dict) else None
        if code in MANGEL_UTFALL and isinstance(mangel_id, str):
            answer = next(
                (
                    e
                    for e in suppleringer(facts)
                    if e.id > delivery.exchange.id and mangel_id in _mangel_ids(e)
                ),
                None,
            )
            yield f"answer mangel {mangel_id}", answer
    for dokument in item.get("utgaaendeDokument") or []:
        url = dokument.get("dokumentUrl") if isinstance(dokument, dict) else None
        if isinstance(url, str) and DOKUMENT_PATH in url:
            dokument_id = url.rsplit("/", 1)[1]
            fetched = next(iter(_document_requests(facts, dokument_id)), None)
            yield f"download '{dokument.get('dokumentTittel')}'", fetched
    saksnummer = (item.get("nokkelinfo") or {}).get("saksnummer")
    if isinstance(saksnummer, dict):
        answers = [
            e
            for e in suppleringer(facts)
            if e.id > delivery.exchange.id and e.reference() == delivery.ref and answers_in(e.body)
        ]
        if answers:
            first = answers[0]
            current = facts.saksnummer_at(delivery.ref, first.virtual_time)
            used = _label(first.body.get("kommunensSaksnummer"))
            wanted = current.label if current is not None else _label(saksnummer)
            yield f"use saksnummer {wanted}", first if used == wanted else None


def _acts_on(facts: Facts, novel: Callable[[dict[str, Any]], bool], what: str) -> Outcome:
    deliveries = _deliveries(facts, novel)
    if not deliveries:
        return outcome(
            None, f"no oppdatering with {what} reached the client, so this did not apply"
        )
    first = deliveries[0].exchange
    if not any(e.id > first.id for e in facts.exchanges):
        return outcome(
            False,
            f"the client went silent after an oppdatering with {what}",
            f"expected the client to keep polling after exchange {first.id} (it carried {what}); "
            "it sent nothing more",
            [first.id],
        )
    done: list[int] = []
    observed = 0
    for delivery in deliveries:
        for task, request in _tasks(facts, delivery):
            observed += 1
            if request is None:
                return outcome(
                    False,
                    f"did not act on oppdatering {delivery.seq} for {delivery.ref}, which carried {what}",
                    f"expected the client to {task} (oppdatering {delivery.seq} for {delivery.ref}, "
                    f"received in exchange {delivery.exchange.id}, carried {what}); it never did",
                    [delivery.exchange.id],
                )
            done.append(request.id)
    if not observed:
        return outcome(
            None,
            f"{len(deliveries)} oppdatering(er) carried {what}, but none asked the client for "
            "anything its requests could show, so this did not apply",
            None,
            [d.exchange.id for d in deliveries][:3],
        )
    return outcome(
        True,
        f"acted on all {len(deliveries)} oppdatering(er) carrying {what} ({observed} action(s))",
        None,
        sorted({deliveries[0].exchange.id, *done}),
    )


def tolerates_unknown_fields(facts: Facts, _expectation: Expectation) -> Outcome:
    """Oppdateringer carrying a field no version documents are acted on like any other."""
    return _acts_on(facts, lambda item: UNKNOWN_FIELD in item, UNKNOWN_FIELD)


def _several(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 1


def tolerates_list_metadata(facts: Facts, _expectation: Expectation) -> Outcome:
    """Oppdateringer whose metadata lists several innsendinger or ftBIDs are acted on."""

    def listed(item: dict[str, Any]) -> bool:
        metadata = item.get("metadata") or {}
        return isinstance(metadata, dict) and (
            _several(metadata.get("innsendingReferanse")) or _several(metadata.get("ftBID"))
        )

    return _acts_on(facts, listed, "metadata listing several innsendinger")
