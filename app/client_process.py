"""The client under test as a process: its command checked before any run is created,
started in a process group of its own, the tail of its output kept, and stopped together
with everything it started."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

TAIL_BYTES = 16_000
TAIL_CHARS = 4000
_LIVE: set[ClientProcess] = set()
_LIVE_LOCK = threading.Lock()


class ClientCommandError(ValueError):
    """The client command cannot be started: empty, unsplittable, missing or not executable."""


@dataclass(frozen=True)
class ClientCommand:
    """A client command line, split into the program and its arguments."""

    text: str
    argv: tuple[str, ...]


def parse_client_cmd(text: str) -> ClientCommand:
    """Split and check the command; ClientCommandError names what is wrong in one line."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ClientCommandError(f"cannot split it into words ({exc})") from None
    if not argv:
        raise ClientCommandError("the command is empty")
    program = argv[0]
    if "/" in program:
        path = Path(program)
        if not path.exists():
            raise ClientCommandError(f"no such file: {program}")
        if path.is_dir():
            raise ClientCommandError(f"{program} is a folder, not a program")
        if not os.access(path, os.X_OK):
            raise ClientCommandError(
                f"{program} is not executable (chmod +x {program}, or name its interpreter first)"
            )
    elif shutil.which(program) is None:
        raise ClientCommandError(f"no program '{program}' on PATH")
    return ClientCommand(text, tuple(argv))


class _Tail:
    """The last bytes written to it, from any thread."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.data += chunk
            del self.data[:-TAIL_BYTES]

    def text(self) -> str:
        with self.lock:
            return self.data.decode("utf-8", errors="replace")[-TAIL_CHARS:]


class ClientProcess:
    """One running client: output and stderr tails, exit code, and how it ended."""

    def __init__(
        self,
        command: ClientCommand,
        env: dict[str, str],
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        self.command = command
        self.started = time.monotonic()
        self.ended: float | None = None
        self.output = _Tail()
        self.errors = _Tail()
        try:
            # A session of its own, so that stopping it reaches whatever it started too.
            self.popen = subprocess.Popen(  # noqa: S603 - the user's own command, by design
                command.argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise ClientCommandError(f"cannot start it: {exc.strerror or exc}") from None
        with _LIVE_LOCK:
            _LIVE.add(self)
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self.readers = [
            threading.Thread(target=_copy, args=(self.popen.stdout, (self.output,)), daemon=True),
            threading.Thread(
                target=_copy, args=(self.popen.stderr, (self.output, self.errors)), daemon=True
            ),
        ]
        for reader in self.readers:
            reader.start()
        self.waiter = threading.Thread(target=self._wait, args=(on_exit,), daemon=True)
        self.waiter.start()

    def _wait(self, on_exit: Callable[[], None] | None) -> None:
        self.popen.wait()
        self.ended = time.monotonic()
        if on_exit is not None:
            on_exit()

    @property
    def alive(self) -> bool:
        """Still running."""
        return self.popen.poll() is None

    @property
    def exit_code(self) -> int | None:
        """Its exit code; negative when a signal ended it; None while it runs."""
        return self.popen.poll()

    def seconds(self) -> float:
        """How long it ran (so far)."""
        return (self.ended or time.monotonic()) - self.started

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for it to end by itself; True if it has."""
        try:
            self.popen.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        """End it and its process group: TERM, then KILL for whatever is left after 5 s."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.popen.pid, sig)
            except (ProcessLookupError, PermissionError):
                break  # nobody left in the group
            if sig == signal.SIGTERM:
                self.wait(5.0)
        self.popen.wait()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        for reader in self.readers:
            reader.join(timeout=5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


def stop_all_clients() -> None:
    """Stop every client still running (the runner is being interrupted)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for client in live:
        client.stop()


def _copy(stream: IO[bytes], tails: tuple[_Tail, ...]) -> None:
    """Read a pipe to its end into the tails."""
    while chunk := os.read(stream.fileno(), 65536):
        for tail in tails:
            tail.add(chunk)
