"""Reusable protocol checks any scenario may name with ``check:``; some run on every run.

Their names, titles, default severities and which run by default are in
:data:`app.vocabulary.PROTOCOL_CHECKS`; ``CHECKS`` below maps each name to its function (a
test keeps the two in step). This module judges how the client polls; the checks on what
it does with the content it was sent are in :mod:`app.scoring.content_checks`.

Each reads the run's exchanges and the kommune's side of the case and returns an outcome:
True (passed), False (failed, with the first divergence), or None (it did not apply: the
run never gave the client the chance, e.g. no 429 was ever sent; the reason says so).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from app.scenarios.model import Expectation
from app.scoring.content_checks import (
    downloads_documents,
    echoes_mangel_ids,
    outcome,
    tolerates_list_metadata,
    tolerates_unknown_fields,
    uses_current_saksnummer,
)
from app.scoring.delivery import OPPDATERING, oppdatering_answers, sequence_numbers
from app.scoring.evidence import Exchange, Facts
from app.scoring.first_told import used_before_fetched
from app.scoring.outcome import Outcome
from app.scoring.utfall_checks import answers_every_utfall, follow_up_uses_current_saksnummer
from app.wire.dates import iso

POLL_GAP_SHARE = 0.5
RETRY_SLACK = 0.9  # a client may come back a little early: clocks and timers are not exact
REFUSED = (429, 503)
_outcome = outcome


def polls_sanely(facts: Facts, _expectation: Expectation) -> Outcome:
    """Between two polls (GET or HEAD) of the same API and reference, in the order the
    client sent them, at least half the agreed interval passes.

    The gap runs from the end of one answer to the start of the next request, so a slow
    server does not make a client look patient; a client that keeps the agreed interval
    from one request's start to the next is sane too, however long the answers took (a
    scheduler's client, under a ``slow`` fault). Polls right after a 429 or 503 are
    judged by ``backs_off`` instead.
    """
    # In the order the client sent them: an answer that came back late (a slow one)
    # is journalled after a poll sent later, which is no poll sent too soon.
    polls = sorted((e for e in facts.exchanges if e.asks_poll_api), key=lambda e: (e.started, e.id))
    if not polls:
        return _outcome(None, "the client never polled, so this did not apply")
    minimum = facts.poll_interval * POLL_GAP_SHARE
    schedule = facts.poll_interval * RETRY_SLACK  # start to start: timers are not exact
    previous: dict[tuple[str, str | None], Exchange] = {}
    shortest: float | None = None
    closest: list[int] = [polls[0].id]
    for exchange in polls:
        key = (exchange.path, exchange.reference())
        before = previous.get(key)
        previous[key] = exchange
        if exchange.repeats > 1 and exchange.min_gap is not None:
            # Folded repeats of one poll: the shortest pause between two of them.
            if exchange.min_gap < minimum:
                return _outcome(
                    False,
                    f"polled {exchange.path} for {key[1]} again after {exchange.min_gap * 1000:.0f} ms",
                    f"expected at least {minimum * 1000:.0f} ms between polls of the same API and "
                    f"reference (agreed interval {facts.poll_interval:g} s); exchange "
                    f"{exchange.id}, repeated {exchange.repeats} times, came as little as "
                    f"{exchange.min_gap * 1000:.0f} ms after itself",
                    [exchange.id],
                )
            if shortest is None or exchange.min_gap < shortest:
                shortest, closest = exchange.min_gap, [exchange.id]
        if before is None or before.status in (429, 503):
            continue
        gap = (exchange.started - before.ended).total_seconds()
        # A folded row knows only when its first repeat started: start to start is read
        # from single exchanges alone (a slow, faulted answer never folds).
        since_start = (exchange.started - before.started).total_seconds()
        on_schedule = before.repeats == 1 and since_start >= schedule
        if shortest is None or gap < shortest:
            shortest, closest = gap, [before.id, exchange.id]
        if gap < minimum and not on_schedule:
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
        f"{sum(p.repeats for p in polls)} polls; shortest gap {shortest_ms} "
        f"(minimum {minimum * 1000:.0f} ms)",
        None,
        closest,
    )


def _same_request(a: Exchange, b: Exchange) -> bool:
    return a.method == b.method and a.path == b.path and a.query == b.query


def backs_off(facts: Facts, _expectation: Expectation) -> Outcome:
    """After a 429 or 503 the next request to that path waits Retry-After; after a 404 the
    same request waits at least half the agreed poll interval."""
    # Refusals with Retry-After first: ignoring one says more than hurrying after a 404.
    told = sorted(
        (e for e in facts.exchanges if e.status in (*REFUSED, 404)),
        key=lambda e: (e.status == 404, e.id),
    )
    if not told:
        return _outcome(None, "the sandbox never answered 429, 503 or 404, so this did not apply")
    judged: list[int] = []
    for refusal in told:
        if refusal.status == 404:
            told_wait = facts.poll_interval * POLL_GAP_SHARE
            need, said = told_wait, f"after a 404 the agreed pace holds ({told_wait:g} s)"
            later = [e for e in facts.exchanges if e.id > refusal.id and _same_request(e, refusal)]
            waited = (later[0].started - refusal.real_time).total_seconds() if later else 0.0
        else:
            told_wait = float(refusal.response_headers.get("Retry-After", "0") or 0)
            need, said = told_wait * RETRY_SLACK, f"Retry-After said {told_wait:g} s"
            later = [e for e in facts.exchanges if e.id > refusal.id and e.path == refusal.path]
            waited = (later[0].real_time - refusal.real_time).total_seconds() if later else 0.0
        if not later:
            continue
        judged += [refusal.id, later[0].id]
        if waited < need:
            return _outcome(
                False,
                f"came back after {waited:.2f} s; {said}",
                f"expected the next {later[0].method} {refusal.path} at least {told_wait:g} s after "
                f"exchange {refusal.id} ({refusal.status}); got it after {waited:.2f} s",
                [refusal.id, later[0].id],
            )
    if not judged:
        return _outcome(
            None,
            f"the client never came back after any of {len(told)} refusals, so this did not apply",
            None,
            [e.id for e in told][:3],
        )
    return _outcome(
        True,
        f"waited as told after all {len(judged) // 2} refusals it came back from",
        None,
        judged[:12],
    )


def _cursor_skip(facts: Facts) -> Outcome | None:
    """The first poll whose ``etter`` jumped over an oppdatering the client had not received."""
    delivered: dict[str, set[int]] = defaultdict(set)
    for exchange in oppdatering_answers(facts):
        ref = exchange.reference() or ""
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
        delivered[ref] |= sequence_numbers(exchange)
    return None


def uses_cursor(facts: Facts, _expectation: Expectation) -> Outcome:
    """Once it has oppdateringer for a reference, the client asks only for newer ones
    (``etter=`` at least the first it received), and never jumps over one."""
    skipped = _cursor_skip(facts)
    if skipped is not None:
        return skipped
    first: dict[str, tuple[int, Exchange]] = {}
    asked: list[int] = []
    for exchange in [e for e in facts.exchanges if e.method == "GET" and e.path == OPPDATERING]:
        ref = exchange.reference() or ""
        if ref in first:
            lowest, delivery = first[ref]
            cursor = exchange.query.get("etter")
            if cursor is None or not cursor.isdigit() or int(cursor) < lowest:
                return _outcome(
                    False,
                    f"asked for every oppdatering of {ref} again",
                    f"expected etter={lowest} or later once oppdatering {lowest} had reached the "
                    f"client (exchange {delivery.id}); exchange {exchange.id} asked with "
                    + (f"etter={cursor}" if cursor is not None else "no etter"),
                    [delivery.id, exchange.id],
                )
            asked.append(exchange.id)
        numbers = sequence_numbers(exchange) if exchange.status == 200 else set()
        if numbers and ref not in first:
            first[ref] = (min(numbers), exchange)
    if not first:
        return _outcome(None, "no oppdatering reached the client, so there was no cursor to use")
    if not asked:
        return _outcome(
            None,
            "the client never asked again after its first oppdateringer, so this did not apply",
            None,
            [d.id for _, d in first.values()],
        )
    return _outcome(True, f"{len(asked)} later polls all asked with the cursor", None, asked[-3:])


def picks_up_all_oppdateringer(facts: Facts, _expectation: Expectation) -> Outcome:
    """Every oppdatering for every reference reached the client, and no cursor skipped one."""
    if not facts.oppdateringer:
        return _outcome(None, "the kommune sent no oppdatering")
    skipped = _cursor_skip(facts)
    if skipped is not None:
        return skipped
    delivered: dict[str, set[int]] = defaultdict(set)
    evidence: list[int] = []
    for exchange in oppdatering_answers(facts):
        if isinstance(exchange.response_body, list):
            delivered[exchange.reference() or ""] |= sequence_numbers(exchange)
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
    early = used_before_fetched(facts)
    if early is not None:
        exchange, told, seq, ref = early
        return _outcome(
            False,
            f"acted on oppdatering {seq} before it fetched it",
            f"expected oppdatering {seq} for {ref} to reach the client before it used what it "
            f"carries; exchange {exchange.id} ({exchange.label}) used {told} first, so the client "
            "read it elsewhere (the status view is no substitute for the oppdateringer)",
            [exchange.id],
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


CHECKS: dict[str, Callable[[Facts, Expectation], Outcome]] = {
    "polls_sanely": polls_sanely,
    "backs_off": backs_off,
    "uses_cursor": uses_cursor,
    "picks_up_all_oppdateringer": picks_up_all_oppdateringer,
    "uses_current_saksnummer": uses_current_saksnummer,
    "echoes_mangel_ids": echoes_mangel_ids,
    "answers_every_utfall": answers_every_utfall,
    "follow_up_uses_current_saksnummer": follow_up_uses_current_saksnummer,
    "downloads_documents": downloads_documents,
    "tolerates_unknown_fields": tolerates_unknown_fields,
    "tolerates_list_metadata": tolerates_list_metadata,
}
