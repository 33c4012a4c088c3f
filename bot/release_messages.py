"""The release messages read through core and rendered by blocks/: status, one page of the
list, the history. Shared by the `/release status | list | history` commands and the
status message's Refresh and History buttons and the list's More button."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from blocks.history import history_message
from blocks.message import Message
from blocks.releases import release_list_message
from blocks.status import people_shown, release_status_message
from bot.deps import BotDeps
from core.rules.permissions import Actor
from core.rules.readiness import summarize
from core.services.container import Services

LIST_PAGE = 10
HISTORY_EVENTS = 50


async def release_page(
    deps: BotDeps, actor: Actor, *, query: str | None, cursor: str | None = None, page: int = 1
) -> Message:
    """One page of the releases the actor can see, newest first, a readiness line each."""
    found = await deps.services.releases.list_releases(
        actor, query=query, cursor=cursor, limit=LIST_PAGE
    )
    listed = [(card, card.summary) for card in found.items]
    return release_list_message(listed, query=query, next_cursor=found.next_cursor, page=page)


async def release_history(deps: BotDeps, actor: Actor, ref: str, tz: ZoneInfo) -> Message:
    """The release's latest timeline events, times in the viewer's time zone, the people
    they name read in one go."""
    release, events = await deps.services.timeline.history(actor, ref, limit=HISTORY_EVENTS)
    people = await deps.services.identity.shown(set().union(*(e.user_ids() for e in events)))
    return history_message(release, events, tz, people=people)


async def status_message(services: Services, actor: Actor, ref: str, tz: ZoneInfo) -> Message:
    """The status message, with the people it names read in one go and the freeze windows
    touching the release; ``tz`` is the zone of its fallback text (in the channel every reader
    sees their own)."""
    release = await services.releases.get(actor, ref)
    summary = summarize(release)
    people, freezes = await asyncio.gather(
        services.identity.shown(people_shown(release, summary)),
        services.freezes.outlook(release),
    )
    return release_status_message(release, summary, people, tz, freezes)
