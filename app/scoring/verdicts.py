"""Verdicts: each expectation of a scenario judged against the run's exchanges, with evidence.

Decided: PASSED, FAILED, WARNING (a failed ``should``, or a failure listed as expected).
Undecided: PENDING (the run is live and the window that decides it is open), INCOMPLETE
(the run finished before a step it depends on fired) and SKIPPED (the run never gave the
client the chance). Every verdict names the exchanges that decided it and, when it failed,
the first divergence. The states are :data:`app.vocabulary.VERDICT_STATES`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from app.scenarios.model import Expectation, RequestMatcher
from app.scoring import checks
from app.scoring.delivery import refused, sent_since, undelivered
from app.scoring.evidence import Exchange, Facts, after, deadline
from app.scoring.outcome import Outcome
from app.scoring.progress import live, never_fired, step_status, unfired, waits_for
from app.vocabulary import PROTOCOL_CHECKS, VERDICT_STATES, fails
from app.wire.dates import iso

PASSED, FAILED, WARNING = "PASSED", "FAILED", "WARNING"
PENDING, INCOMPLETE, SKIPPED = "PENDING", "INCOMPLETE", "SKIPPED"
STATES = tuple(VERDICT_STATES)
MAX_EVIDENCE = 12
ALIAS = re.compile(r"\$\{innsending\.([a-z][a-z0-9_-]*)\}")
SAKSNUMMER = re.compile(r"\$\{saksnummer\.(saksaar|sakssekvensnummer)\}")
MANGEL_ID = "${mangelID}"
UTFALL_ID = "${utfallId}"


@dataclass
class Verdict:
    """The judgement on one expectation."""

    id: str
    title: str
    requirement: str | None
    severity: str
    weight: float
    status: str
    reason: str
    first_divergence: str | None = None
    evidence: list[int] = field(default_factory=list)
    expected_failure: bool = False
    optional: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form (result schema v1)."""
        return {
            "id": self.id,
            "title": self.title,
            "requirement": self.requirement,
            "severity": self.severity,
            "weight": self.weight,
            "status": self.status,
            "reason": self.reason,
            "firstDivergence": self.first_divergence,
            "evidence": self.evidence,
            "expectedFailure": self.expected_failure,
            "optional": self.optional,
        }


def judge(facts: Facts, expectation: Expectation) -> Verdict:
    """Judge one expectation of the scenario."""
    if expectation.check is not None:
        found = checks.CHECKS[expectation.check](facts, expectation)
        outcome = _check_outcome(facts, expectation.check, found)
    else:
        outcome = _request_outcome(facts, expectation)
    severity = expectation.severity
    if outcome.state is not None:
        status = outcome.state
    elif outcome.ok is None:
        status = SKIPPED
    elif outcome.ok:
        status = PASSED
    else:
        status = FAILED if fails(severity) else WARNING
    return Verdict(
        id=expectation.id,
        title=expectation.title or _default_title(expectation),
        requirement=expectation.requirement,
        severity=severity,
        weight=expectation.weight,
        status=status,
        reason=outcome.reason,
        first_divergence=outcome.first_divergence,
        evidence=outcome.evidence[:MAX_EVIDENCE],
        optional=expectation.optional,
    )


def _check_outcome(facts: Facts, name: str, found: Outcome) -> Outcome:
    """A check reads the whole run: it is decided only when the run is over.

    On a live run it is PENDING, unless it already failed in a way nothing later can undo;
    on a finished run where a step it needs never fired, what did not fail is INCOMPLETE.
    """
    definition = PROTOCOL_CHECKS[name]
    if live(facts):
        if found.ok is False and definition.fails_for_good:
            return found
        return replace(
            found,
            state=PENDING,
            reason=f"decided when the run finishes; so far: {found.reason}",
            first_divergence=None,
        )
    missing = unfired(facts, definition.needs)
    if found.ok is False or not missing:
        return found
    return replace(
        found,
        state=INCOMPLETE,
        reason=f"the run finished and {never_fired(facts, missing)}; so far: {found.reason}",
        first_divergence=None,
    )


def _default_title(expectation: Expectation) -> str:
    if expectation.check is not None:
        return PROTOCOL_CHECKS[expectation.check].title
    request = expectation.request
    return f"{request.method or 'any method'} {request.path or 'any path'}"


def _resolve(value: str, facts: Facts, exchange: Exchange) -> str | None:
    """Fill correlation variables for one exchange; None when they cannot be filled."""
    missing = False

    def alias(match: re.Match[str]) -> str:
        nonlocal missing
        ref = facts.aliases.get(match[1])
        if ref is None:
            missing = True
            return ""
        return ref

    value = ALIAS.sub(alias, value)
    if SAKSNUMMER.search(value):
        ref = exchange.reference()
        current = facts.saksnummer_at(ref, exchange.virtual_time) if ref else None
        if current is None:
            return None
        value = SAKSNUMMER.sub(lambda m: str(getattr(current, m[1])), value)
    return None if missing else value


def _mangel_ids(facts: Facts, exchange: Exchange, key: str = "mangelID") -> set[str]:
    """The mangelIDs (or every utfallId) sent for the exchange's innsending before it."""
    innsending = facts.sak.innsending(exchange.reference() or "")
    if innsending is None:
        return set()
    sent = {
        u.get(key)
        for _seq, refs, payload in facts.oppdateringer
        if innsending.innsendingReferanse in refs
        and str(payload.get("oppdatertDato", "")) <= iso(exchange.virtual_time)
        for u in payload.get("utfall") or []
    }
    return {m for m in sent if isinstance(m, str)}


# The older supplering body's paths, as scenario matchers may name them, in the canonical
# (Supplering v2) body every spelling is journalled in.
LEGACY_PATHS = (
    (
        re.compile(r"^mangelbesvarelse\.(\d+)\.mangelI[dD]$"),
        r"utfallBesvarelse.utfallSvar.\1.utfallId",
    ),
    (re.compile(r"^mangelbesvarelse\.(\d+)\."), r"utfallBesvarelse.utfallSvar.\1."),
    (re.compile(r"^mangelbesvarelse(\.|$)"), r"utfallBesvarelse.utfallSvar\1"),
    (re.compile(r"^ettersending(\.|$)"), r"ettersendinger.ettersending\1"),
)


def _lookup(body: Any, path: str) -> tuple[bool, Any]:
    for legacy, canonical in LEGACY_PATHS:
        if legacy.match(path):
            path = legacy.sub(canonical, path)
            break
    node = body
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False, None
    return True, node


def mismatch(
    facts: Facts,
    exchange: Exchange,
    request: RequestMatcher,
    since: Mapping[int, frozenset[str]] | None = None,
) -> str | None:
    """Why ``exchange`` does not match the ``request`` matcher (None when it matches).

    Only what did what the matcher names matches: not a request the API refused or a
    fault answered, nor a poll of oppdatering that delivered none of ``since`` (the
    oppdateringer sent since the expectation's ``after`` step; app.scoring.delivery).
    """
    if request.method is not None and exchange.method != request.method:
        return f"method {exchange.method}, not {request.method}"
    if request.path is not None and not fnmatch.fnmatchcase(exchange.path, request.path):
        return f"path {exchange.path}, not {request.path}"
    for name, wanted in request.query.items():
        got = exchange.query.get(name)
        if wanted == "*":
            if not got:
                return f"query {name} missing"
            continue
        expected = _resolve(str(wanted), facts, exchange)
        if got != expected:
            return f"query {name}={got!r}, expected {expected!r}"
    for path, wanted in request.body.items():
        present, got = _lookup(exchange.body, path)
        if wanted == "*":
            if not present or got in (None, "", [], {}):
                return f"body {path} missing or empty"
            continue
        if wanted in (MANGEL_ID, UTFALL_ID):
            key = "mangelID" if wanted == MANGEL_ID else "utfallId"
            if got not in _mangel_ids(facts, exchange, key):
                return f"body {path}={got!r}, not a {key} the kommune sent for this innsending"
            continue
        expected = _resolve(str(wanted), facts, exchange) if isinstance(wanted, str) else wanted
        if not present or (str(got) if isinstance(wanted, str) else got) != expected:
            return f"body {path}={got!r}, expected {expected!r}"
    why = refused(exchange)
    if why is None and since and undelivered(exchange, dict(since)):
        why = "answered, but delivered no oppdatering sent since the step"
    return why


def _unopened(facts: Facts, step: str) -> Outcome:
    """The verdict on an expectation whose ``after`` step has not fired."""
    if step_status(facts, step) == "failed":
        return Outcome(None, f"step '{step}' failed, so this was not exercised")
    why = waits_for(facts, step)
    if live(facts):
        return Outcome(
            None, f"waits for step '{step}', which has not fired yet ({why})", state=PENDING
        )
    return Outcome(
        None,
        f"the run finished before step '{step}' fired ({why}), so this was never exercised",
        state=INCOMPLETE,
    )


def _request_outcome(facts: Facts, expectation: Expectation) -> Outcome:
    step = expectation.after
    opened = after(facts, step)
    if opened is None:
        return _unopened(facts, str(step))
    closes = deadline(opened, expectation.within)
    request = expectation.request
    # A write sent again applied nothing: it is not a second request of the client's own.
    window = [e for e in facts.exchanges if e.virtual_time >= opened and e.replay_of is None]
    polls_used = False
    # How many exchanges each row stands for here: a folded row counts its repeats, and
    # the last poll within ``within_polls`` may end the window inside its repeats.
    weight: dict[int, int] = {e.id: e.repeats for e in window}
    if expectation.within_polls is not None:
        limit, seen = expectation.within_polls, 0
        for e in window:
            if not e.is_poll:
                continue
            if seen + e.repeats >= limit:
                polls_used, weight[e.id] = True, limit - seen
                window = [w for w in window if w.id <= e.id]
                break
            seen += e.repeats
    if closes is not None:
        window = [e for e in window if e.virtual_time <= closes]
    # Open: more exchanges may still count, so only an excess is already final.
    still_open = not polls_used and (closes is None or facts.now <= closes)
    since = sent_since(facts, opened) if step else {}
    matching = [e for e in window if mismatch(facts, e, request, since) is None]
    total = sum(weight[e.id] for e in matching)
    never = expectation.never
    exactly = expectation.exactly
    least = expectation.min if expectation.min is not None else 1
    low = 0 if never else (exactly if exactly is not None else least)
    high = 0 if never else (exactly if exactly is not None else expectation.max)
    where = f"after {step} ({iso(opened)})" if step else "in the run"
    if closes is not None:
        where += f" until {iso(closes)}"
    described = _describe(request)
    if high is not None and total > int(high):
        offender, running = matching[-1], 0
        for e in matching:
            running += weight[e.id]
            if running > int(high):
                offender = e
                break
        return Outcome(
            False,
            f"{total} × {described} {where}; at most {high} allowed",
            f"unexpected {offender.label} at {iso(offender.virtual_time)}",
            [e.id for e in matching],
        )
    found = f"{total} × {described} {where}"
    ids = [e.id for e in matching]
    if total < low:
        if still_open and (live(facts) or closes is not None):
            return _undecided(facts, f"{found}; expected at least {low}", closes, ids)
        near = _nearest_miss(facts, window, request, since)
        return Outcome(
            False,
            f"{found}; expected at least {low}",
            near or f"expected {described} {where}, but the client sent none",
            ids or ([] if near is None else [_nearest_id(facts, window, request, since)]),
        )
    if still_open and high is not None and live(facts):
        return _undecided(facts, found, closes, ids)
    return Outcome(True, found, None, ids)


def _undecided(facts: Facts, found: str, closes: datetime | None, ids: list[int]) -> Outcome:
    """A window still open when the verdict is read: PENDING while live, else INCOMPLETE."""
    until = f"until {iso(closes)}" if closes is not None else "until the run finishes"
    if live(facts):
        return Outcome(None, f"the window is open {until}; so far {found}", None, ids, PENDING)
    return Outcome(
        None,
        f"the run finished at {iso(facts.now)}, before its window closed ({until}); so far {found}",
        None,
        ids,
        INCOMPLETE,
    )


def _describe(request: RequestMatcher) -> str:
    return f"{request.method or '*'} {request.path or '*'}"


def _same_endpoint(exchange: Exchange, request: RequestMatcher) -> bool:
    return (request.method is None or exchange.method == request.method) and (
        request.path is None or fnmatch.fnmatchcase(exchange.path, request.path)
    )


def _nearest_miss(
    facts: Facts,
    window: list[Exchange],
    request: RequestMatcher,
    since: Mapping[int, frozenset[str]],
) -> str | None:
    for exchange in window:
        if _same_endpoint(exchange, request):
            why = mismatch(facts, exchange, request, since)
            if why is not None:
                return f"expected {_describe(request)} with matching values; got {exchange.label}: {why}"
    return None


def _nearest_id(
    facts: Facts,
    window: list[Exchange],
    request: RequestMatcher,
    since: Mapping[int, frozenset[str]],
) -> int:
    return next(
        e.id
        for e in window
        if _same_endpoint(e, request) and mismatch(facts, e, request, since) is not None
    )
