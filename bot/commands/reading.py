"""`list [query]` and `history <release>`: reading releases, ephemeral."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from blocks.history import history_message
from blocks.message import Message
from blocks.releases import release_list_message
from bot.commands.router import CommandRequest, Router
from bot.deps import BotDeps
from core.rules.permissions import Actor
from core.rules.readiness import summarize

LIST_PAGE = 10
HISTORY_EVENTS = 50


async def release_page(
    deps: BotDeps, actor: Actor, *, query: str | None, cursor: str | None = None, page: int = 1
) -> Message:
    """One page of the releases the actor can see, newest first, a readiness line each."""
    found = await deps.services.releases.list_releases(
        actor, query=query, cursor=cursor, limit=LIST_PAGE
    )
    listed = [(release, summarize(release)) for release in found.items]
    return release_list_message(listed, query=query, next_cursor=found.next_cursor, page=page)


async def release_history(deps: BotDeps, actor: Actor, ref: str, tz: ZoneInfo) -> Message:
    """The release's latest timeline events, times in the viewer's time zone, the people
    they name read in one go."""
    release, events = await deps.services.timeline.history(actor, ref, limit=HISTORY_EVENTS)
    people = await deps.services.identity.people(set().union(*(e.user_ids() for e in events)))
    return history_message(release, events, tz, people=people)


def register(router: Router) -> None:
    @router.add("list", "[query]", "releases, newest first; search by id or name", queued=True)
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
