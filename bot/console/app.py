"""`python -m bot console`: talk to the real bot as a demo persona, in a terminal.

The bot runs exactly as in production (bot/devtools/harness.py ``local_bot``: the embedded
engine with demo data, the real aiohttp app on a free port). What you type becomes signed
Slack requests (slash commands, button clicks, modal submissions, events); what the bot
says comes back as Web API calls to the in-process fake Slack, which the console renders.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.console.mentions import slack_mentions
from bot.console.modals import ModalFiller
from bot.console.terminal import Terminal, ctrl_c_cancels, tty_kept
from bot.console.transcript import Origin, Transcript, ack_message, reply_note
from bot.devtools.driver import Reply
from bot.devtools.fake_slack import Call
from bot.devtools.harness import DEMO_PEOPLE, LocalBot, local_bot
from bot.settings import Settings

ROLES = {
    "admin": "Admin",
    "rhea": "Release Manager",
    "arjun": "Approval Manager",
    "dana": "Squad Member, payments",
    "nobody": "no portal user",
}
FIRST_PERSONA = "dana"


@dataclass(frozen=True)
class Settle:
    """How long to wait for the bot's work after an ack: up to ``first`` seconds for its
    first Web API call, then until ``quiet`` seconds pass without one (at most ``limit``)."""

    first: float = 1.0
    quiet: float = 0.25
    limit: float = 15.0


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    settle: Settle = Settle(),
) -> int:
    """Start the bot locally (embedded engine, demo data) and talk to it until `quit`, end of
    input (Ctrl-D) or Ctrl-C — at the prompt, in a form or while the bot works. Each way the
    bot is stopped cleanly, the terminal's settings are put back and the status is 0."""
    task = asyncio.current_task()
    assert task is not None
    with tty_kept(stdin), ctrl_c_cancels(task) as ctrl_c:
        try:
            async with local_bot(
                default_timezone=settings.default_timezone,
                allow_self_approval=settings.allow_self_approval,
                bootstrap_admin_slack_ids=settings.bootstrap_admin_slack_ids,
                mongo_db_name=settings.mongo_db_name,
                app_env=settings.app_env,
                log_level=settings.log_level,
            ) as bot:
                session = Console(bot, stdin=stdin, stdout=stdout, settle=settle)
                return await session.run()
        except asyncio.CancelledError:
            if not ctrl_c.pressed:
                raise
            task.uncancel()
            stdout.write("\nbye\n")  # end the line the prompt was on
            stdout.flush()
            return 0


class Console:
    def __init__(
        self,
        bot: LocalBot,
        *,
        stdin: TextIO,
        stdout: TextIO,
        persona: str = FIRST_PERSONA,
        settle: Settle = Settle(),
    ) -> None:
        self.bot = bot
        self.term = Terminal(stdin, stdout)
        self.settle_for = settle
        people = [p for p in DEMO_PEOPLE if not p.is_bot]
        self.ids = {p.name: p.user_id for p in people}
        self.zones = {p.user_id: ZoneInfo(p.tz) for p in people}
        # everyone the fake Slack knows (bots too) may be @mentioned, as in Slack
        everyone = list(bot.slack.people.values())
        self.mentionable = {p.name.lower(): p.user_id for p in everyone}
        self.transcript = Transcript({p.user_id: p.name for p in everyone})
        self.persona = persona
        self.eof = False
        self._activity = asyncio.Event()
        bot.slack.on_call = self._on_call
        self.modals = ModalFiller(self)

    @property
    def user_id(self) -> str:
        return self.ids[self.persona]

    @property
    def prompt(self) -> str:
        return f"{self.persona}> "

    async def _on_call(self, _call: Call) -> None:
        self._activity.set()

    # --- the loop -------------------------------------------------------------------------

    async def run(self) -> int:
        self.term.write(*self.guide())
        while not self.eof:
            line = await self.term.read(self.prompt)
            if line is None:
                break
            if not await self.handle(line.strip()):
                break
        self.term.write("bye")
        return 0

    def guide(self) -> list[str]:
        people = [f"{name} ({ROLES.get(name, 'no portal user')})" for name in self.ids]
        half = (len(people) + 1) // 2
        return [
            "releasebot console — the real bot over signed HTTP; Slack is faked in-process",
            "(embedded database with demo data; nothing leaves this machine).",
            f"People: {' · '.join(people[:half])}",
            f"        · {' · '.join(people[half:])}",
            f"You are {self.persona}. Try: status REL-2026.12 · list · approvals · as arjun",
            "Type a number to click that button; `help` for more, `quit` to leave.",
            f"Portal API: {self.bot.url}/api/v1 (docs: {self.bot.url}/api/docs); "
            "sign in as a demo user with the password releasebot-demo.",
        ]

    async def handle(self, line: str) -> bool:
        """One line typed at the prompt; False ends the session."""
        word, _, rest = line.partition(" ")
        word = word.lower()
        if not line:
            return True
        if word in ("quit", "exit"):
            return False
        if word in ("help", "?"):
            self.term.write(*console_help(self.ids))
            await self.command("help")
        elif word == "as":
            self.switch(rest.strip().lower().removeprefix("@"))
        elif word == "home":
            await self.home()
        elif word == "buttons":
            self.list_buttons()
        elif word == "click" or word.isdigit():
            await self.click(rest.strip() if word == "click" else word)
        elif word == "/release":
            await self.command(rest.strip())
        elif word.startswith("/"):
            self.term.write("Only /release exists here; e.g. `/release status REL-2026.12`.")
        else:
            await self.command(line)
        return True

    # --- what a person can do ---------------------------------------------------------------

    def switch(self, name: str) -> None:
        if name not in self.ids:
            self.term.write(f"Who? Choose one of: {', '.join(self.ids)}")
            return
        self.persona = name
        self.term.write(f"You are {name} now ({ROLES.get(name, 'no portal user')}).")

    async def command(self, text: str) -> None:
        """``/release <text>``; ``@dana`` goes out as the mention Slack would send."""
        origin = Origin(self.user_id)
        reply = await self.bot.driver.command(self.user_id, slack_mentions(text, self.mentionable))
        body = reply.json() if reply.status == 200 and reply.text.startswith("{") else None
        message = ack_message(body)
        await self.after(
            reply, origin, extra=self.transcript.show_ack(message, origin) if message else []
        )

    async def click(self, which: str) -> None:
        if not which.isdigit():
            self.term.write("Click what? Type the button's number, e.g. `click 2` or `2`.")
            return
        number = int(which)
        button = self.transcript.buttons.get(number)
        if button is None:
            gone = number in self.transcript.retired
            self.term.write(
                f"Button [{number}] is gone: its message was updated."
                if gone
                else f"There is no button [{number}]. `buttons` lists them."
            )
            return
        surface = button.surface
        if surface.owner not in (None, self.user_id):
            owner = self.transcript.name(surface.owner)
            self.term.write(f"Button [{number}] is in {surface.where}; type `as {owner}` first.")
            return
        ref = button.ref
        self.term.write(f"(clicking “{ref.label}” as {self.persona})")
        origin = Origin(
            self.user_id, str(surface.container.get("channel_id", "C0RELEASE")), surface
        )
        reply = await self.bot.driver.click(
            self.user_id,
            ref.action_id,
            ref.value,
            block_id=ref.block_id,
            container=surface.container,
            view=surface.view,
        )
        await self.after(reply, origin, what=f"the button `{ref.action_id}`")

    async def home(self) -> None:
        event = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": f"D{self.user_id}",
            "tab": "home",
            "event_ts": "1700000000.000100",
        }
        reply = await self.bot.driver.event(event)
        await self.after(reply, Origin(self.user_id), what="App Home")

    def list_buttons(self) -> None:
        visible = self.transcript.visible_buttons(self.user_id)
        if not visible:
            self.term.write("No buttons to click yet.")
        for button in visible:
            self.term.write(f"[{button.number}] {button.ref.label} — {button.surface.where}")

    # --- what the bot did -------------------------------------------------------------------

    async def after(
        self, reply: Reply, origin: Origin, *, extra: list[str] | None = None, what: str = "this"
    ) -> None:
        """Report the ack, wait for the work done after it, print it, then fill any modal."""
        note = reply_note(reply, what)
        if note:
            self.term.write(note)
        if reply.status == 200:
            await self.settle()
        lines = (extra or []) + self.transcript.absorb(self.bot.slack.calls, origin)
        if lines:
            self.term.write(*lines)
        elif reply.status == 200:
            self.term.write("(no answer from the bot)")
        await self.modals.fill_open_modals()

    async def settle(self) -> None:
        """Wait until the bot's work after the ack seems done (its Slack calls stopped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_for.limit
        active = len(self.bot.slack.calls) > self.transcript.seen
        while loop.time() < deadline:
            self._activity.clear()
            wait = self.settle_for.quiet if active else self.settle_for.first
            try:
                await asyncio.wait_for(self._activity.wait(), min(wait, deadline - loop.time()))
            except TimeoutError:
                return
            active = True

    def zone(self) -> ZoneInfo:
        return self.zones[self.user_id]


def console_help(personas: Iterable[str]) -> list[str]:
    return [
        f"Console: `as <{'|'.join(personas)}>` switch person",
        "         · `<n>` or `click <n>` click a button · `buttons` list them · `home` App Home",
        "         · `@name` is a Slack mention, e.g. `admin grant @arjun Release Manager`",
        "         · `quit`, Ctrl-D or Ctrl-C leave.",
        "Anything else is sent as `/release …` (the leading /release is optional). The bot says:",
    ]
