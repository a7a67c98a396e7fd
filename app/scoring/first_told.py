"""What the client learned from an oppdatering, and whether it used it before it had it.

A mangel's id, an outcome's utfallId and a letter's dokumentId first reach a søknadssystem
in an oppdatering. A client that answers that mangel or downloads that letter before any
answer delivered the oppdatering to it read them elsewhere, from the status view, which
is no substitute for the oppdateringer (docs/wire-contract.md). One that fetches every
oppdatering once, at the end, would otherwise pass ``picks_up_all_oppdateringer``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from app.scoring.content_checks import answers_in
from app.scoring.delivery import oppdatering_answers, sequence_numbers
from app.scoring.evidence import Exchange, Facts
from app.scoring.utfall_checks import ANSWERING

TOLD = ("mangelID", "utfallId", "dokumentId")
DOKUMENT = "/api/v1/dokument/"


def _told(node: Any, found: set[str]) -> set[str]:
    """Every id under ``node`` that a client learns from it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TOLD and isinstance(value, str):
                found.add(value)
            else:
                _told(value, found)
    elif isinstance(node, list):
        for item in node:
            _told(item, found)
    return found


def _used(exchange: Exchange) -> list[str]:
    """The ids the client's request names: the outcomes it answers, the letter it fetches."""
    if exchange.method == "POST" and exchange.path in ANSWERING:
        return [svar["utfallId"] for svar in answers_in(exchange.body)]
    if exchange.method in ("GET", "HEAD") and exchange.path.startswith(DOKUMENT):
        return [exchange.path[len(DOKUMENT) :]]
    return []


def used_before_fetched(facts: Facts) -> tuple[Exchange, str, int, str] | None:
    """The first exchange that used an id before any answer had delivered the oppdatering
    that first carried it: the exchange, the id, that oppdatering's sekvensnummer and
    reference. An answer the journal could not keep whole (over its body cap) is taken
    to have delivered everything sent to its reference."""
    first: dict[str, tuple[int, frozenset[str]]] = {}
    for seq, refs, payload in sorted(facts.oppdateringer, key=lambda o: o[0]):
        for told in _told(payload, set()):
            first.setdefault(told, (seq, frozenset(refs)))
    answers = {e.id for e in oppdatering_answers(facts)}
    delivered: dict[str, set[int]] = defaultdict(set)
    unreadable: set[str] = set()
    for exchange in facts.exchanges:  # in the order they were answered
        if exchange.id in answers:
            ref = exchange.reference() or ""
            if isinstance(exchange.response_body, list):
                delivered[ref] |= sequence_numbers(exchange)
            else:
                unreadable.add(ref)
            continue
        for used in _used(exchange):
            if used not in first:
                continue
            seq, concerned = first[used]
            if concerned & unreadable or any(seq in delivered[ref] for ref in concerned):
                continue
            return exchange, used, seq, sorted(concerned)[0]
    return None
