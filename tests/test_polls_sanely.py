"""``polls_sanely`` judged on exchanges as the journal gives them.

Each case is a journal that a client written from our docs alone produced against the
server, reduced to the rows the check reads: when each request started and its answer
ended. Two of them fooled the check before: a slow answer journalled after a poll sent
later (a false red), and HEAD requests, which it did not count (a false green).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.scenarios.model import EMPTY, Expectation
from app.scoring.checks import backs_off, polls_sanely
from app.scoring.evidence import Exchange, Facts

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CHECK = Expectation(id="polls_sanely", check="polls_sanely")
KVITTERING = "/api/v1/kvittering"


def _poll(
    row: int, start: float, took: float, method: str = "GET", path: str = KVITTERING
) -> Exchange:
    started = T0 + timedelta(seconds=start)
    return Exchange(
        id=row,
        real_time=started + timedelta(seconds=took),
        virtual_time=T0,
        method=method,
        path=path,
        query={"innsendingReferanse": "AR1"},
        request_body=None,
        status=200,
        response_headers={},
        response_body=None,
        fault=None,
        started=started,
    )


def _facts(exchanges: list[Exchange], interval: float = 0.5) -> Facts:
    return Facts(
        run=None,  # type: ignore[arg-type]  # the check reads only the exchanges
        scenario=EMPTY,
        sak=None,  # type: ignore[arg-type]
        now=T0,
        start=T0,
        exchanges=exchanges,
        fired={},
        aliases={},
        kvitteringer={},
        oppdateringer=[],
        documents=[],
        poll_interval=interval,
    )


def _judge(exchanges: list[Exchange], interval: float = 0.5) -> Any:
    return polls_sanely(_facts(exchanges, interval), CHECK)


def test_a_slow_answer_journalled_after_a_later_poll_is_no_poll_sent_too_soon() -> None:
    # Sent every 0.5 s, start to start; the first answer took 1.2 s, so the second poll's
    # answer (fast) was journalled first and has the lower row id.
    journal = [_poll(2, 0.5, 0.05), _poll(1, 0.0, 1.2), _poll(3, 1.0, 0.05)]
    outcome = _judge(journal)
    assert outcome.ok is True, outcome.first_divergence


def test_polls_sent_too_soon_fail_in_whatever_order_they_were_journalled() -> None:
    journal = [_poll(2, 0.1, 0.01), _poll(1, 0.0, 1.2)]  # 0.1 s apart from start to start
    outcome = _judge(journal)
    assert outcome.ok is False
    assert "again after" in outcome.reason


def test_head_requests_on_a_polled_api_count_as_polls() -> None:
    hammer = [_poll(1, 0.0, 0.01)] + [_poll(n, n * 0.02, 0.01, "HEAD") for n in range(2, 12)]
    outcome = _judge(hammer)
    assert outcome.ok is False and "again after" in outcome.reason
    only_heads = [_poll(n, n * 0.02, 0.01, "HEAD") for n in range(1, 12)]
    assert _judge(only_heads).ok is False  # not "the client never polled"


def test_head_and_get_spaced_as_agreed_pass() -> None:
    spaced = [_poll(n, n * 0.6, 0.01, "HEAD" if n % 2 else "GET") for n in range(1, 8)]
    outcome = _judge(spaced)
    assert outcome.ok is True, outcome.first_divergence


def test_other_methods_and_paths_are_no_polls() -> None:
    others = [_poll(1, 0.0, 0.01, "OPTIONS"), _poll(2, 0.01, 0.01, "POST", "/api/v1/supplering")]
    assert _judge(others).ok is None


def test_backs_off_names_the_request_that_came_too_soon() -> None:
    refused = replace(_poll(1, 0.0, 0.01), status=429, response_headers={"Retry-After": "2"})
    outcome = backs_off(_facts([refused, _poll(2, 0.1, 0.01, "HEAD")]), CHECK)
    assert outcome.ok is False
    assert str(outcome.first_divergence).startswith(f"expected the next HEAD {KVITTERING} at")
