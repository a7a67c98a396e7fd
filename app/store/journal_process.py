"""The journal writer's loop in a process of its own, beside ``serve``'s granian workers.

``serve`` makes the listening socket, starts ``python -m app.store.journal_process`` with it
and sets ``SANDBOX_JOURNAL_SOCKET`` for the workers it starts next (the reasons, and the
loop itself: ``app.store.journal_service``). The process is started again if it dies while
serving; requests meanwhile wait in the socket's backlog.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import IO

from app.store.journal_service import JournalService, listen, remove
from app.store.journal_writer import Batcher

RESTART_PAUSE = 1.0  # seconds between two starts of a writer process that died at once
log = logging.getLogger(__name__)


class WriterProcess:
    """The loop in a child process of ``serve``, restarted if it dies while serving."""

    def __init__(self, database_url: str, cap: int) -> None:
        self.listener, self.address = listen()
        self.settings = json.dumps({"database_url": database_url, "cap": cap})
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_alive, name="journal-watch", daemon=True)

    def start(self) -> None:
        """Start the process and a thread that starts it again should it die."""
        self._spawn()
        self._watch.start()

    def _spawn(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.store.journal_process", str(self.listener.fileno())],
            stdin=subprocess.PIPE,
            pass_fds=[self.listener.fileno()],
        )
        assert process.stdin is not None
        # Settings on stdin (a database password never shows in ps), then it stays open:
        # when this process ends, however it ends, the writer reads the end and stops.
        try:
            process.stdin.write(self.settings.encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass  # it died at once: the watch thread sees it exit and starts another
        self._process = process

    def _keep_alive(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error("the journal writer stopped (exit %s); starting it again", code)
            # Requests wait in the socket's backlog meanwhile; a writer that cannot start
            # at all is tried once a second, not in a tight loop.
            if time.monotonic() - started < RESTART_PAUSE:
                self._stopping.wait(RESTART_PAUSE)
                if self._stopping.is_set():
                    return
            self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the writer commit what it has, wait for it and remove the socket."""
        self._stopping.set()
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.close()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        self.listener.close()
        remove(self.address)


def _main(listener_fd: int, settings_pipe: IO[bytes]) -> None:
    """The child process: read the settings, then serve until the parent closes the pipe."""
    from app.store.db import build_engine

    # Ctrl-C reaches the whole process group: the writer ends when serve says so, after
    # the workers have sent their last entries.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    settings = json.loads(settings_pipe.readline())
    batcher = Batcher(build_engine(settings["database_url"]), int(settings["cap"]))
    listener = socket.socket(fileno=listener_fd)
    try:
        JournalService(batcher, listener, settings_pipe.fileno()).run()
    finally:
        batcher.close()


if __name__ == "__main__":
    _main(int(sys.argv[1]), sys.stdin.buffer)
