"""The benchmarks' other processes (servers, load clients) and how they are talked to.

A child is ``python -m <module> '<json plan>'``. It prints ``ready`` when it can serve, then
answers commands read from its stdin, one JSON object a line each way: stdout carries only
those lines, each prefixed with ``MARK`` (logs go to stderr). ``{"cmd": "quit"}`` or the end
of stdin stops it. Only the standard library is imported here, so a load client that uses
it stays light.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Plan = TypeVar("Plan", bound="DataclassInstance")

MARK = "@@bench "
ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 1_800.0  # seeding 50,000 releases takes a while on a loaded machine
LINE_LIMIT = 1 << 26  # a profile, or a plan with a thousand button values, is one long line


# ---------------------------------------------------------------------------- child side


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(message) + "\n")
    sys.stdout.flush()


async def commands() -> AsyncIterator[dict[str, Any]]:
    """The commands the parent sends, until it says ``quit`` or closes stdin."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        command: dict[str, Any] = json.loads(line)
        if command.get("cmd") == "quit":
            return
        yield command


async def serve_loads(send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> None:
    """A load client's loop: ``ready``, then ``send`` each ``load`` command's plan and emit
    what it measured."""
    emit({"event": "ready"})
    async for command in commands():
        if command.get("cmd") == "load":
            emit({"event": "load", **await send(command["plan"])})
        else:
            emit({"event": "error", "error": f"unknown command {command!r}"})


# --------------------------------------------------------------------------- parent side


class Child:
    """One child process and its stdin/stdout protocol."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.ready: dict[str, Any] = {}

    @property
    def url(self) -> str:
        """A server's Slack events URL, as its ``ready`` said."""
        return str(self.ready["url"])

    @classmethod
    async def start(
        cls, module: str, plan: dict[str, Any], *, timeout: float = READY_TIMEOUT_S
    ) -> Child:
        """Start ``module`` with ``plan`` and wait for its ``ready``."""
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            json.dumps(plan),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env=env,
            limit=LINE_LIMIT,
        )
        child = cls(module.rsplit(".", 1)[-1], process)
        try:
            ready = await asyncio.wait_for(child.receive(), timeout)
            if ready.get("event") != "ready":
                raise RuntimeError(f"{child.name} did not start: {ready}")
        except BaseException:
            await child.stop()
            raise
        child.ready = ready
        return child

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                code = await self.process.wait()
                raise RuntimeError(f"{self.name} ended (exit {code}); its stderr says why")
            text = line.decode()
            if text.startswith(MARK):
                answer: dict[str, Any] = json.loads(text[len(MARK) :])
                return answer
            sys.stderr.write(text)  # something else printed on stdout: pass it on

    async def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command; its answer (an ``error`` event raises)."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        answer = await self.receive()
        if answer.get("event") == "error":
            raise RuntimeError(f"{self.name}: {answer.get('error')}")
        return answer

    async def stop(self) -> None:
        """Ask a ready child to quit (a server drains its after-ack work); end any other."""
        if self.process.returncode is not None:
            return
        if self.ready and self.process.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.process.stdin.write(b'{"cmd": "quit"}\n')
                await self.process.stdin.drain()
                self.process.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 30)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


@contextlib.asynccontextmanager
async def running(module: str, plan: dict[str, Any]) -> AsyncIterator[Child]:
    child = await Child.start(module, plan)
    try:
        yield child
    finally:
        await child.stop()


class LoadHandle(Generic[Plan]):
    """The parent's handle on a load-generator process."""

    def __init__(self, child: Child) -> None:
        self.child = child

    async def load(self, plan: Plan) -> dict[str, Any]:
        """Send ``plan``'s requests from the client process; what it measured."""
        return await self.child.ask({"cmd": "load", "plan": asdict(plan)})


@contextlib.asynccontextmanager
async def load_handle(module: str) -> AsyncIterator[LoadHandle[Any]]:
    """The load client ``module`` in a process of its own (its plans: see its ``send``)."""
    async with running(module, {}) as child:
        yield LoadHandle(child)
