"""A small søknadssystem for the scenario tests: polls, answers mangler, follows the saksnummer.

It is deliberately plain (the reference client for vendors is a separate piece of work):
it reads DiBK's paths with the run's credentials, keeps what it saw, de-duplicates
oppdateringer by sekvensnummer, retries 429/503 at once (the clock is virtual), answers
every open mangel with the current saksnummer, and submits the innsendinger a scenario
expects from the client when a hook says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

RETRY_STATUSES = (429, 500, 503)


@dataclass
class Seen:
    """Everything the vendor observed, for the tests to assert on."""

    kvitteringer: dict[str, dict[str, Any]] = field(default_factory=dict)
    oppdateringer: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raw_oppdatering_lists: list[list[dict[str, Any]]] = field(default_factory=list)
    status: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)
    suppleringer: list[dict[str, Any]] = field(default_factory=list)
    retried: list[tuple[str, int, str | None]] = field(default_factory=list)
    slowest_seconds: float = 0.0


class Vendor:
    """One søknadssystem against one run."""

    def __init__(self, base: str, credentials: dict[str, str], refs: list[str]) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.auth = (credentials["username"], credentials["password"])
        self.refs = list(refs)
        self.seen = Seen()
        self.answered: set[str] = set()

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        for _attempt in range(20):
            started = time.perf_counter()
            response = self.http.request(method, f"{self.base}{path}", timeout=15, **kwargs)
            self.seen.slowest_seconds = max(
                self.seen.slowest_seconds, time.perf_counter() - started
            )
            if response.status_code not in RETRY_STATUSES:
                return response
            self.seen.retried.append(
                (path, response.status_code, response.headers.get("Retry-After"))
            )
        raise AssertionError(f"{method} {path} kept failing")

    def submit(self, body: dict[str, Any]) -> str:
        """Submit a søknad and start following its reference."""
        response = self._call("POST", "/api/v1/innsending", json=body)
        assert response.status_code == 201, response.text
        ref = str(response.json()["innsendingReferanse"])
        self.refs.append(ref)
        return ref

    def poll(self) -> None:
        """Fetch everything for every reference, download new letters, answer open mangler."""
        for ref in self.refs:
            kvittering = self._call(
                "GET", "/api/v1/kvittering", params={"innsendingReferanse": ref}
            )
            if kvittering.status_code == 200:
                self.seen.kvitteringer[ref] = kvittering.json()
            else:
                assert kvittering.status_code == 404, kvittering.text
            etter = max(
                (int(o["sekvensnummer"]) for o in self.seen.oppdateringer.get(ref, [])), default=0
            )
            response = self._call(
                "GET", "/api/v1/oppdatering", params={"innsendingReferanse": ref, "etter": etter}
            )
            assert response.status_code == 200, response.text
            items = response.json()
            self.seen.raw_oppdatering_lists.append(items)
            known = {o["sekvensnummer"] for o in self.seen.oppdateringer.get(ref, [])}
            for item in items:
                if item["sekvensnummer"] not in known:
                    self.seen.oppdateringer.setdefault(ref, []).append(item)
                    known.add(item["sekvensnummer"])
                for dokument in item.get("utgaaendeDokument", []):
                    self._download(dokument["dokumentUrl"])
            status = self._call("GET", "/api/v1/status", params={"innsendingReferanse": ref})
            assert status.status_code == 200, status.text
            self.seen.status[ref] = status.json()
            self._answer(ref, self.seen.status[ref])

    def _download(self, url: str) -> None:
        if url in self.seen.documents:
            return
        response = self._call("GET", url.removeprefix(self.base))
        assert response.status_code == 200, response.text
        self.seen.documents[url] = response.content

    def _answer(self, ref: str, status: dict[str, Any]) -> None:
        body, open_ids = mangel_answer(
            ref, status, self.answered, self.seen.oppdateringer.get(ref, [])
        )
        if not open_ids:
            return
        response = self._call("POST", "/api/v1/supplering", json=body)
        assert response.status_code == 201, response.text
        self.seen.suppleringer.append({"request": body, "response": response.json()})
        self.answered.update(open_ids)


Hook = Callable[[Vendor], None]


def mangel_answer(
    ref: str, status: dict[str, Any], answered: set[str], fetched: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """A supplering answering every open mangel of ``status`` not in ``answered`` whose
    oppdatering the client has ``fetched`` (the status view is no substitute: a mangel seen
    there first waits for its oppdatering), echoing its mangelID on the current saksnummer;
    and those mangelIDs (none: nothing to send)."""
    told = {u.get("mangelID") for item in fetched for u in item.get("utfall") or []}
    open_ids = [
        m["mangelID"]
        for m in status.get("mangler") or []
        if not m["besvart"] and m["mangelID"] not in answered and m["mangelID"] in told
    ]
    if not open_ids:
        return {}, []
    saksnummer = status["saksnummer"]
    body = {
        "innsendingReferanse": ref,
        "kommunensSaksnummer": {
            "saksaar": saksnummer["saksaar"],
            "sakssekvensnummer": saksnummer["sakssekvensnummer"],
        },
        "mangelbesvarelse": [{"mangelID": m, "kommentar": "Vedlagt."} for m in open_ids],
    }
    return body, open_ids


def play(
    control: requests.Session,
    base: str,
    run: dict[str, Any],
    vendor: Vendor,
    hook: Hook | None = None,
) -> dict[str, Any]:
    """Drive a run to its end: the vendor polls, then the kommune's next step; return timeline."""
    for _ in range(100):
        vendor.poll()
        if hook is not None:
            hook(vendor)
            vendor.poll()
        step = control.post(f"{base}/sandbox/runs/{run['id']}/next", timeout=15)
        assert step.status_code == 200, step.text
        result = step.json()
        if not result["fired"]:
            vendor.poll()
            if not result["waitingForClient"] and not result["manual"]:
                break
            # Nothing fired: give the hook one more chance (it may submit an innsending).
            if hook is not None:
                hook(vendor)
            again = control.post(f"{base}/sandbox/runs/{run['id']}/next", timeout=15).json()
            if not again["fired"]:
                break
    vendor.poll()
    timeline = control.get(f"{base}/sandbox/runs/{run['id']}/timeline", timeout=15)
    assert timeline.status_code == 200
    result_timeline: dict[str, Any] = timeline.json()
    return result_timeline
