"""The console in a real terminal: Ctrl-C and Ctrl-D leave the terminal as they found it.

Each console runs as `python -m bot console` (what `make demo` runs) on a pseudo-terminal of
its own that is its controlling terminal, so Ctrl-C reaches it as SIGINT from the terminal,
exactly as in a shell. The terminal's settings are read on the pty's slave side before and
after. While the console waits for a line, readline has turned echo and line mode off: that
is what must not outlive the console (it used to, after Ctrl-C).
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

import termios

CTRL_C, CTRL_D = b"\x03", b"\x04"
REPO = Path(__file__).resolve().parents[2]
# Popen's new session has no controlling terminal: take the pty as one, as a login shell
# does, then become the console.
LAUNCH = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bot', 'console'])"
)


class TerminalSession:
    """A console on its own pseudo-terminal: type into it, read its screen."""

    def __init__(self, cwd: Path) -> None:
        self.master, self.slave = os.openpty()
        self.before = termios.tcgetattr(self.slave)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "TERM": "xterm",
            "PYTHONPATH": str(REPO),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH],
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            cwd=cwd,  # no .env here: the console's own defaults
            env=env,
            start_new_session=True,
        )
        self.output = b""
        self._read_up_to = 0

    @property
    def screen(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def settings(self) -> list[Any]:
        return termios.tcgetattr(self.slave)

    def echo_and_line_mode(self) -> tuple[bool, bool]:
        lflag = self.settings()[3]
        return bool(lflag & termios.ECHO), bool(lflag & termios.ICANON)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Read until ``text`` is on the screen after what was waited for before."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while (found := self.output.find(wanted, self._read_up_to)) < 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")
            self._read(0.1)
        self._read_up_to = found + len(wanted)

    def type(self, line: str) -> None:
        self.press(line.encode() + b"\r")

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def exit_code(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not stop; the screen:\n{self.screen}")
            self._read(0.1)  # keep reading so the console never blocks on a full terminal
        while self._read(0.05):
            pass
        return self.process.returncode

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            self.output += os.read(self.master, 65536)
        except OSError:  # EIO: nothing left to read
            return False
        return True

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self.master)
        os.close(self.slave)


SESSIONS = 4  # one per test below


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[TerminalSession]]:
    """The module's consoles, started side by side: each takes a couple of seconds to start
    (imports, demo data), so starting them together keeps the module fast."""
    sessions = [TerminalSession(tmp_path_factory.mktemp("console")) for _ in range(SESSIONS)]
    yield list(sessions)
    for session in sessions:
        session.close()


@pytest.fixture
def terminal(started: list[TerminalSession], tmp_path: Path) -> Iterator[TerminalSession]:
    if started:
        yield started.pop()
        return
    session = TerminalSession(tmp_path)  # more tests than SESSIONS
    yield session
    session.close()


def assert_left_as_found(terminal: TerminalSession) -> None:
    assert terminal.exit_code() == 0
    assert terminal.echo_and_line_mode() == (True, True)
    assert terminal.settings() == terminal.before
    assert "Traceback" not in terminal.screen and "KeyboardInterrupt" not in terminal.screen


def test_ctrl_c_at_the_prompt_exits_quietly_and_echo_comes_back(
    terminal: TerminalSession,
) -> None:
    before = terminal.before[3]
    assert before & termios.ECHO and before & termios.ICANON  # a terminal as a shell leaves it
    terminal.wait_for("dana> ")
    terminal.type("as arjun")
    terminal.wait_for("arjun> ")
    assert terminal.echo_and_line_mode() == (False, False)  # readline has the line

    terminal.press(CTRL_C)

    assert_left_as_found(terminal)
    assert terminal.screen.endswith("You are arjun now (Approval Manager).\narjun> \nbye\n")


def test_ctrl_c_inside_a_forms_field_exits_quietly(terminal: TerminalSession) -> None:
    terminal.wait_for("dana> ")
    terminal.type("as admin")
    terminal.wait_for("admin> ")
    terminal.type("admin role new")
    terminal.wait_for("Fill in “New role” — `cancel` abandons it.")
    terminal.wait_for("  Name: ")
    assert terminal.echo_and_line_mode() == (False, False)

    terminal.press(CTRL_C)

    assert_left_as_found(terminal)
    assert terminal.screen.endswith("  Name: \nbye\n")


def test_ctrl_d_inside_a_forms_field_cancels_it_and_exits(terminal: TerminalSession) -> None:
    terminal.wait_for("dana> ")
    terminal.type("as admin")
    terminal.wait_for("admin> ")
    terminal.type("admin role new")
    terminal.wait_for("  Name: ")

    terminal.press(CTRL_D)

    assert_left_as_found(terminal)
    assert terminal.screen.endswith("  Name: \n(cancelled “New role”)\nbye\n")


def test_ctrl_d_at_the_prompt_exits_quietly(terminal: TerminalSession) -> None:
    terminal.wait_for("dana> ")

    terminal.press(CTRL_D)

    assert_left_as_found(terminal)
    assert terminal.screen.endswith("dana> \nbye\n")
