"""Reusable protocol checks any scenario may name with ``check:``.

Their names and titles are in :data:`app.vocabulary.PROTOCOL_CHECKS`; ``CHECKS`` below
maps each name to its function (a test keeps the two in step).

Each reads the run's exchanges and the kommune's side of the case and returns an outcome:
True (passed), False (failed, with the first divergence), or None (not exercised: the run
never gave the client the chance, e.g. no mangel was sent).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from app.engine.clock import aware
from app.scoring.evidence import Exchange, Facts
from app.scoring.outcome import Outcome
from app.wire.dates import iso

POLL_GAP_SHARE = 0.5
RETRY_SLACK = 0.9  # a client may come back a little early: clocks and timers are not exact


def _outcome(
    ok: bool | None, reason: str, divergence: str | None = None, evidence: list[int] | None = None
) -> Outcome:
    return Outcome(ok, reason, divergence, evidence or [])


def polls_sanely(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """Between two polls of the same API and reference, at least half the agreed interval passes.

    The gap runs from the end of one answer to the start of the next request, so a slow
    server does not make a client look patient; polls right after a 429 or 503 are judged
    by ``backs_off`` instead.
    """
    polls = [e for e in facts.exchanges if e.is_poll]
    if not polls:
        return _outcome(None, "the client never polled")
    minimum = facts.poll_interval * POLL_GAP_SHARE
    previous: dict[tuple[str, str | None], Exchange] = {}
    shortest: float | None = None
    closest: list[int] = [polls[0].id]
    for exchange in polls:
        key = (exchange.path, exchange.reference())
        before = previous.get(key)
        previous[key] = exchange
        if before is None or before.status in (429, 503):
            continue
        gap = (exchange.started - before.real_time).total_seconds()
        if shortest is None or gap < shortest:
            shortest, closest = gap, [before.id, exchange.id]
        if gap < minimum:
            return _outcome(
                False,
                f"polled {exchange.path} for {key[1]} again after {gap * 1000:.0f} ms",
                f"expected at least {minimum * 1000:.0f} ms between polls of the same API and "
                f"reference (agreed interval {facts.poll_interval:g} s); exchange {exchange.id} "
                f"came {gap * 1000:.0f} ms after exchange {before.id}",
                [before.id, exchange.id],
            )
    shortest_ms = f"{shortest * 1000:.0f} ms" if shortest is not None else "n/a"
    return _outcome(
        True,
        f"{len(polls)} polls; shortest gap {shortest_ms} (minimum {minimum * 1000:.0f} ms)",
        None,
        closest,
    )


def backs_off(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """After a 429 or 503 with Retry-After, the next request to that path waits that long."""
    told = [e for e in facts.exchanges if e.status in (429, 503)]
    if not told:
        return _outcome(None, "the sandbox never answered 429 or 503")
    for refusal in told:
        wait = float(refusal.response_headers.get("Retry-After", "0") or 0)
        later = [e for e in facts.exchanges if e.id > refusal.id and e.path == refusal.path]
        if not later:
            continue
        waited = (later[0].real_time - refusal.real_time).total_seconds()
        if waited < wait * RETRY_SLACK:
            return _outcome(
                False,
                f"came back after {waited:.2f} s; Retry-After said {wait:g} s",
                f"expected the next {refusal.method} {refusal.path} at least {wait:g} s after "
                f"exchange {refusal.id} ({refusal.status}); got it after {waited:.2f} s",
                [refusal.id, later[0].id],
            )
    return _outcome(
        True, f"waited as told after all {len(told)} refusals", None, [e.id for e in told]
    )


def picks_up_all_oppdateringer(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """Every oppdatering for every reference reached the client, and no cursor skipped one."""
    if not facts.oppdateringer:
        return _outcome(None, "the kommune sent no oppdatering")
    delivered: dict[str, set[int]] = defaultdict(set)
    evidence: list[int] = []
    for exchange in facts.exchanges:
        if (
            exchange.method != "GET"
            or exchange.path != "/api/v1/oppdatering"
            or exchange.status != 200
        ):
            continue
        ref = exchange.reference()
        if ref is None:
            continue
        cursor = exchange.query.get("etter", "0")
        if cursor.isdigit():
            skipped = [
                seq
                for seq, refs, _payload in facts.oppdateringer
                if ref in refs
                and seq <= int(cursor)
                and seq not in delivered[ref]
                and seq_sent_before(facts, seq, exchange)
            ]
            if skipped:
                return _outcome(
                    False,
                    f"asked for oppdateringer after {cursor} for {ref} without having received {skipped}",
                    f"expected the cursor to follow what was received; exchange {exchange.id} "
                    f"used etter={cursor} but sekvensnummer {skipped[0]} never reached the client",
                    [exchange.id],
                )
        if isinstance(exchange.response_body, list):
            for item in exchange.response_body:
                if isinstance(item, dict) and str(item.get("sekvensnummer", "")).isdigit():
                    delivered[ref].add(int(item["sekvensnummer"]))
            evidence.append(exchange.id)
    missing = [
        (seq, ref)
        for seq, refs, _payload in facts.oppdateringer
        for ref in refs
        if seq not in delivered[ref]
    ]
    if missing:
        seq, ref = missing[0]
        return _outcome(
            False,
            f"{len(missing)} oppdatering(er) never fetched",
            f"expected oppdatering {seq} for {ref} to be fetched; the client never received it",
            evidence[-3:],
        )
    return _outcome(
        True, f"all {len(facts.oppdateringer)} oppdateringer fetched", None, evidence[-3:]
    )


def seq_sent_before(facts: Facts, seq: int, exchange: Exchange) -> bool:
    """True when oppdatering ``seq`` existed (virtually) before ``exchange``."""
    for number, _refs, payload in facts.oppdateringer:
        if number == seq:
            return str(payload.get("oppdatertDato", "")) <= iso(exchange.virtual_time)
    return False


def _suppleringer(facts: Facts) -> list[Exchange]:
    return [
        e
        for e in facts.exchanges
        if e.method == "POST"
        and e.path == "/api/v1/supplering"
        and e.status == 201
        and isinstance(e.body, dict)
    ]


def uses_current_saksnummer(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """Every mangelbesvarelse carries the case's saksnummer as it stood when it was sent."""
    answers = [e for e in _suppleringer(facts) if e.body.get("mangelbesvarelse")]
    if not answers:
        return _outcome(None, "the client sent no mangelbesvarelse")
    for exchange in answers:
        ref = exchange.reference()
        current = facts.saksnummer_at(ref, exchange.virtual_time) if ref else None
        sent = exchange.body.get("kommunensSaksnummer") or {}
        got = f"{sent.get('saksaar')}/{sent.get('sakssekvensnummer')}"
        if current is not None and got != current.label:
            what = ""
            kvittering = facts.kvitteringer.get(ref or "")
            if (
                kvittering
                and got
                == f"{kvittering['saksnummer']['saksaar']}/{kvittering['saksnummer']['sakssekvensnummer']}"
            ):
                what = " (the kvittering's"
                innsending = facts.sak.innsending(ref or "")
                history = innsending.saksnummerHistorikk if innsending else []
                what += (
                    ", the fordelingssak)"
                    if history and history[0].typeOppdatering == "endring"
                    else ")"
                )
            return _outcome(
                False,
                f"supplering {exchange.id} used saksnummer {got}",
                f"expected supplering with saksnummer {current.label}, got {got}{what}",
                [exchange.id],
            )
    return _outcome(
        True,
        f"all {len(answers)} answers used the current saksnummer",
        None,
        [e.id for e in answers],
    )


def echoes_mangel_ids(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """Every mangel is answered with its mangelID, before its svarfrist, and no unknown id is sent."""
    mangler = [m for i in facts.sak.innsendinger for m in i.mangler]
    if not mangler:
        return _outcome(None, "the kommune sent no mangel")
    answered: dict[str, Exchange] = {}
    sent_ids: list[tuple[str, Exchange]] = []
    for exchange in [
        e
        for e in facts.exchanges
        if e.method == "POST" and e.path == "/api/v1/supplering" and isinstance(e.body, dict)
    ]:
        for item in exchange.body.get("mangelbesvarelse") or []:
            if isinstance(item, dict):
                mangel_id = item.get("mangelID")
                if isinstance(mangel_id, str):
                    sent_ids.append((mangel_id, exchange))
                    if exchange.status == 201:
                        answered.setdefault(mangel_id, exchange)
    known = {m.mangelID for m in mangler}
    for mangel_id, exchange in sent_ids:
        if mangel_id not in known:
            return _outcome(
                False,
                f"sent unknown mangelID {mangel_id}",
                f"expected one of the kommune's mangelIDs; got '{mangel_id}' in exchange {exchange.id}",
                [exchange.id],
            )
    for mangel in mangler:
        answer = answered.get(mangel.mangelID)
        svarfrist = aware(mangel.svarfrist)
        if answer is None:
            return _outcome(
                False,
                f"mangel {mangel.mangelID} ({mangel.tittel}) was never answered",
                f"expected a supplering echoing mangelID {mangel.mangelID} before {iso(svarfrist)}; none came",
                [e.id for _, e in sent_ids][:3],
            )
        if answer.virtual_time > svarfrist:
            return _outcome(
                False,
                f"mangel {mangel.mangelID} answered after its svarfrist",
                f"expected the answer before {iso(svarfrist)}; got it {iso(answer.virtual_time)} (exchange {answer.id})",
                [answer.id],
            )
    return _outcome(
        True,
        f"all {len(mangler)} mangler answered in time with their mangelID",
        None,
        sorted({e.id for e in answered.values()}),
    )


def downloads_documents(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """Every outgoing document is downloaded before it expires."""
    if not facts.documents:
        return _outcome(None, "the kommune published no document")
    downloads: dict[str, Exchange] = {}
    for exchange in facts.exchanges:
        if (
            exchange.method == "GET"
            and exchange.path.startswith("/api/v1/dokument/")
            and exchange.status == 200
        ):
            downloads.setdefault(exchange.path.rsplit("/", 1)[1], exchange)
    for document in sorted(facts.documents, key=lambda d: d.created_virtual):
        got = downloads.get(document.dokument_id)
        if got is None or got.virtual_time >= aware(document.expires_virtual):
            return _outcome(
                False,
                f"'{document.tittel}' was not downloaded in time",
                f"expected GET /api/v1/dokument/{document.dokument_id} ('{document.tittel}') before "
                f"{iso(aware(document.expires_virtual))}; "
                + (
                    "the client never fetched it"
                    if got is None
                    else f"it came {iso(got.virtual_time)}"
                ),
            )
    return _outcome(
        True,
        f"all {len(facts.documents)} documents downloaded in time",
        None,
        sorted(e.id for e in downloads.values()),
    )


def tolerates_unknown_fields(facts: Facts, _expectation: dict[str, Any]) -> Outcome:
    """After receiving a field it does not know, the client keeps going."""
    carrying = [
        e
        for e in facts.exchanges
        if e.status == 200
        and isinstance(e.response_body, list)
        and any(isinstance(i, dict) and "nyttFeltFraDiBK" in i for i in e.response_body)
    ]
    if not carrying:
        return _outcome(None, "no response carried an unknown field")
    first = carrying[0]
    later = [e for e in facts.exchanges if e.id > first.id]
    if not later:
        return _outcome(
            False,
            "the client went silent after an oppdatering with an unknown field",
            f"expected the client to keep polling after exchange {first.id} (it carried "
            "nyttFeltFraDiBK); it sent nothing more",
            [first.id],
        )
    return _outcome(
        True,
        f"kept going after {len(carrying)} responses with an unknown field",
        None,
        [first.id, later[0].id],
    )


CHECKS: dict[str, Callable[[Facts, dict[str, Any]], Outcome]] = {
    "polls_sanely": polls_sanely,
    "backs_off": backs_off,
    "picks_up_all_oppdateringer": picks_up_all_oppdateringer,
    "uses_current_saksnummer": uses_current_saksnummer,
    "echoes_mangel_ids": echoes_mangel_ids,
    "downloads_documents": downloads_documents,
    "tolerates_unknown_fields": tolerates_unknown_fields,
}
