"""help, whoami and status."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from blocks.help import help_message, whoami_message
from blocks.message import Message
from blocks.status import people_shown, release_status_message
from bot.commands.router import CommandRequest, Router, Subcommand
from core.rules.permissions import Actor
from core.rules.readiness import summarize
from core.services.container import Services


def register(router: Router) -> None:
    @router.add("help", "", "this message", open_to_unlinked=True, queued=True)
    async def show_help(request: CommandRequest) -> None:
        router = request.deps.router
        asked = request.args[0].lower() if request.args else None
        known = [router.commands[asked]] if asked in router.commands else None
        commands = known or sorted(router.commands.values(), key=_help_position)
        usages = [(f"{c.name} {c.usage}".strip(), c.summary) for c in commands]
        message = help_message(usages, unknown=None if known or not asked else asked)
        await request.respond(**message.to_dict(), response_type="ephemeral")

    @router.add(
        "whoami", "", "your portal user, roles and permissions", open_to_unlinked=True, queued=True
    )
    async def whoami(request: CommandRequest) -> None:
        user_id = str(request.body.get("user_id", ""))
        message = whoami_message(request.actor, user_id)
        await request.respond(**message.to_dict(), response_type="ephemeral")

    @router.add("status", "<release>", "readiness of a release, posted in the channel", queued=True)
    async def status(request: CommandRequest) -> None:
        ref = request.arg(0, "a release id")
        message = await status_message(request.deps.services, request.user, ref, request.tz)
        await request.respond(**message.to_dict(), response_type="in_channel")


async def status_message(services: Services, actor: Actor, ref: str, tz: ZoneInfo) -> Message:
    """The status message, with the people it names read in one go; ``tz`` is the zone of
    its fallback text (in the channel every reader sees their own)."""
    release = await services.releases.get(actor, ref)
    summary = summarize(release)
    people = await services.identity.people(people_shown(release, summary))
    return release_status_message(release, summary, people, tz)


HELP_ORDER = [
    "help", "whoami", "list", "status", "history", "approvals", "new", "product", "gate",
    "milestone", "runbook", "task", "change", "attach", "digest", "admin",
]  # fmt: skip


def _help_position(command: Subcommand) -> int:
    return HELP_ORDER.index(command.name) if command.name in HELP_ORDER else len(HELP_ORDER)
