"""help, whoami and status."""

from __future__ import annotations

from blocks.help import help_message, whoami_message
from blocks.status import release_status_message
from bot.commands.router import CommandRequest, Router
from core.models.release import Release
from core.rules.readiness import summarize


def register(router: Router) -> None:
    @router.add("help", "", "this message", open_to_unlinked=True, queued=True)
    async def show_help(request: CommandRequest) -> None:
        unknown = request.args[0] if request.args and request.args[0] != "help" else None
        usages = [
            (f"{c.name} {c.usage}".strip(), c.summary)
            for c in request.deps.router.commands.values()
        ]
        message = help_message(usages, unknown=unknown)
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
        release = await request.deps.services.releases.get(
            request.user, request.arg(0, "a release id")
        )
        people = await request.deps.services.identity.people(owner_ids(release))
        message = release_status_message(release, summarize(release), people, request.tz)
        await request.respond(**message.to_dict(), response_type="in_channel")


def owner_ids(release: Release) -> set[str]:
    return {g.owner_id for _, g in release.gates() if g.owner_id}
