"""What the client does, as the runner sees it: its exchanges with the simulated API, and
when a reaction to a kommune step is over.

Two feeds tell the runner about exchanges. The embedded sandbox wraps its WSGI app in
:class:`ExchangeTap`, which hears each request of a run (by its Basic user) start and end,
and wakes the runner at once. A sandbox elsewhere (``--server``) is read through its
journal, a few times a second (:class:`JournalFeed`).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.wire.query import question

# Answers after which a client is expected to try again (after Retry-After, or its own pause).
REFUSED = frozenset({429, 500, 502, 503, 504})
JOURNAL_LOOK = 0.1  # seconds between journal reads: each read is a request to the sandbox
TAIL = 20  # rows read again for repeats: the newest row of each poll a client repeats
TAIL_LOOK = 0.5  # seconds between such reads, while no new row comes


@dataclass(frozen=True)
class Exchange:
    """One request of the client: when it was sent and answered (wall clock), and what."""

    started: float
    ended: float
    method: str
    path: str
    query: str
    status: int


class Feed(Protocol):
    """Where the runner learns about a run's exchanges."""

    def take(self) -> list[Exchange]:
        """Exchanges answered since the last take, in the order they were answered."""

    def busy_since(self, since: float) -> bool:
        """True while a request sent at or after ``since`` is still unanswered (if known)."""

    def wait(self, until: float) -> None:
        """Sleep until ``until`` (monotonic), or sooner when something happens."""

    def poke(self) -> None:
        """Wake a waiting runner (e.g. the client process ended)."""

    def close(self) -> None:
        """Stop listening."""


class Reaction:
    """The client's requests since a kommune step, and whether its reaction is over.

    The reaction is over once the client has been quiet for the settle window, counted
    from the end of its last request that was not a repeat. A repeat is a GET the client
    already made since the step (same path, same question: a cache-buster in its query
    does not make it another, ``app.wire.query``) and was answered: a polling client
    that polls again is quiet. Before that the client must have come back to one of its
    polls (so it has read everything it reads once a round), its last answer must not be a
    refusal (it is waiting to try again) and nothing it sent may still be unanswered.
    """

    def __init__(self, since: float) -> None:
        self.since = since
        self.requests = 0
        self.repeated = False
        self.last_activity: float | None = None
        self.last_ended = 0.0
        self.refused = False
        self.answered: set[tuple[str, str, str]] = set()

    def add(self, exchange: Exchange) -> None:
        """Count one answered exchange (those sent before the step read the old state)."""
        if exchange.started < self.since:
            return
        self.requests += 1
        key = (exchange.method, exchange.path, question(exchange.query))
        refused = exchange.status in REFUSED
        repeat = exchange.method in ("GET", "HEAD") and key in self.answered and not refused
        if repeat:
            self.repeated = True
        else:
            self.last_activity = max(self.last_activity or 0.0, exchange.ended)
        if not refused:
            self.answered.add(key)
        if exchange.ended >= self.last_ended:
            self.last_ended = exchange.ended
            self.refused = refused

    def over_at(self, settle: float) -> float | None:
        """When (wall clock) the reaction is over if nothing more happens; None: not yet."""
        if not self.repeated or self.refused or self.last_activity is None:
            return None
        return self.last_activity + settle


# -- the embedded sandbox: every exchange as it happens --------------------------------


class LocalFeed:
    """Exchanges of one run, handed over by :class:`ExchangeTap` as they end."""

    def __init__(self, release: Callable[[], None]) -> None:
        self.changed = threading.Condition()
        self.done: list[Exchange] = []
        self.open: dict[int, float] = {}
        self.news = False
        self.release = release

    def begin(self, token: int, started: float) -> None:
        """A request was sent."""
        with self.changed:
            self.open[token] = started

    def end(self, token: int, exchange: Exchange) -> None:
        """A request was answered."""
        with self.changed:
            self.open.pop(token, None)
            self.done.append(exchange)
            self.news = True
            self.changed.notify_all()

    def take(self) -> list[Exchange]:
        """Exchanges answered since the last take."""
        with self.changed:
            done, self.done = self.done, []
            return done

    def busy_since(self, since: float) -> bool:
        """True while a request sent at or after ``since`` is unanswered."""
        with self.changed:
            return any(started >= since for started in self.open.values())

    def wait(self, until: float) -> None:
        """Sleep until ``until`` or the next answered request or poke."""
        with self.changed:
            if not self.news:
                self.changed.wait(max(0.0, until - time.monotonic()))
            self.news = False

    def poke(self) -> None:
        """Wake the waiter."""
        with self.changed:
            self.news = True
            self.changed.notify_all()

    def close(self) -> None:
        """Stop listening to the run."""
        self.release()


class ExchangeTap:
    """WSGI middleware: tells each watched run's feed when its requests start and end."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.feeds: dict[str, LocalFeed] = {}
        self.lock = threading.Lock()

    def feed(self, username: str) -> LocalFeed:
        """Start listening to the run whose Basic user this is."""

        def release() -> None:
            with self.lock:
                self.feeds.pop(username, None)

        feed = LocalFeed(release)
        with self.lock:
            self.feeds[username] = feed
        return feed

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve the request; a watched run's feed hears it begin and end."""
        feed = self.feeds.get(_basic_user(environ.get("HTTP_AUTHORIZATION", "")) or "")
        if feed is None:
            return self.app(environ, start_response)
        started = time.time()
        token = id(environ)
        status: list[int] = []

        def record(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(int(code[:3]))
            return start_response(code, headers, exc_info)

        def finished() -> None:
            feed.end(
                token,
                Exchange(
                    started,
                    time.time(),
                    environ.get("REQUEST_METHOD", ""),
                    environ.get("PATH_INFO", ""),
                    environ.get("QUERY_STRING", ""),
                    status[-1] if status else 500,
                ),
            )

        feed.begin(token, started)
        try:
            body = self.app(environ, record)
        except BaseException:
            finished()
            raise
        return _Closing(body, finished)


class _Closing:
    """A WSGI body that calls ``on_close`` once the server has sent it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


def _basic_user(header: str) -> str | None:
    kind, _, encoded = header.partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip()).decode("utf-8").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


# -- a sandbox elsewhere: its journal --------------------------------------------------


class JournalFeed:
    """Exchanges of one run read from the control plane's journal.

    A poll identical to an earlier one folds into that row (``repeats``) instead of adding
    one (``app.store.journal_folding``), so a client that polls on while nothing changes
    adds no row. While no new row comes, the last rows are read again now and then and a
    row whose repeats grew counts as its newest repeat.
    """

    def __init__(self, read: Callable[[int], list[dict[str, Any]]]) -> None:
        self.read = read
        self.last_id = 0
        self.poked = threading.Event()
        self.repeats: dict[int, int] = {}  # of the last rows: the repeats seen so far
        self.tail_read = 0.0

    def take(self) -> list[Exchange]:
        """Entries journalled since the last take, and repeats folded into the last rows."""
        entries = self.read(self.last_id)
        now = time.monotonic()
        if not entries and self.last_id and now - self.tail_read >= TAIL_LOOK:
            self.tail_read = now
            entries = self.read(max(0, self.last_id - TAIL))
        out: list[Exchange] = []
        for entry in entries:
            row, repeats = int(entry["id"]), int(entry.get("repeats") or 1)
            if row > self.last_id:
                out.append(journal_exchange(entry))
                if repeats > 1:
                    out.append(latest_repeat(entry))
            elif repeats > self.repeats.get(row, repeats):
                out.append(latest_repeat(entry))
            self.repeats[row] = repeats
        if entries:
            self.last_id = max(self.last_id, int(entries[-1]["id"]))
            self.repeats = {r: n for r, n in self.repeats.items() if r > self.last_id - TAIL}
        return out

    def busy_since(self, since: float) -> bool:
        """The journal only shows answered requests."""
        return False

    def wait(self, until: float) -> None:
        """Sleep until the next look at the journal, ``until`` or a poke."""
        self.poked.wait(max(0.0, min(JOURNAL_LOOK, until - time.monotonic())))
        self.poked.clear()

    def poke(self) -> None:
        """Wake the waiter."""
        self.poked.set()

    def close(self) -> None:
        """Nothing to release."""


def latest_repeat(entry: dict[str, Any]) -> Exchange:
    """The newest of a folded row's repeats (it took about as long as the first)."""
    first = journal_exchange(entry)
    if not entry.get("lastRealTime"):
        return first
    ended = datetime.fromisoformat(entry["lastRealTime"].replace("Z", "+00:00")).timestamp()
    return Exchange(
        ended - (first.ended - first.started),
        ended,
        first.method,
        first.path,
        first.query,
        first.status,
    )


def journal_exchange(entry: dict[str, Any]) -> Exchange:
    """A journal entry as an exchange (the entry is stamped when it was answered)."""
    ended = datetime.fromisoformat(entry["realTime"].replace("Z", "+00:00")).timestamp()
    request = entry["request"]
    return Exchange(
        ended - float(entry["durationMs"]) / 1000,
        ended,
        request["method"],
        request["path"],
        request.get("query") or "",
        int(entry["response"]["status"]),
    )
