"""Every fixed list of words the sandbox uses, in one place that everything else reads.

Clock modes, client actions (and which count as a poll), the simulated APIs a fault may
hit, fault kinds, protocol checks, verdict states, event kinds and severities. The
scenario JSON Schema, lint, the engine, scoring and the UI take their lists from here; the
tests check that the code implementing each word (event classes and input schemas, fault
implementations, check functions, the journal's action mapping) covers exactly these
words (``app.vocabulary_audit``). Plain data: it imports nothing of the app but its own part,
``app.vocabulary_verdicts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

# Verdict states and severities live in their own module; re-exported here.
from app.vocabulary_verdicts import DEFAULT_SEVERITY as DEFAULT_SEVERITY
from app.vocabulary_verdicts import SEVERITIES as SEVERITIES
from app.vocabulary_verdicts import VERDICT_STATES as VERDICT_STATES
from app.vocabulary_verdicts import SeverityDef as SeverityDef
from app.vocabulary_verdicts import VerdictStateDef as VerdictStateDef
from app.vocabulary_verdicts import fails as fails


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def _by_name(*entries: N) -> dict[str, N]:
    return {entry.name: entry for entry in entries}


# ---- clock modes ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockModeDef:
    """A way a run's virtual clock moves."""

    name: str
    factor: float  # virtual seconds per real second (accelerated: the default)
    description: str
    label: str  # in the UI's start form


CLOCK_MODES = _by_name(
    ClockModeDef("realtime", 1.0, "moves with the wall clock; for staging soaks", "sanntid"),
    ClockModeDef(
        "manual",
        0.0,
        "moves only when told (…/clock, …/next); for CI",
        "manuell — flyttes bare når du ber om det",
    ),
    ClockModeDef(
        "accelerated",
        86_400.0,
        "`factor` virtual seconds per real second (default: a day a second); for demos",
        "akselerert — et døgn per sekund",
    ),
    ClockModeDef(
        "on_poll",
        0.0,
        "moves `step` on every client request; the case progresses as the client polls",
        "ett steg per forespørsel",
    ),
)
ClockModeName = Literal["realtime", "manual", "accelerated", "on_poll"]
DEFAULT_CLOCK_MODE = "realtime"
# The UI's start form, first one preselected; on_poll needs a step the form does not ask for.
FORM_CLOCK_MODES = ("manual", "accelerated", "realtime", "on_poll")


def form_clock_modes() -> dict[str, str]:
    """The clock modes the UI offers, each with its label."""
    return {name: CLOCK_MODES[name].label for name in FORM_CLOCK_MODES}


# ---- the simulated API and what a client does on it ---------------------------------------

APIS = ("kvittering", "oppdatering", "status", "dokument", "innsending", "supplering")
ANY_API = "*"
FAULT_APIS = (*APIS, ANY_API)


@dataclass(frozen=True)
class ClientActionDef:
    """A successful exchange that scenario triggers count (stored in the journal)."""

    name: str
    method: str
    path: str  # a trailing ``{…}`` part matches any rest of the path
    status: int
    summary: str
    poll: bool = False  # any GET on its path counts as a poll, whatever the answer
    # An event kind without which this action cannot happen, and what lint then says.
    needs_event: tuple[str, str] | None = None
    # A kind of that other action its endpoint tells by the outcome; it counts as that too.
    refines: str | None = None

    @property
    def api(self) -> str:
        """The simulated API it is made on (``kvittering`` for /api/v1/kvittering)."""
        return self.path.split("/")[3]

    @property
    def prefix(self) -> str | None:
        """For a path with a ``{…}`` part: what every matching path starts with."""
        return self.path.partition("{")[0] if "{" in self.path else None

    @property
    def description(self) -> str:
        """What it means, with the exchange it stands for."""
        return f"{self.summary} ({self.method} {self.path} answered {self.status})"


CLIENT_ACTIONS = _by_name(
    ClientActionDef(
        "innsending", "POST", "/api/v1/innsending", 201, "the client submitted a søknad"
    ),
    ClientActionDef(
        "kvittering_hentet",
        "GET",
        "/api/v1/kvittering",
        200,
        "the client fetched a kvittering",
        poll=True,
        needs_event=("journalfor", "no step journalfører, so a kvittering can never be fetched"),
    ),
    ClientActionDef(
        "oppdatering_hentet",
        "GET",
        "/api/v1/oppdatering",
        200,
        "the client fetched oppdateringer",
        poll=True,
    ),
    ClientActionDef(
        "status_hentet", "GET", "/api/v1/status", 200, "the client fetched the status", poll=True
    ),
    ClientActionDef(
        "dokument_hentet", "GET", "/api/v1/dokument/{id}", 200, "the client downloaded a document"
    ),
    ClientActionDef(
        "supplering_sendt",
        "POST",
        "/api/v1/supplering",
        201,
        "the client sent a supplering, any: answers to some mangler, an ettersending",
    ),
    ClientActionDef(
        "supplering_mottatt",
        "POST",
        "/api/v1/supplering",
        201,
        "the client's supplering made the søknad complete, leaving no mangel awaited",
        needs_event=("mangel", "no step sends a mangel, so no supplering can answer one"),
        refines="supplering_sendt",
    ),
)
# The query names of the simulated API, in DiBK's spelling. A client's other casing
# (`InnsendingReferanse=`, `ETTER=`) binds to them, as ASP.NET binds query names
# (sandbox assumption: DiBK's routes look like ASP.NET's).
QUERY_NAMES = ("innsendingReferanse", "etter")
POLL = "poll"
POLL_PATHS = tuple(a.path for a in CLIENT_ACTIONS.values() if a.poll)
_POLLED = [a.api for a in CLIENT_ACTIONS.values() if a.poll]
POLL_DESCRIPTION = (
    f"any GET on {', '.join(_POLLED[:-1])} or {_POLLED[-1]}, whatever the answer"
    if len(_POLLED) > 1
    else f"any GET on {''.join(_POLLED)}, whatever the answer"
)
# What a trigger's ``on`` may name: every client action, and any poll.
TRIGGER_ACTIONS = {
    **{name: action.description for name, action in CLIENT_ACTIONS.items()},
    POLL: POLL_DESCRIPTION,
}
_PLAIN = [a for a in CLIENT_ACTIONS.values() if a.refines is None]
_EXACT = {(a.method, a.path, a.status): a.name for a in _PLAIN if a.prefix is None}
_PREFIXED = [(a.method, a.prefix, a.status, a.name) for a in _PLAIN if a.prefix is not None]


def client_action(method: str, path: str, status: int) -> str | None:
    """The client action a successful exchange stands for (scenario triggers count these)."""
    found = _EXACT.get((method, path, status))
    if found is None:
        for m, prefix, s, name in _PREFIXED:
            if method == m and status == s and path.startswith(prefix):
                return name
    return found


def refined_action(base: str | None, outcome: str | None) -> str | None:
    """``outcome`` when it is a kind of the client action ``base``, else ``base``."""
    found = CLIENT_ACTIONS.get(outcome or "")
    return outcome if found is not None and base is not None and found.refines == base else base


def counted_as(action: str) -> tuple[str, ...]:
    """The journal actions a trigger ``on: action`` counts: it and every kind of it."""
    return (action, *(a.name for a in CLIENT_ACTIONS.values() if a.refines == action))


# ---- faults -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultKindDef:
    """A way a scenario makes the simulated API misbehave."""

    name: str
    description: str
    needs: tuple[str, ...] = ()  # keys a fault of this kind must give
    only_api: str | None = None  # strikes only requests on this API


FAULT_KINDS = _by_name(
    FaultKindDef(
        "status",
        "answer with an error status instead (429, 500 or 503), with Retry-After",
        ("status",),
    ),
    FaultKindDef("slow", "answer after delay_ms milliseconds of real time", ("delay_ms",)),
    FaultKindDef(
        "duplicate",
        "deliver the oppdatering of `step` twice in the list",
        ("step",),
        "oppdatering",
    ),
    FaultKindDef(
        "out_of_order",
        "hide the oppdatering of `step` until `duration` after it was sent",
        ("step", "duration"),
        "oppdatering",
    ),
    FaultKindDef(
        "document_gone",
        "documents answer 410 once `duration` has passed, not 30 days",
        ("duration",),
    ),
    FaultKindDef(
        "unknown_field",
        "add a field DiBK might introduce later to every oppdatering",
        (),
        "oppdatering",
    ),
)


# ---- expectations -------------------------------------------------------------------------


EVERY_EVENT = "*"
LETTER_EVENTS = ("mangel", "vedtak", "endre_soknadstype", "publiser_dokument")


@dataclass(frozen=True)
class CheckDef:
    """A reusable protocol check an expectation names with ``check:``."""

    name: str
    title: str  # the verdict's title when the expectation gives none
    requirement: str  # the rule it checks, for the verdict of its default run
    # Event kinds whose steps must have fired before the check is complete; EVERY_EVENT: all.
    needs: tuple[str, ...] = ()
    # A failure seen on a live run cannot be undone by anything the run does later.
    fails_for_good: bool = False
    # Run on every run unless the scenario turns it off (``checks:``), with this severity.
    default: bool = False
    severity: str = "must"


PROTOCOL_CHECKS = _by_name(
    CheckDef(
        "polls_sanely",
        "Polls no faster than agreed",
        "SANDBOX-POLLING",
        fails_for_good=True,
        default=True,
    ),
    CheckDef(
        "backs_off",
        "Backs off after 429/503 (Retry-After) and 404",
        "HTTP-RETRY-AFTER",
        fails_for_good=True,
        default=True,
    ),
    CheckDef(
        "uses_cursor",
        "Asks for new oppdateringer with the etter cursor",
        "DIBK-OPPDATERING-ETTER",
        default=True,
        severity="should",
    ),
    CheckDef(
        "picks_up_all_oppdateringer",
        "Picks up every oppdatering",
        "DIBK-OPPDATERING-ALLE",
        needs=(EVERY_EVENT,),
    ),
    CheckDef(
        "uses_current_saksnummer",
        "Uses the current saksnummer",
        "DIBK-SUPPLERING-KOMMUNENS-SAKSNUMMER",
        needs=("mangel", "endre_saksnummer"),
        fails_for_good=True,
    ),
    CheckDef(
        "echoes_mangel_ids",
        "Echoes every mangelID before the svarfrist",
        "DIBK-SUPPLERING-MANGELID",
        needs=("mangel",),
    ),
    CheckDef(
        "answers_every_utfall",
        "Answers every mangel, vilkår and oppfølgingspunkt by its utfallId",
        "DIBK-UTFALLSVAR-UTFALLID",
        needs=("mangel", "vedtak"),
    ),
    CheckDef(
        "follow_up_uses_current_saksnummer",
        "Sends a follow-up søknad with the case's current kommunensSaksnummer",
        "DIBK-OPPFOLGING-KOMMUNENS-SAKSNUMMER",
        fails_for_good=True,
    ),
    CheckDef(
        "downloads_documents",
        "Downloads outgoing documents before they expire",
        "DIBK-DOKUMENT-30-DAGER",
        needs=LETTER_EVENTS,
        default=True,
    ),
    CheckDef(
        "tolerates_unknown_fields",
        "Acts on oppdateringer that carry fields it does not know",
        "DIBK-UKJENTE-FELT",
        default=True,
    ),
    CheckDef(
        "tolerates_list_metadata",
        "Acts on oppdateringer whose metadata lists several innsendinger",
        "DIBK-METADATA-LISTER",
        default=True,
    ),
)
DEFAULT_CHECKS = tuple(name for name, check in PROTOCOL_CHECKS.items() if check.default)


# ---- kommune events -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventKindDef:
    """A kommune event: a class in app.domain.events and a schema in app.wire.inputs."""

    name: str
    description: str


EVENT_KINDS = _by_name(
    EventKindDef("journalfor", "register the innsending and issue the kvittering (once)"),
    EventKindDef("endre_saksnummer", "change the saksnummer: endring, samling or splitting"),
    EventKindDef("tildel_saksbehandler", "assign or change the caseworker"),
    EventKindDef(
        "sett_frist", "set the saksbehandlingsfrist to a date, or start it for a number of weeks"
    ),
    EventKindDef("endre_soknadstype", "change søknadstype and/or tiltakstyper"),
    EventKindDef("mangel", "a mangelbrev with one or more deficiencies (milepæl MB)"),
    EventKindDef("supplering", "receive a supplering on the client's behalf"),
    EventKindDef("komplett", "register the søknad as complete (milepæl KS)"),
    EventKindDef("vedtak", "decide: innvilget, avslag or avvisning (milepæl VF)"),
    EventKindDef("publiser_dokument", "publish an outgoing letter"),
)
