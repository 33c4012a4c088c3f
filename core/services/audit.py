"""Exporting the audit chain (``core/rules/audit.py``), to be verified by
``python -m scripts.audit verify FILE``.

An export is a stream of records: a header, then release by release every entry in chain
order, then (when the export runs to now) the release's head, so a missing last entry shows.
Entries still in a release's outbox (written, not yet in the timeline) are included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from core.clock import Clock
from core.ports import AuditHead, ReleaseRepository, TimelineRepository
from core.rules import audit
from core.rules.operations import EXPORT_AUDIT
from core.rules.permissions import Actor
from core.services.release_changes import visible_release

FORMAT = "releasebot.audit"
VERSION = 1
RELEASES_PER_READ = 200


class AuditService:
    def __init__(
        self, releases: ReleaseRepository, timeline: TimelineRepository, clock: Clock
    ) -> None:
        self._releases = releases
        self._timeline = timeline
        self._clock = clock

    async def export(
        self,
        actor: Actor,
        *,
        release: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The records of an export of the releases the actor sees (or one of them), the
        entries at ``since`` ≤ at < ``until``, closed by an ``end`` record counting them (so
        a file cut short between records shows). Refused before any record without
        ``can_view_audit``."""
        EXPORT_AUDIT.require(actor)
        heads = await self._one(actor, release) if release is not None else None
        yield {
            "kind": "header",
            "format": FORMAT,
            "version": VERSION,
            "algorithm": audit.ALGORITHM,
            "exported_at": audit.plain(self._clock()),
            "exported_by": actor.user.username,
            "release": release,
            "from": audit.plain(since) if since else None,
            "to": audit.plain(until) if until else None,
        }
        entries = 0
        async for record in self._all(actor, heads, since, until):
            entries += record["kind"] == "entry"
            yield record
        yield {"kind": "end", "entries": entries}

    async def _all(
        self,
        actor: Actor,
        heads: list[AuditHead] | None,
        since: datetime | None,
        until: datetime | None,
    ) -> AsyncIterator[dict[str, Any]]:
        if heads is not None:
            async for record in self._records(heads, since, until):
                yield record
            return
        after: str | None = None
        while True:
            page = await self._releases.audit_heads(
                squads=actor.visible_squads(), after=after, limit=RELEASES_PER_READ
            )
            if not page:
                return
            async for record in self._records(page, since, until):
                yield record
            after = page[-1].release_oid

    async def _one(self, actor: Actor, ref: str) -> list[AuditHead]:
        found = await visible_release(self._releases, actor, ref)
        return [
            AuditHead(
                found.id, found.release_id, found.audit_seq, found.audit_head, list(found.outbox)
            )
        ]

    async def _records(
        self, heads: list[AuditHead], since: datetime | None, until: datetime | None
    ) -> AsyncIterator[dict[str, Any]]:
        entries = await self._timeline.chained(
            [h.release_oid for h in heads], since=since, until=until
        )
        by_release: dict[str, dict[str, Any]] = {h.release_oid: {} for h in heads}
        for entry in entries:
            by_release[entry.release_oid][entry.id] = entry
        for head in heads:
            kept = by_release[head.release_oid]
            for pending in head.pending:  # written with the release, not yet in the timeline
                in_time = (since is None or pending.at >= since) and (
                    until is None or pending.at < until
                )
                if in_time:
                    kept.setdefault(pending.id, pending)
            for entry in sorted(kept.values(), key=lambda e: (e.seq, e.at, e.id)):
                yield {"kind": "entry", **audit.audited(entry), "hash": entry.hash}
            if until is None:
                yield {
                    "kind": "head",
                    "release_oid": head.release_oid,
                    "release_id": head.release_id,
                    "seq": head.seq,
                    "hash": head.hash,
                }
