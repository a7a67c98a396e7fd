"""How far each worker's journal writer has got, on a board the workers of one host share.

A worker answers a request before its journal entry is committed (write-behind), so a
reader in another worker — the control plane finishing and scoring a run, the engine
looking for a client action — first waits until every writer has committed what it had
accepted when the reader asked. The board makes that wait possible without a database
write per request: each writer owns one slot in a small memory-mapped file beside the
database (its pid, entries accepted, entries done) and updates it in memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SLOTS = 64
_SLOT = struct.Struct("<qqq")  # pid, accepted, done
_FIELD = struct.Struct("<q")
SIZE = SLOTS * _SLOT.size
log = logging.getLogger(__name__)


def board_path(url_database: str | None, backend: str, url: str) -> str | None:
    """Where the board of a database lives: beside a SQLite file, else in the temp folder.

    None for an in-memory database, which only one process can see anyway.
    """
    if backend == "sqlite":
        if not url_database or url_database == ":memory:":
            return None
        return f"{url_database}-journal-progress"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"byggesak-sandbox-{digest}.journal-progress")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


class ProgressBoard:
    """One process's view of the shared board (open it again after a fork)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._fd = -1
        if path is None:
            self._map = mmap.mmap(-1, SIZE)
        else:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            with self._locked():
                if os.fstat(self._fd).st_size < SIZE:
                    os.ftruncate(self._fd, SIZE)
            self._map = mmap.mmap(self._fd, SIZE)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the board's file lock (no lock for a board in memory: one process)."""
        if self._fd < 0:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def claim(self) -> int:
        """Take a free slot (or one of a process that is gone) for this process; -1 if full."""
        pid = os.getpid()
        with self._locked():
            for slot in range(SLOTS):
                owner = self._read(slot)[0]
                # Another writer of this process (a second app on the same database) is alive.
                if owner == 0 or (owner != pid and not _alive(owner)):
                    _SLOT.pack_into(self._map, slot * _SLOT.size, pid, 0, 0)
                    return slot
        log.warning(
            "journal progress board %s is full: this worker writes synchronously", self.path
        )
        return -1

    def release(self, slot: int) -> None:
        """Give the slot up (its writer has written everything and stopped)."""
        if slot >= 0:
            with self._locked():
                _SLOT.pack_into(self._map, slot * _SLOT.size, 0, 0, 0)

    def close(self) -> None:
        """Unmap the board and close its file."""
        self._map.close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def accepted(self, slot: int, count: int) -> None:
        """Publish how many entries this slot's writer has accepted."""
        _FIELD.pack_into(self._map, slot * _SLOT.size + 8, count)

    def done(self, slot: int, count: int) -> None:
        """Publish how many entries this slot's writer has committed (or given up on)."""
        _FIELD.pack_into(self._map, slot * _SLOT.size + 16, count)

    def _read(self, slot: int) -> tuple[int, int, int]:
        # Another process may be writing the slot: read until two reads agree.
        while True:
            first = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if _SLOT.unpack_from(self._map, slot * _SLOT.size) == first:
                return first

    def wait(self, timeout: float, skip: int = -1) -> bool:
        """Wait until every live writer has done what it had accepted when called.

        Returns False (and logs) when ``timeout`` seconds pass first.
        """
        targets: dict[int, tuple[int, int]] = {}
        for slot in range(SLOTS):
            if slot == skip:
                continue
            pid, accepted, done = self._read(slot)
            if pid and done < accepted:
                targets[slot] = (pid, accepted)
        deadline = time.monotonic() + timeout
        pause = 0.0005
        while targets:
            for slot, (pid, accepted) in list(targets.items()):
                owner, _accepted, done = self._read(slot)
                if owner != pid or done >= accepted or not _alive(pid):
                    del targets[slot]
            if not targets:
                break
            if time.monotonic() >= deadline:
                log.warning(
                    "journal writers %s did not catch up in %.1f s", sorted(targets), timeout
                )
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.01)
        return True
