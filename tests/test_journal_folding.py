"""Repeated polls fold into one journal row; verdicts read them exactly (issue 14, item 13).

A run polled for weeks must keep its verdict: identical polls with identical answers are
one row with a count, the first of a kind stays a row of its own (a reader paging the
journal sees the client come back), and nothing folds across what a verdict can tell
apart: a change of the case, a scoring deadline, a faulted or refused answer, or a step
waiting for the N-th client action.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.conftest import INNSENDING, basic


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    made: list[Flask] = []

    def make(scenario: str | None = None, **config: Any) -> Flask:
        folder = tmp_path / f"scenarios{len(made)}"
        folder.mkdir()
        if scenario is not None:
            (folder / "s.yaml").write_text(scenario, "utf-8")
        settings = {"TESTING": True, "DATABASE_URL": database_url, **config}
        if scenario is not None:
            settings["SCENARIO_DIR"] = str(folder)
        app = create_app(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["sandbox.engine"].dispose()


class Client:
    """A run and its client's credentials, over the test client."""

    def __init__(self, app: Flask, **body: Any) -> None:
        self.http: FlaskClient = app.test_client()
        answer = self.http.post("/sandbox/runs", json={"clock": {"mode": "manual"}, **body})
        assert answer.status_code == 201, answer.json
        run: dict[str, Any] = answer.json  # type: ignore[assignment]
        self.id, self.ref = run["id"], run["innsendingReferanser"][0]
        self.auth = basic(run["credentials"]["username"], run["credentials"]["password"])

    def get(self, api: str, **query: Any) -> Any:
        params = {"innsendingReferanse": self.ref, **query}
        return self.http.get(f"/api/v1/{api}", query_string=params, headers=self.auth)

    def advance(self, duration: str) -> None:
        answer = self.http.post(f"/sandbox/runs/{self.id}/clock", json={"advance": duration})
        assert answer.status_code == 200, answer.json

    def journal(self) -> list[dict[str, Any]]:
        return self.http.get(f"/sandbox/runs/{self.id}/journal").json["entries"]  # type: ignore[index]

    def count(self) -> int:
        return int(self.http.get(f"/sandbox/runs/{self.id}").json["journalCount"])  # type: ignore[index]

    def verdicts(self) -> dict[str, str]:
        result = self.http.get(f"/sandbox/runs/{self.id}/result").json
        return {v["id"]: v["status"] for v in result["verdicts"]}  # type: ignore[index]


def _repeats(entries: list[dict[str, Any]]) -> list[int]:
    return [e["repeats"] for e in entries]


SCENARIO = """
id: s
version: 1
title: Folding
description: Polls to fold.
profile: utkast-2022
seed: 5
clock: {start: "2025-03-03T08:00:00Z"}
case:
  kommunenummer: "3201"
  innsendinger:
    - id: soknad
      soknadstype: TA
      tiltakstype: [pabygg]
      dokumenter: [{dokumentNavn: a.pdf, mimeType: application/pdf, dokumentStorrelse: "1"}]
timeline:
  - {id: journalfor, trigger: {at: PT1H}, event: {type: journalfor}}
  - {id: vedtak, trigger: {at: P3W}, event: {type: vedtak, resultat: innvilget}}
expect:
  - id: henter-kvittering
    request: {method: GET, path: /api/v1/kvittering}
    after: journalfor
    count: {max: 4}
    within: P1D
"""


def test_identical_polls_fold_and_a_changed_answer_starts_a_row(make_app: Any) -> None:
    client = Client(make_app(), innsending=INNSENDING)
    for _ in range(5):
        assert client.get("status").status_code == 200
    assert _repeats(client.journal()) == [1, 4]  # the first alone, then the gathering row
    assert client.count() == 5
    second = client.journal()[1]
    assert second["lastRealTime"] >= second["realTime"] and second["minGapMs"] is not None
    client.get("status", etter="x")  # another question: its own row
    client.get("status")  # the first question again: one more of its repeats
    assert _repeats(client.journal()) == [1, 5, 1]
    assert client.count() == 7


def test_refusals_and_faulted_answers_never_fold(make_app: Any) -> None:
    client = Client(make_app(), innsending=INNSENDING)
    for _ in range(4):
        assert client.get("kvittering").status_code == 404  # not journalført
    assert _repeats(client.journal()) == [1, 1, 1, 1]


def test_a_deadline_and_a_fired_step_split_the_rows_and_the_count_stays_exact(
    make_app: Any,
) -> None:
    client = Client(make_app(SCENARIO), scenario="s")
    client.advance("PT1H")  # journalført: the P1D window opens
    for _ in range(3):
        assert client.get("kvittering").status_code == 200
    client.advance("PT24H")  # at the window's end, still inside it
    client.get("kvittering")
    client.advance("PT1M")  # past it: these no longer count
    for _ in range(5):
        client.get("kvittering")
    # A new epoch: its first poll alone again, then the row its repeats fold into.
    assert _repeats(client.journal()) == [1, 3, 1, 4]
    assert client.verdicts()["henter-kvittering"] == "PASSED"  # 4 in the window, at most 4
    client.advance("P3W")  # the vedtak changes the case: no fold across it
    client.get("kvittering")
    assert _repeats(client.journal()) == [1, 3, 1, 4, 1]


def test_too_many_folded_polls_in_a_window_fail_it(make_app: Any) -> None:
    client = Client(make_app(SCENARIO), scenario="s")
    client.advance("PT1H")
    for _ in range(6):
        client.get("kvittering")
    assert _repeats(client.journal()) == [1, 5]
    assert client.verdicts()["henter-kvittering"] == "FAILED"  # 6 > 4, folded or not


def test_no_folding_while_a_step_waits_for_the_third_poll(make_app: Any) -> None:
    counting = SCENARIO.replace(
        "{id: vedtak, trigger: {at: P3W}",
        "{id: vedtak, trigger: {on: poll, count: 3}",
    )
    client = Client(make_app(counting), scenario="s")
    client.advance("PT1H")
    for _ in range(3):
        client.get("kvittering")
    assert _repeats(client.journal()) == [1, 1, 1]  # each poll its own, so the 3rd is known
    timeline = client.http.get(f"/sandbox/runs/{client.id}/timeline").json
    assert {s["id"]: s["status"] for s in timeline["steps"]}["vedtak"] == "fired"  # type: ignore[index]
    for _ in range(4):
        client.get("kvittering")
    assert _repeats(client.journal())[3:] == [1, 3]  # the step fired: folding resumes


def test_a_client_hammering_inside_a_folded_row_fails_polls_sanely(make_app: Any) -> None:
    client = Client(make_app(SCENARIO), scenario="s", pollInterval=2)
    client.advance("PT1H")
    client.get("kvittering")
    time.sleep(1.1)
    client.get("kvittering")
    time.sleep(1.1)
    client.get("kvittering")  # 1.1 s apart so far: at the limit of half of 2 s, passing
    assert client.verdicts()["polls_sanely"] != "FAILED"  # pending while the run is live
    client.get("kvittering")  # at once: folded into the row, and too soon
    assert _repeats(client.journal()) == [1, 3]
    result = client.http.get(f"/sandbox/runs/{client.id}/result").json
    verdict = next(v for v in result["verdicts"] if v["id"] == "polls_sanely")  # type: ignore[index]
    assert verdict["status"] == "FAILED"
    assert "repeated 3 times" in verdict["firstDivergence"]


@pytest.mark.parametrize("traced", [False, True], ids=["plain", "request-ids"])
def test_twelve_weeks_of_polling_stay_within_the_cap_and_keep_the_verdicts(
    make_app: Any, traced: bool
) -> None:
    # traced: a client instrumented as vendors' systems are (OpenTelemetry, a request id)
    # sends headers that differ on every request; its polls fold all the same.
    # Twelve virtual weeks, polled every 4 h (every 12 h traced: still 8 × the cap's rows).
    every = 12 if traced else 4
    hours = range(0, 12 * 7 * 24, every)

    def play(app: Flask, traced: bool) -> tuple[dict[str, str], Client]:
        client = Client(app, scenario="happy-path", pollInterval=0.01)
        last = 0
        for hour in hours:
            if traced:
                span = f"{hour:032x}"
                client.auth = {
                    **client.auth,
                    "traceparent": f"00-{span}-{hour:016x}-01",
                    "X-Request-Id": span,
                }
            client.advance(f"PT{every}H")
            client.get("kvittering")
            listed = client.get("oppdatering", etter=last)
            for item in listed.json:
                last = max(last, int(item["sekvensnummer"]))
                for dokument in item.get("utgaaendeDokument") or []:
                    got = client.http.get(dokument["dokumentUrl"], headers=client.auth)
                    assert got.status_code == 200
            client.get("status")
            time.sleep(0.006)  # more than half the agreed 10 ms between polls of one API
        client.http.post(f"/sandbox/runs/{client.id}/finish")
        return client.verdicts(), client

    roomy, _ = play(make_app(), traced=False)
    capped, client = play(make_app(JOURNAL_MAX_ENTRIES=60), traced)
    assert capped == roomy
    assert set(capped.values()) <= {"PASSED", "SKIPPED"}, capped
    assert client.count() >= 3 * len(hours)  # every exchange counted ...
    assert len(client.journal()) <= 60  # ... in at most the cap's rows


SLOW = SCENARIO.replace(
    "expect:",
    "faults:\n  - {id: treg, kind: slow, api: kvittering, delay_ms: 600}\nexpect:",
)


def _poll_start_to_start(client: Client, every: float, times: int) -> None:
    """Poll kvittering on a fixed schedule (request start to request start)."""
    start = time.monotonic()
    for n in range(times):
        time.sleep(max(0.0, start + n * every - time.monotonic()))
        assert client.get("kvittering").status_code == 200


def _polls_sanely(client: Client) -> dict[str, Any]:
    client.http.post(f"/sandbox/runs/{client.id}/finish")
    result = client.http.get(f"/sandbox/runs/{client.id}/result").json
    return next(v for v in result["verdicts"] if v["id"] == "polls_sanely")  # type: ignore[index]


def test_a_client_on_schedule_passes_polls_sanely_while_the_answers_are_slow(
    make_app: Any,
) -> None:
    # Answers take 0.6 s of a 1 s interval: 0.4 s from one answer's end to the next
    # request, under half the interval, yet the client polls exactly as agreed.
    client = Client(make_app(SLOW), scenario="s", pollInterval=1)
    client.advance("PT1H")
    _poll_start_to_start(client, 1.0, 4)
    verdict = _polls_sanely(client)
    assert verdict["status"] == "PASSED", verdict


def test_a_client_off_schedule_still_fails_polls_sanely_while_the_answers_are_slow(
    make_app: Any,
) -> None:
    client = Client(make_app(SLOW), scenario="s", pollInterval=1)
    client.advance("PT1H")
    _poll_start_to_start(client, 0.7, 3)  # 0.1 s after each answer: hammering
    verdict = _polls_sanely(client)
    assert verdict["status"] == "FAILED", verdict
    assert "again after" in verdict["reason"]
