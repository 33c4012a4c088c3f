"""Lines in, lines out, without blocking the event loop the bot runs on.

Reading happens in a daemon thread, one line at a time, so the bot keeps serving (work
after an ack, background posts) while the person types, and an interrupt never waits for
a pending read. Scripted input (a file, a pipe, io.StringIO) is echoed after the prompt so
the output reads as a transcript.

On a terminal, GNU readline gives line editing and history: while it waits for a line it
turns the terminal's echo and line mode (ECHO, ICANON) off, and puts them back only when
the line is read. Ctrl-C arrives on the main thread (the event loop's), never in the reading
thread, so that thread is still inside readline when the console stops and readline never
puts the terminal back. Hence ``tty_kept``, which restores the settings saved at the start
however the console ends, and ``ctrl_c_cancels``, which turns Ctrl-C into a cancellation
of the console's task (the bot is stopped cleanly, the status is 0) instead of a
KeyboardInterrupt.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO


class Terminal:
    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self._in = stdin
        self._out = stdout
        self.interactive = (
            stdin is sys.stdin and stdout is sys.stdout and _isatty(stdin) and _isatty(stdout)
        )
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())

    def write(self, *lines: str) -> None:
        for line in lines:
            self._out.write(line + "\n")
        self._out.flush()

    async def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at end of input."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            if not answer.done():
                answer.set_result(line)

        def work() -> None:
            line = self._read_blocking(prompt)
            with contextlib.suppress(RuntimeError):  # the loop may have closed meanwhile
                loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=work, name="console-input", daemon=True).start()
        return await answer

    def _read_blocking(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:  # Ctrl-D: end the prompt's line
                self._out.write("\n")
                return None
        line = self._in.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        self._out.write(f"{prompt}{line}\n")
        self._out.flush()
        return line


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def tty_kept(stream: TextIO) -> Iterator[None]:
    """Put the terminal's settings (echo, line mode…) back as they were, however this ends."""
    if sys.platform == "win32" or not _isatty(stream):
        yield
        return
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error, OSError):  # the terminal may be gone (hang-up)
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@dataclass
class CtrlC:
    pressed: bool = False


@contextlib.contextmanager
def ctrl_c_cancels(task: asyncio.Task[Any]) -> Iterator[CtrlC]:
    """While inside, Ctrl-C (SIGINT) cancels ``task`` and sets ``pressed``, instead of raising
    KeyboardInterrupt wherever the main thread happens to be. Where the loop cannot take
    signals (not the main thread, Windows), nothing changes."""
    loop = asyncio.get_running_loop()
    ctrl_c = CtrlC()

    def interrupt() -> None:
        ctrl_c.pressed = True
        task.cancel()

    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):
        yield ctrl_c
        return
    try:
        yield ctrl_c
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if previous is not None:  # e.g. asyncio.run's own handler
            signal.signal(signal.SIGINT, previous)
