"""Lines in, lines out, without blocking the event loop the bot runs on.

Reading happens in a daemon thread, one line at a time, so the bot keeps serving (work
after an ack, background posts) while the person types, and an interrupt never waits for
a pending read. Scripted input (a file, a pipe, io.StringIO) is echoed after the prompt so
the output reads as a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from typing import TextIO


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
