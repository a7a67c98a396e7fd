"""``kill -9`` of the server during polling and during a supplering, restart on the same
database, SQLite and PostgreSQL: every acknowledged exchange is in the journal, no event is
applied twice, and the verdict equals that of an uninterrupted run with the same seed.

The server is the project's own ``serve`` command in a process group of its own, killed
with SIGKILL and started again on the same database. Kill points are varied with a seeded
random generator: under polling load (with another writer holding the database part of the
time, as a second worker would), while the control plane fires a step, among suppleringer
and innsendinger. One kill point is exact: inside the journal write of a supplering
(``crash_harness.Stall`` holds that insert), where a case change committed apart from its
journal entry is left behind.

The assertions marked ``Caught before`` failed on the code before the one write path
(2026-12-01): the SQLite journal was written behind the answer, so an answered exchange
could die with the process, and a supplering's (and an innsending's) case change and its
journal entry were two transactions, so a crash between them left a change in the case
that no journal entry accounted for, and a step waiting for that supplering never fired.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sized
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.vocabulary import DEFAULT_CHECKS
from tests.crash_harness import (
    PUBLIC_BASE,
    BusyDatabase,
    Database,
    Server,
    body,
    database,
    journal,
    kill_after,
    kill_inside_journal_write,
    wait_for,
)

__all__ = ["database"]  # the fixture, shared with the crash harness

# A query parameter the API ignores and the journal keeps, one value per request: it keeps
# each poll a row of its own (a header would not: polls fold whatever their headers).
MARK = "crash"
SCENARIO = "mangel-then-vedtak"
SEED = 4711
POLL_INTERVAL = 0.05  # the run's agreed interval; the client keeps 0.06 s between same polls
POLL_PATHS = ("/api/v1/kvittering", "/api/v1/oppdatering", "/api/v1/status")


@pytest.fixture
def server(database: Database, tmp_path: Path) -> Iterator[Server]:
    """The sandbox, started; killed at the end whatever happened."""
    served = Server(database, tmp_path)
    served.start()
    yield served
    served.stop()


def control(server: Server, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
    """A control-plane call that must succeed."""
    response = requests.request(method, f"{server.url}/sandbox{path}", timeout=60, **kwargs)
    assert response.status_code == expect, f"{method} {path}: {response.text}"
    return response.json()


def start_run(server: Server, **body_: Any) -> dict[str, Any]:
    """A run with the manual clock."""
    run: dict[str, Any] = control(
        server, "POST", "/runs", 201, json={"clock": {"mode": "manual"}, **body_}
    )
    return run


def case_of(server: Server, run_id: str) -> dict[str, Any]:
    """The case as the kommune sees it, with the event log."""
    case: dict[str, Any] = control(server, "GET", f"/runs/{run_id}/case")
    return case


def _grown(*pairs: Any) -> Callable[[], bool]:
    """A condition: each collection of ``pairs`` (collection, size, …) holds that many."""
    wanted: list[tuple[Sized, int]] = list(zip(pairs[::2], pairs[1::2], strict=True))
    return lambda: all(len(items) >= size for items, size in wanted)


def step_kinds(case: dict[str, Any]) -> Counter[str]:
    """How often each scenario step was applied, from the event log."""
    return Counter(h["type"] for h in case["hendelser"] if h["type"].startswith("steg:"))


def assert_event_log_in_order(case: dict[str, Any]) -> None:
    """Event sekvensnummer unique and increasing: no event stored twice."""
    seqs = [h["sekvensnummer"] for h in case["hendelser"]]
    assert seqs == sorted(set(seqs)), seqs


# ---- 1. kill -9 during polling ----------------------------------------------------------


def _mark(entry: dict[str, Any]) -> str | None:
    """The poll's own mark, from its journalled query."""
    found = parse_qs(entry["request"]["query"]).get(MARK)
    return found[0] if found else None


@dataclass(frozen=True)
class Answered:
    """A request the client got a whole answer to."""

    mark: str
    method: str
    path: str
    query: str
    status: int


def _poller(
    base: str,
    auth: tuple[str, str],
    ref: str,
    prefix: str,
    stop: threading.Event,
    answered: list[Answered],
) -> None:
    """Poll kvittering, oppdatering and status as fast as answers come, until the server dies."""
    http = requests.Session()
    http.auth = auth
    queries = [
        {"innsendingReferanse": ref},
        {"innsendingReferanse": ref, "etter": "0"},
        {"innsendingReferanse": ref},
    ]
    n = 0
    while not stop.is_set():
        index = n % 3
        mark = f"{prefix}-{n}"
        n += 1
        try:
            response = http.get(
                f"{base}{POLL_PATHS[index]}",
                params={**queries[index], MARK: mark},
                timeout=30,
            )
        except requests.RequestException:
            return  # killed: this request was not answered
        query = urlsplit(response.request.url or "").query
        answered.append(Answered(mark, "GET", POLL_PATHS[index], query, response.status_code))


# Two runs polled at once: on happy-path every step is due at a known time, so a poll's
# answer may leave before its journal entry is committed (write-behind, on SQLite); on
# mangel-then-vedtak a step waits for the client's supplering from the start, so every
# poll waits for its entry. After the kills each run's steps must have fired once.
POLLED = {
    "happy-path": {"journalfor": "fired", "vedtak": "fired"},
    SCENARIO: {"journalfor": "fired", "mangel": "fired", "vedtak": "pending"},
}
ONE_OPPDATERING = {"happy-path": ["vedtak"], SCENARIO: ["mangel"]}


def test_every_answered_poll_is_journalled_once_after_kill_9(
    server: Server, database: Database
) -> None:
    rng = random.Random(SEED)
    runs = [
        start_run(server, scenario=scenario, seed=SEED, pollInterval=POLL_INTERVAL)
        for scenario in POLLED
    ]
    answered: list[Answered] = []
    rounds = 2

    def next_steps() -> requests.Response:
        for run in runs:
            response = requests.post(f"{server.url}/sandbox/runs/{run['id']}/next", timeout=30)
        return response

    for round_ in range(rounds):
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=_poller,
                args=(
                    server.url,
                    (run["credentials"]["username"], run["credentials"]["password"]),
                    run["innsendingReferanser"][0],
                    f"r{round_}-{run['scenario']}-{i}",
                    stop,
                    answered,
                ),
            )
            for run in runs
            for i in range(3)
        ]
        for thread in threads:
            thread.start()
        wait_for(_grown(answered, len(answered) + 150), 30, "polls to be answered")
        # Under load, with another writer holding the database most of the time (as a
        # second worker or a long transaction would), the kommune's next steps are fired
        # through the control plane (journalføring, then the vedtak or the mangel) and the
        # server is killed at a varied point while they fire or, later, among the polls
        # alone; always some milliseconds into the other writer's hold, when polls have
        # been answered while no journal entry could be committed.
        with BusyDatabase(database) as busy:
            kill_after(
                server,
                rng.uniform(0.0, 0.1),
                next_steps,
                then=partial(busy.inside, rng.uniform(0.01, 0.03)),
            )
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert server.kills == rounds and len(answered) >= 150 * rounds
    # Only the kvittering before journalføring is refused (404); nothing failed.
    assert {(a.path, a.status) for a in answered if a.status != 200} <= {
        ("/api/v1/kvittering", 404)
    }

    # Whatever a kill interrupted, the steps come as the control plane asks for them.
    for run in runs:
        for _ in range(3):
            timeline = control(server, "GET", f"/runs/{run['id']}/timeline")
            steps = {s["id"]: s["status"] for s in timeline["steps"]}
            if steps == POLLED[run["scenario"]]:
                break
            control(server, "POST", f"/runs/{run['id']}/next")
        assert steps == POLLED[run["scenario"]], run["scenario"]

    entries = [e for run in runs for e in journal(server.url, run["id"])]
    marks = Counter(_mark(e) for e in entries)
    # Caught before: the entry of an answered poll was still in the journal writer's
    # queue (written behind the answer) when the process died.
    lost = [a for a in answered if marks[a.mark] == 0]
    assert not lost, (
        f"{len(lost)} of {len(answered)} answered polls are missing from the journal "
        f"after {rounds} kills, e.g. {lost[:3]}"
    )
    assert [m for m, count in marks.items() if count > 1] == []
    by_mark = {_mark(e): e for e in entries}
    for a in answered:
        request_ = by_mark[a.mark]["request"]
        exchange = (request_["method"], request_["path"], request_["query"])
        assert exchange == (a.method, a.path, a.query), a
        assert by_mark[a.mark]["response"]["status"] == a.status, a
    # Entries of requests whose answer the kill cut off may be there; each was sent by us.
    assert None not in marks and all(str(m).startswith("r") for m in marks)

    for run in runs:
        assert control(server, "GET", f"/runs/{run['id']}")["journalCount"] == len(
            journal(server.url, run["id"])
        )
        # No step applied twice: one event each, one oppdatering each.
        case = case_of(server, run["id"])
        assert_event_log_in_order(case)
        assert step_kinds(case) == {
            f"steg:{step}": 1
            for step, status in POLLED[run["scenario"]].items()
            if status == "fired"
        }
        http = requests.Session()
        http.auth = (run["credentials"]["username"], run["credentials"]["password"])
        oppdateringer = http.get(
            f"{server.url}/api/v1/oppdatering",
            params={"innsendingReferanse": run["innsendingReferanser"][0], "etter": "0"},
            timeout=30,
        ).json()
        assert [o["hendelse"] for o in oppdateringer] == ONE_OPPDATERING[run["scenario"]]


# ---- 2. kill -9 during suppleringer and innsendinger --------------------------------------


def _ettersending(ref: str, title: str) -> dict[str, Any]:
    return {
        "innsendingReferanse": ref,
        "ettersending": [
            {"tema": "generelt", "tittel": title, "kommentar": "Ny tegning.", "vedleggsliste": []}
        ],
    }


def _innsending(title: str) -> dict[str, Any]:
    return {
        "soknadstype": "RS",
        "tiltakstype": ["nyttbyggboligformal"],
        "tittel": title,
        "dokumenter": [
            {"dokumentNavn": "Skjema.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "1"}
        ],
    }


def _sender(
    base: str,
    auth: tuple[str, str],
    path: str,
    make: Any,
    prefix: str,
    stop: threading.Event,
    acknowledged: dict[str, dict[str, Any]],
    refused: list[str],
) -> None:
    """Send one request after another (each titled uniquely) until the server dies."""
    http = requests.Session()
    http.auth = auth
    n = 0
    while not stop.is_set():
        title = f"{prefix}-{n}"
        n += 1
        try:
            response = http.post(f"{base}{path}", json=make(title), timeout=30)
        except requests.RequestException:
            return
        if response.status_code == 201:
            acknowledged[title] = response.json()
        else:
            refused.append(f"{path} {response.status_code}: {response.text}")


def test_suppleringer_and_innsendinger_are_journalled_with_their_case_change(
    server: Server,
) -> None:
    rng = random.Random(SEED + 1)
    run = start_run(server, kommunenummer="4601", seed=SEED)
    run_id = run["id"]
    auth = (run["credentials"]["username"], run["credentials"]["password"])
    first = requests.post(
        f"{server.url}/api/v1/innsending", json=_innsending("i-first"), auth=auth, timeout=30
    )
    assert first.status_code == 201, first.text
    ref = first.json()["innsendingReferanse"]
    control(server, "POST", f"/runs/{run_id}/events", 201, json={"type": "journalfor"})
    suppleringer: dict[str, dict[str, Any]] = {}
    innsendinger: dict[str, dict[str, Any]] = {"i-first": first.json()}
    refused: list[str] = []

    # Suppleringer one after another, innsendinger beside them; the kill lands anywhere in
    # the traffic (a varied short delay once both have been answered a few times).
    iterations = 2
    for iteration in range(iterations):
        stop = threading.Event()
        before = (len(suppleringer), len(innsendinger))
        threads = [
            threading.Thread(
                target=_sender,
                args=(
                    server.url,
                    auth,
                    "/api/v1/supplering",
                    lambda title: _ettersending(ref, title),
                    f"s{iteration}",
                    stop,
                    suppleringer,
                    refused,
                ),
            ),
            threading.Thread(
                target=_sender,
                args=(
                    server.url,
                    auth,
                    "/api/v1/innsending",
                    _innsending,
                    f"i{iteration}",
                    stop,
                    innsendinger,
                    refused,
                ),
            ),
        ]
        for thread in threads:
            thread.start()
        wait_for(
            _grown(suppleringer, before[0] + 3, innsendinger, before[1] + 3),
            30,
            "suppleringer and innsendinger to be answered",
        )
        time.sleep(rng.uniform(0.0, 0.03))
        server.restart()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    # One exact kill point: inside the journal write of a supplering.
    answer = kill_inside_journal_write(
        server,
        "/api/v1/supplering",
        lambda: requests.post(
            f"{server.url}/api/v1/supplering",
            json=_ettersending(ref, "s-stalled"),
            auth=auth,
            timeout=60,
        ),
    )
    if answer is not None:
        assert answer.status_code == 201, answer.text
        suppleringer["s-stalled"] = answer.json()

    entries = journal(server.url, run_id)
    journalled_suppleringer: Counter[str] = Counter()
    supplering_refs: dict[str, str] = {}
    journalled_innsendinger: Counter[str] = Counter()
    for entry in entries:
        request_, response = entry["request"], entry["response"]
        if request_["method"] != "POST" or response["status"] != 201:
            continue
        if request_["path"] == "/api/v1/supplering":
            [sent] = body(request_)["ettersending"]
            journalled_suppleringer[sent["tittel"]] += 1
            supplering_refs[sent["tittel"]] = body(response)["suppleringReferanse"]
        elif request_["path"] == "/api/v1/innsending":
            journalled_innsendinger[body(request_)["tittel"]] += 1
    sak = case_of(server, run_id)["sak"]
    case_suppleringer = Counter(e["tittel"] for s in sak["suppleringer"] for e in s["ettersending"])
    case_innsendinger = Counter(i["tittel"] for i in sak["innsendinger"])
    assert server.kills == iterations + 1 and refused == []
    assert len(suppleringer) >= 3 * iterations and len(innsendinger) >= 3 * iterations

    # Every acknowledged supplering and innsending is in the journal, once.
    # Caught before: written behind the answer, the entry died with the process.
    lost = sorted(t for t in suppleringer if journalled_suppleringer[t] == 0)
    lost += sorted(t for t in innsendinger if journalled_innsendinger[t] == 0)
    assert not lost, f"acknowledged with 201 but missing from the journal: {lost}"
    assert {t: c for t, c in journalled_suppleringer.items() if c > 1} == {}
    assert {t: c for t, c in journalled_innsendinger.items() if c > 1} == {}
    for title, acknowledged in suppleringer.items():
        assert supplering_refs[title] == acknowledged["suppleringReferanse"], title

    # The case holds exactly what the journal accounts for: no change without its entry,
    # no entry without its change, none applied twice.
    # Caught before (and so were the two equalities after it): the case change was
    # committed in its own transaction before the server died inside the journal write.
    unaccounted = sorted((case_suppleringer - journalled_suppleringer).elements())
    unaccounted += sorted((case_innsendinger - journalled_innsendinger).elements())
    assert not unaccounted, f"in the case, but no journal entry accounts for them: {unaccounted}"
    assert journalled_suppleringer == case_suppleringer
    assert journalled_innsendinger == case_innsendinger
    by_ref = {s["referanse"]: s for s in sak["suppleringer"]}
    assert len(by_ref) == len(sak["suppleringer"])
    assert {by_ref[r]["ettersending"][0]["tittel"] for r in supplering_refs.values()} == set(
        supplering_refs
    )
    case = case_of(server, run_id)
    assert_event_log_in_order(case)
    kinds = Counter(h["type"] for h in case["hendelser"])
    assert kinds == {
        "innsending": len(sak["innsendinger"]),
        "journalfor": 1,
        "supplering": len(sak["suppleringer"]),
    }


# ---- 3. a scenario with kills at every step reaches the uninterrupted verdict ------------


@dataclass
class Client:
    """A søknadssystem that follows one run of the scenario and survives a restart."""

    server: Server
    run: dict[str, Any]
    http: requests.Session = field(default_factory=requests.Session)
    oppdateringer: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    answers: list[dict[str, Any]] = field(default_factory=list)
    last_sent: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        credentials = self.run["credentials"]
        self.http.auth = (credentials["username"], credentials["password"])
        [self.ref] = self.run["innsendingReferanser"]

    def _get(self, path: str, **params: str) -> requests.Response:
        # The agreed pace per API and reference, counted from the last request sent.
        wait = self.last_sent.get(path, 0.0) + POLL_INTERVAL * 1.2 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_sent[path] = time.monotonic()
        return self.http.get(
            f"{self.server.url}{path}",
            params={"innsendingReferanse": self.ref, **params},
            timeout=30,
        )

    def poll(self) -> None:
        """Kvittering, new oppdateringer with their letters, status."""
        kvittering = self._get("/api/v1/kvittering")
        assert kvittering.status_code in (200, 404), kvittering.text
        etter = max((int(s) for s in self.oppdateringer), default=0)
        response = self._get("/api/v1/oppdatering", etter=str(etter))
        assert response.status_code == 200, response.text
        for item in response.json():
            self.oppdateringer.setdefault(item["sekvensnummer"], item)
        for item in self.oppdateringer.values():
            for dokument in item.get("utgaaendeDokument", []):
                url = dokument["dokumentUrl"]
                if url not in self.documents:
                    letter = self.http.get(
                        f"{self.server.url}{url.removeprefix(PUBLIC_BASE)}", timeout=30
                    )
                    assert letter.status_code == 200, letter.text
                    self.documents[url] = letter.content
        status = self._get("/api/v1/status")
        assert status.status_code == 200, status.text
        self.status = status.json()

    def supplering(self) -> dict[str, Any] | None:
        """The answer to every open mangel, or None when none is open."""
        open_ids = [m["mangelID"] for m in self.status.get("mangler", []) if not m["besvart"]]
        if not open_ids:
            return None
        saksnummer = self.status["saksnummer"]
        return {
            "innsendingReferanse": self.ref,
            "kommunensSaksnummer": {
                "saksaar": saksnummer["saksaar"],
                "sakssekvensnummer": saksnummer["sakssekvensnummer"],
            },
            "mangelbesvarelse": [{"mangelID": m, "kommentar": "Vedlagt."} for m in open_ids],
        }

    def send(self, answer: dict[str, Any]) -> requests.Response:
        """POST the supplering."""
        return self.http.post(f"{self.server.url}/api/v1/supplering", json=answer, timeout=60)


def _fired(server: Server, run_id: str, step: str) -> bool:
    steps = control(server, "GET", f"/runs/{run_id}/timeline")["steps"]
    return any(s["id"] == step and s["status"] == "fired" for s in steps)


def _next_until(server: Server, run_id: str, step: str, rng: random.Random | None) -> None:
    """Ask for the kommune's next step until ``step`` has fired; with ``rng``, kill the
    server once while it fires it."""
    for attempt in range(4):
        if _fired(server, run_id, step):
            return
        if rng is not None and attempt == 0:
            kill_after(
                server,
                rng.uniform(0.0, 0.04),
                lambda: requests.post(f"{server.url}/sandbox/runs/{run_id}/next", timeout=30),
            )
        else:
            control(server, "POST", f"/runs/{run_id}/next")
    assert _fired(server, run_id, step), step


def _answer(server: Server, client: Client, rng: random.Random | None) -> None:
    """Answer the mangel; with ``rng``, kill inside the supplering's journal write first, then
    at a varied short delay, re-reading the status after each restart as a client would."""
    for attempt in range(4):
        client.poll()
        answer = client.supplering()
        if answer is None:
            return
        response: requests.Response | None
        if rng is not None and attempt == 0:
            response = kill_inside_journal_write(
                server, "/api/v1/supplering", partial(client.send, answer)
            )
        elif rng is not None and attempt < 2:
            response = kill_after(server, rng.uniform(0.0, 0.03), partial(client.send, answer))
        else:
            response = client.send(answer)
        if response is not None:
            assert response.status_code == 201, response.text
            client.answers.append(response.json())
    raise AssertionError("the mangel stayed open")


def _check_suppleringer(server: Server, client: Client) -> None:
    """Every supplering the client got a 201 for is journalled; the case holds none without."""
    run_id = client.run["id"]
    journalled = Counter(
        body(e["response"])["suppleringReferanse"]
        for e in journal(server.url, run_id)
        if e["request"]["method"] == "POST"
        and e["request"]["path"] == "/api/v1/supplering"
        and e["response"]["status"] == 201
    )
    acknowledged = [a["suppleringReferanse"] for a in client.answers]
    assert [r for r in acknowledged if journalled[r] != 1] == []
    in_case = Counter(s["referanse"] for s in case_of(server, run_id)["sak"]["suppleringer"])
    # Caught before: the supplering was applied to the case in its own transaction; the
    # server died before the journal entry was committed, so the vedtak, which waits for
    # the client's supplering in the journal, could never come.
    assert in_case == journalled, (
        f"suppleringer in the case {dict(in_case)}, in the journal {dict(journalled)}"
    )


def _play(server: Server, rng: random.Random | None) -> tuple[dict[str, Any], Client]:
    """The scenario from start to vedtak, the same client actions with and without kills."""
    run = start_run(server, scenario=SCENARIO, seed=SEED, pollInterval=POLL_INTERVAL)
    run_id = run["id"]
    client = Client(server, run)
    client.poll()  # nothing journalført yet: kvittering 404
    _next_until(server, run_id, "journalfor", rng)
    client.poll()
    _next_until(server, run_id, "mangel", rng)
    _answer(server, client, rng)
    _check_suppleringer(server, client)
    client.poll()
    _next_until(server, run_id, "vedtak", rng)
    client.poll()
    return run, client


def test_a_run_killed_at_every_step_reaches_the_uninterrupted_verdict(server: Server) -> None:
    reference_run, reference = _play(server, None)
    assert server.kills == 0
    crashed_run, crashed = _play(server, random.Random(SEED + 2))
    # journalføring, mangel and vedtak once each; the supplering once in its journal write
    # and once at a varied delay (unless the case already holds it then).
    assert 4 <= server.kills <= 5

    # A live run's verdicts are not final (checks stay PENDING): compare finished runs.
    for finished in (reference_run, crashed_run):
        control(server, "POST", f"/runs/{finished['id']}/finish")
    expected = control(server, "GET", f"/runs/{reference_run['id']}/result")
    result = control(server, "GET", f"/runs/{crashed_run['id']}/result")
    verdicts = {v["id"]: v["status"] for v in expected["verdicts"]}
    # Every verdict passed but a default check the scenario gives no chance to apply.
    skipped = {k for k, v in verdicts.items() if v == "SKIPPED"}
    assert set(verdicts.values()) == {"PASSED", "SKIPPED"}, expected["verdicts"]
    assert skipped <= set(DEFAULT_CHECKS), expected["verdicts"]
    assert {v["id"]: v["status"] for v in result["verdicts"]} == verdicts

    # Same seed, same events: the kommune said the same things, each once.
    assert crashed.oppdateringer == reference.oppdateringer
    assert [o["hendelse"] for o in crashed.oppdateringer.values()] == [
        "mangel",
        "supplering",
        "vedtak",
    ]
    assert crashed.documents == reference.documents and len(crashed.documents) == 2
    cases = [case_of(server, r["id"]) for r in (reference_run, crashed_run)]
    for case in cases:
        assert_event_log_in_order(case)
    assert [h["type"] for h in cases[1]["hendelser"]] == [h["type"] for h in cases[0]["hendelser"]]
    assert step_kinds(cases[1]) == {"steg:journalfor": 1, "steg:mangel": 1, "steg:vedtak": 1}
    timelines = [
        control(server, "GET", f"/runs/{r['id']}/timeline") for r in (reference_run, crashed_run)
    ]
    assert [(s["id"], s["status"], s["firedAt"]) for s in timelines[1]["steps"]] == [
        (s["id"], s["status"], s["firedAt"]) for s in timelines[0]["steps"]
    ]
