"""help, whoami and status."""

from __future__ import annotations

from blocks.help import help_message, whoami_message
from bot.commands.router import CommandRequest, Router, Subcommand
from bot.release_messages import status_message


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
        actor = request.actor
        standing = await request.deps.services.delegation.standing(actor) if actor else None
        message = whoami_message(actor, user_id, standing=standing, tz=request.tz)
        await request.respond(**message.to_dict(), response_type="ephemeral")

    @router.add("status", "<release>", "readiness of a release, posted in the channel", queued=True)
    async def status(request: CommandRequest) -> None:
        ref = request.arg(0, "a release id")
        message = await status_message(request.deps.services, request.user, ref, request.tz)
        await request.respond(**message.to_dict(), response_type="in_channel")


HELP_ORDER = [
    "help", "whoami", "list", "status", "history", "approvals", "new", "product", "gate",
    "milestone", "runbook", "task", "change", "attach", "digest", "freeze", "delegate", "audit",
    "archive", "restore", "admin",
]  # fmt: skip


def _help_position(command: Subcommand) -> int:
    return HELP_ORDER.index(command.name) if command.name in HELP_ORDER else len(HELP_ORDER)
