"""`list [query]` and `history <release>`: reading releases, ephemeral."""

from __future__ import annotations

from bot.commands.router import CommandRequest, Router
from bot.release_messages import release_history, release_page


def register(router: Router) -> None:
    @router.add(
        "list",
        "[query]",
        "releases, newest first; search by the start of an id or of a word of a name",
        queued=True,
    )
    async def list_releases(request: CommandRequest) -> None:
        query = " ".join(request.args).strip() or None
        message = await release_page(request.deps, request.user, query=query)
        await request.respond(**message.to_dict(), response_type="ephemeral")

    @router.add(
        "history", "<release>", "the release's timeline: who changed what, when", queued=True
    )
    async def history(request: CommandRequest) -> None:
        ref = request.arg(0, "a release id")
        message = await release_history(request.deps, request.user, ref, request.tz)
        await request.respond(**message.to_dict(), response_type="ephemeral")
