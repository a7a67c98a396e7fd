"""The journal writer: one loop that commits every request's entry in groups, over a Unix socket.

A request hands its entry to the writer and its answer leaves only once the entry is
committed, batched with whatever its neighbours handed in meanwhile (the group commit
databases use for their logs): "nothing answered is lost", even under ``kill -9``.

Under ``serve`` the loop runs in a process of its own that every granian worker talks to
(``app.store.journal_process``).
In a worker's threads the commit was the costly part of a poll, not for its SQL but for
the interpreter lock: each of the writer thread's SQLite calls gave the lock up and had to
win it back from sixteen request threads (bench/README.md, "Where a poll's CPU goes"). In
its own process the writer has a lock of its own, one batch serves all workers, and a
request only sends a frame and waits for one byte (1.08-1.19 x the polls a second:
bench/README.md, "the journal writer in a process of its own"). An app made in a process of its own
(the tests, ``flask run``) runs the same loop in a thread: one write path either way.

Frames are a 4-byte length and a pickled entry; the answer is one byte, ``OK`` once the
entry is committed or ``LOST`` when it could not be. Only the sandbox's own user can reach
the socket (``listen``).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import secrets
import selectors
import shutil
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, event

from app.errors import JournalUnavailable
from app.store.journal_writer import Batcher

FRAME = struct.Struct("!I")
OK, LOST = b"\x01", b"\x00"
MAX_FRAME = 64 * 1024 * 1024  # far above two capped bodies and their headers
_PEERCRED = struct.Struct("3i")  # pid, uid, gid
log = logging.getLogger(__name__)


# Linux's abstract socket names: nothing on disk, so nothing is left behind by a kill -9.
ABSTRACT = sys.platform.startswith("linux")


def listen() -> tuple[socket.socket, str]:
    """A listening Unix socket only this user can reach, and its address.

    On Linux an abstract name (written ``@name``), whose peers the writer checks are of its
    own user; elsewhere a socket in a new folder only the owner can open.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if ABSTRACT:
        address = f"@byggesak-journal-{secrets.token_hex(12)}"
    else:
        address = os.path.join(tempfile.mkdtemp(prefix="byggesak-journal-"), "writer.sock")
    listener.bind(_bindable(address))
    listener.listen(1024)
    return listener, address


def _bindable(address: str) -> str:
    return "\0" + address[1:] if address.startswith("@") else address


def remove(address: str) -> None:
    """Remove the socket's folder, if it has one (after the writer has stopped)."""
    if not address.startswith("@"):
        shutil.rmtree(os.path.dirname(address), ignore_errors=True)


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this process's user (an abstract name has no permissions)."""
    if not ABSTRACT:
        return True  # the folder's mode decides who reaches the socket
    credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    _pid, uid, _gid = _PEERCRED.unpack(credentials)
    return bool(uid == os.getuid())


class _Peer:
    """One client connection and the bytes it has sent that make no whole frame yet."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = bytearray()

    def frames(self) -> Iterator[bytes]:
        """The whole frames received so far."""
        while len(self.buffer) >= FRAME.size:
            (size,) = FRAME.unpack_from(self.buffer)
            if size > MAX_FRAME:
                raise ValueError(f"a frame of {size} bytes")
            end = FRAME.size + size
            if len(self.buffer) < end:
                return
            frame = bytes(self.buffer[FRAME.size : end])
            del self.buffer[:end]
            yield frame


class JournalService:
    """The loop: read every frame that has arrived, commit them in one batch, answer each."""

    def __init__(self, batcher: Batcher, listener: socket.socket, stop: int) -> None:
        self.batcher = batcher
        self.listener = listener
        self.stop = stop  # a file descriptor that becomes readable (or closes) to stop

    def run(self) -> None:
        """Serve until ``stop`` is readable, then write what has arrived and return."""
        selector = selectors.DefaultSelector()
        self.listener.setblocking(False)
        selector.register(self.listener, selectors.EVENT_READ)
        selector.register(self.stop, selectors.EVENT_READ)
        peers: dict[socket.socket, _Peer] = {}
        stopping = False
        while not stopping:
            waiting: list[tuple[_Peer, dict[str, Any]]] = []
            for key, _events in selector.select():
                if key.fileobj == self.stop:
                    stopping = True
                elif key.fileobj is self.listener:
                    self._accept(selector, peers)
                else:
                    peer = peers[key.fileobj]  # type: ignore[index]
                    if not self._read(peer, waiting):
                        selector.unregister(peer.conn)
                        del peers[peer.conn]
                        peer.conn.close()
            if waiting:
                self._commit(waiting)
        for peer in peers.values():
            peer.conn.close()
        selector.close()

    def _accept(self, selector: selectors.BaseSelector, peers: dict[socket.socket, _Peer]) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while True:
                conn, _address = self.listener.accept()
                if not _same_user(conn):
                    log.warning("a process of another user tried the journal writer's socket")
                    conn.close()
                    continue
                conn.setblocking(False)
                peers[conn] = _Peer(conn)
                selector.register(conn, selectors.EVENT_READ)

    def _read(self, peer: _Peer, waiting: list[tuple[_Peer, dict[str, Any]]]) -> bool:
        """Take in what ``peer`` sent; False when it has gone (or sent what is no frame)."""
        try:
            while True:
                data = peer.conn.recv(1 << 20)
                if not data:
                    return False
                peer.buffer += data
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            return False
        try:
            for frame in peer.frames():
                waiting.append((peer, pickle.loads(frame)))  # noqa: S301 - our own workers
        except Exception:  # a client that is not ours: drop it, keep serving the rest
            log.exception("a journal client sent what is not an entry")
            return False
        return True

    def _commit(self, waiting: list[tuple[_Peer, dict[str, Any]]]) -> None:
        try:
            answer = OK if self.batcher.write([entry for _peer, entry in waiting]) else LOST
        except Exception:  # a bug in our own code: the writer must live on
            log.exception("%d journal entries lost", len(waiting))
            answer = LOST
        for peer, _entry in waiting:
            with contextlib.suppress(OSError):  # gone: its request has failed already
                peer.conn.send(answer)


class JournalClient:
    """A request thread's side: one connection per thread, one frame out and one byte back."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._local = threading.local()

    def write(self, entry: dict[str, Any]) -> None:
        """Hand ``entry`` in and return once it is committed; JournalUnavailable if not."""
        payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        frame = FRAME.pack(len(payload)) + payload
        conn = self._connection()
        try:
            try:
                conn.sendall(frame)
            except OSError:
                # A connection to a writer that has since been started again: nothing was
                # read from it, so sending on a new one cannot record the entry twice.
                self.close()
                conn = self._connection()
                conn.sendall(frame)
            answer = conn.recv(1)
        except OSError:
            answer = b""
        if answer == OK:
            return
        if answer != LOST:  # the writer went away: the next request connects again
            self.close()
        raise JournalUnavailable(
            "the journal could not record this exchange; send it again",
            headers={"Retry-After": "1"},
        )

    def _connection(self) -> socket.socket:
        conn: socket.socket | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(_bindable(self.address))
            except OSError:
                conn.close()
                raise JournalUnavailable(
                    "the journal writer cannot be reached; send it again",
                    headers={"Retry-After": "1"},
                ) from None
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()


class InProcessWriter:
    """The loop in a thread of this process, for an app that is not run by ``serve``."""

    def __init__(self, batcher: Batcher) -> None:
        self.batcher = batcher
        listener, self.address = listen()
        self._stop_read, self._stop_write = os.pipe()
        self._pid = os.getpid()
        self.service = JournalService(self.batcher, listener, self._stop_read)
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()
        self.client = JournalClient(self.address)

    def _run(self) -> None:
        try:
            self.service.run()
        finally:
            self.service.listener.close()
            self.batcher.close()

    def write(self, entry: dict[str, Any]) -> None:
        """Hand ``entry`` in and return once it is committed."""
        self.client.write(entry)

    def close(self, timeout: float = 10.0) -> None:
        """Write what has arrived, stop the thread and remove the socket."""
        # A forked child holds a copy of this writer but not its thread: its pipe is the
        # parent's, so the child must not stop it.
        if self._stop_write < 0 or os.getpid() != self._pid:
            return
        os.write(self._stop_write, b"x")
        self._thread.join(timeout)
        self.client.close()
        if self._thread.is_alive():
            return  # still committing: leave it its pipe and socket
        os.close(self._stop_write)
        os.close(self._stop_read)
        self._stop_write = -1
        remove(self.address)


class WriterSlot:
    """The app's way to the writer, made afresh in each process: the server forks after the
    app is built. ``address`` is the writer process's socket under ``serve``; without one
    the app runs the loop in a thread of its own."""

    def __init__(self, engine: Engine, cap: int, address: str | None) -> None:
        self.engine = engine
        self.cap = cap
        self.address = address
        self._pid = -1
        self._writer: JournalClient | InProcessWriter | None = None
        self._lock = threading.Lock()
        event.listen(engine, "engine_disposed", self.close)

    def get(self) -> JournalClient | InProcessWriter:
        """This process's way to the writer."""
        writer = self._writer
        if writer is not None and self._pid == os.getpid():
            return writer
        with self._lock:
            if self._writer is None or self._pid != os.getpid():
                if self.address:
                    self._writer = JournalClient(self.address)
                else:
                    self._writer = InProcessWriter(Batcher(self.engine, self.cap))
                    atexit.register(self._writer.close)
                self._pid = os.getpid()
            return self._writer

    def close(self, _engine: Engine | None = None) -> None:
        """Write what is waiting and stop this process's writer thread (with
        ``engine.dispose``); the next write starts one again."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is None or self._pid != os.getpid():
                return
        if isinstance(writer, InProcessWriter):
            atexit.unregister(writer.close)
        writer.close()

    def write(self, entry: dict[str, Any]) -> None:
        """Hand ``entry`` to the writer and return once it is committed."""
        self.get().write(entry)
