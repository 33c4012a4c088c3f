"""A release's history, newest first."""

from __future__ import annotations

from core.models.release import Release
from core.models.timeline import TimelineEvent
from core.ports import ReleaseRepository, TimelineRepository
from core.rules.permissions import Actor
from core.services.release_changes import visible_release

MAX_EVENTS = 200


class TimelineService:
    def __init__(self, releases: ReleaseRepository, timeline: TimelineRepository) -> None:
        self._releases = releases
        self._timeline = timeline

    async def history(
        self, actor: Actor, ref: str, *, limit: int = 50
    ) -> tuple[Release, list[TimelineEvent]]:
        release = await visible_release(self._releases, actor, ref)
        events = await self._timeline.for_release(release.id, limit=max(1, min(limit, MAX_EVENTS)))
        return release, events
