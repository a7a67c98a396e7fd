"""The runner's parts without a sandbox: when a reaction is over, the exchange tap, the
expected-failures reader, the client command check and the default number of jobs."""

from __future__ import annotations

import base64
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app import watch
from app.cli import ci
from app.client_process import ClientCommandError, parse_client_cmd
from app.expected import ListError, check_listed, read_listed
from app.watch import Exchange, ExchangeTap, JournalFeed, Reaction
from app.wire.query import question

SETTLE = 0.5


def _at(started: float, path: str = "/api/v1/oppdatering", **kw: Any) -> Exchange:
    return Exchange(
        started,
        started + kw.get("took", 0.01),
        kw.get("method", "GET"),
        path,
        kw.get("query", "innsendingReferanse=A"),
        kw.get("status", 200),
    )


def test_a_reaction_is_over_a_settle_window_after_the_last_request_that_was_not_a_repeat() -> None:
    reaction = Reaction(since=100.0)
    reaction.add(_at(100.1))
    assert reaction.over_at(SETTLE) is None  # has not come back to a poll yet
    reaction.add(_at(100.12, "/api/v1/supplering", method="POST"))
    reaction.add(_at(100.35))  # a repeated poll is quiet...
    assert reaction.over_at(SETTLE) == pytest.approx(100.13 + SETTLE)
    reaction.add(_at(100.39, "/api/v1/supplering", method="POST"))  # ...a second answer is not
    assert reaction.over_at(SETTLE) == pytest.approx(100.40 + SETTLE)
    reaction.add(_at(100.6, query="innsendingReferanse=A&etter=3"))  # a new cursor is news
    assert reaction.over_at(SETTLE) == pytest.approx(100.61 + SETTLE)


def test_a_cache_buster_does_not_make_a_poll_news() -> None:
    # A client that adds _=<timestamp> to every poll polls the same question: quiet, so
    # the kommune moves on after the settle window, not after the patience.
    reaction = Reaction(since=100.0)
    reaction.add(_at(100.1, query="innsendingReferanse=A&etter=0&_=1"))
    reaction.add(_at(100.3, query="_=2&Etter=0&InnsendingReferanse=A"))
    assert reaction.over_at(SETTLE) == pytest.approx(100.11 + SETTLE)
    reaction.add(_at(100.5, query="innsendingReferanse=A&etter=3&_=3"))  # a new cursor is news
    assert reaction.over_at(SETTLE) == pytest.approx(100.51 + SETTLE)


def test_the_question_of_a_query_is_the_names_the_api_reads() -> None:
    assert question("_=9&etter=2&innsendingReferanse=AR1") == "innsendingReferanse=AR1&etter=2"
    assert question("ETTER=2&etter=5&%49nnsendingReferanse=AR1") == (
        "innsendingReferanse=AR1&etter=2"  # the first value, as the API reads it
    )
    assert question("") == question("foo=bar") == ""


def test_requests_sent_before_the_step_do_not_count() -> None:
    reaction = Reaction(since=100.0)
    reaction.add(_at(99.9, took=0.3))
    reaction.add(_at(99.95, took=0.3))
    assert reaction.requests == 0 and reaction.over_at(SETTLE) is None


def _stamp(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def _row(row: int, at: str, repeats: int = 1, last: str | None = None) -> dict[str, Any]:
    """A journal entry as the control plane lists it."""
    return {
        "id": row,
        "realTime": at,
        "durationMs": 10.0,
        "request": {
            "method": "GET",
            "path": "/api/v1/kvittering",
            "query": "innsendingReferanse=A",
        },
        "response": {"status": 200},
        "repeats": repeats,
        "lastRealTime": last,
    }


def test_the_journal_feed_sees_polls_folded_into_a_row_it_has_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by a client written from our docs alone: under --server, a client that kept
    # polling while nothing changed added no row, and the runner called it silent.
    monkeypatch.setattr(watch, "TAIL_LOOK", 0.0)
    journal = [_row(1, "2026-12-01T10:00:00Z"), _row(2, "2026-12-01T10:00:01Z")]
    feed = JournalFeed(lambda after: [e for e in journal if e["id"] > after])
    assert len(feed.take()) == 2
    assert feed.take() == []  # nothing new, nothing folded
    journal[1] = _row(2, "2026-12-01T10:00:01Z", repeats=3, last="2026-12-01T10:00:05Z")
    [repeat] = feed.take()
    assert repeat.ended == pytest.approx(_stamp("2026-12-01T10:00:05Z"))
    assert repeat.ended - repeat.started == pytest.approx(0.01)
    assert feed.take() == []  # each repeat once
    journal[1] = _row(2, "2026-12-01T10:00:01Z", repeats=4, last="2026-12-01T10:00:06Z")
    [again] = feed.take()
    reaction = Reaction(since=_stamp("2026-12-01T10:00:02Z"))
    reaction.add(repeat)
    reaction.add(again)  # the client came back to its poll: its reaction can be over
    assert reaction.requests == 2 and reaction.over_at(SETTLE) is not None


def test_the_journal_feed_hands_on_a_new_row_and_its_repeats() -> None:
    journal = [_row(1, "2026-12-01T10:00:00Z", repeats=4, last="2026-12-01T10:00:03Z")]
    first, newest = JournalFeed(lambda after: [e for e in journal if e["id"] > after]).take()
    assert newest.ended - first.ended == pytest.approx(3.0)


def test_a_refused_request_keeps_the_reaction_open_until_the_retry_is_answered() -> None:
    reaction = Reaction(since=0.0)
    reaction.add(_at(0.1))
    reaction.add(_at(0.2, "/api/v1/kvittering", status=429))
    reaction.add(_at(0.3))
    reaction.add(_at(0.4, "/api/v1/kvittering", status=503))
    assert reaction.over_at(SETTLE) is None  # it waits for Retry-After, and will be back
    reaction.add(_at(2.4, "/api/v1/kvittering"))  # the retry is news, not a repeat
    assert reaction.over_at(SETTLE) == pytest.approx(2.41 + SETTLE)


def test_the_tap_tells_the_run_of_each_request_as_it_starts_and_ends() -> None:
    release = threading.Event()
    served = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        served.set()
        release.wait(10)
        start_response("404 NOT FOUND", [])
        return [b"{}"]

    tap = ExchangeTap(app)
    feed = tap.feed("run-user")
    auth = "Basic " + base64.b64encode(b"run-user:secret").decode()
    environ = {
        "HTTP_AUTHORIZATION": auth,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/kvittering",
        "QUERY_STRING": "innsendingReferanse=A",
    }
    since = time.time()
    answer: list[Any] = []
    thread = threading.Thread(target=lambda: answer.append(tap(environ, lambda *a: None)))
    thread.start()
    assert served.wait(10)
    assert feed.busy_since(since) and feed.take() == []
    release.set()
    thread.join(10)
    assert feed.take() == []  # not answered until the server has sent the body
    answer[0].close()
    [exchange] = feed.take()
    assert (exchange.method, exchange.path, exchange.query, exchange.status) == (
        "GET",
        "/api/v1/kvittering",
        "innsendingReferanse=A",
        404,
    )
    assert not feed.busy_since(since)
    # Other runs' and the control plane's requests pass by unheard.
    tap({**environ, "HTTP_AUTHORIZATION": "Bearer admin"}, lambda *a: None)
    feed.close()
    assert tap.feeds == {}


def test_expected_failures_in_either_format(tmp_path: Path) -> None:
    lines = tmp_path / "known.txt"
    lines.write_text("# since 4.2\n\nhappy-path/henter-vedtak # JIRA-1\n", "utf-8")
    [item] = read_listed(lines)
    assert (item.key, item.line) == ("happy-path/henter-vedtak", 3)
    listed = tmp_path / "known.yaml"
    listed.write_text(
        "# since 4.2\n- happy-path/henter-vedtak\n- {scenario: rough-day, expectation: backs}\n",
        "utf-8",
    )
    items = read_listed(listed)
    assert [(i.key, i.line) for i in items] == [
        ("happy-path/henter-vedtak", 2),
        ("rough-day/backs", 3),
    ]
    check_listed(listed, items[:1], {"happy-path": {"henter-vedtak"}})
    with pytest.raises(ListError, match=r"known.yaml:3: no scenario 'rough-day'"):
        check_listed(listed, items, {"happy-path": {"henter-vedtak"}})


def test_a_client_command_is_checked_without_running_it(tmp_path: Path) -> None:
    script = tmp_path / "client.sh"
    script.write_text("#!/bin/sh\n", "utf-8")
    with pytest.raises(ClientCommandError, match="is not executable"):
        parse_client_cmd(f"{script} --flag")
    script.chmod(0o755)
    assert parse_client_cmd(f"{script} --flag 'two words'").argv == (
        str(script),
        "--flag",
        "two words",
    )
    with pytest.raises(ClientCommandError, match="is a folder"):
        parse_client_cmd(f"{tmp_path}/")


@pytest.mark.parametrize(("cpus", "jobs"), [(1, 4), (2, 8), (16, 8)])
def test_the_default_jobs_follow_the_cpus_capped(
    monkeypatch: pytest.MonkeyPatch, cpus: int, jobs: int
) -> None:
    monkeypatch.setattr(ci.os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert ci.default_jobs() == jobs
