"""Releases: create, read, list, describe, add products and fixed versions, archive and
restore."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from core.clock import Clock
from core.errors import Duplicate, Kind, NotFound, PastReleaseDate, ValidationFailed
from core.models.common import Comment, DomainModel, Text, parse
from core.models.events import ReleaseCreated
from core.models.release import FixedVersion, Release, ReleaseDraft, ReleaseProduct
from core.models.timeline import TargetPath
from core.pagination import Page, ReleaseCursor
from core.ports import ApplicationRepository, ReleaseRepository
from core.rules import archive, audit
from core.rules.operations import (
    ADD_PRODUCT,
    ARCHIVE_RELEASE,
    CREATE_RELEASE,
    EDIT_DESCRIPTION,
    RESTORE_RELEASE,
    SET_FIXED_VERSION,
)
from core.rules.permissions import Actor
from core.rules.readiness import ReleaseCard
from core.services.outbox import Outbox
from core.services.release_changes import Recorded, ReleaseChanges, visible_release

MAX_PAGE = 100


class ReleaseService:
    def __init__(
        self,
        releases: ReleaseRepository,
        applications: ApplicationRepository,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self._releases = releases
        self._applications = applications
        self._outbox = outbox
        self._clock = clock
        self._changes = ReleaseChanges(releases, outbox, clock)

    async def create(
        self,
        actor: Actor,
        draft: ReleaseDraft,
        *,
        past_date_confirmed: bool = False,
        tz: tzinfo = UTC,
    ) -> Release:
        """``tz``: the person's zone, which says what "today" is for the past-date check."""
        CREATE_RELEASE.require(actor)
        now = self._clock()
        if not past_date_confirmed and draft.release_date < now.astimezone(tz).date():
            raise PastReleaseDate(draft.release_date)
        release = Release(**draft.model_dump(), created_by=actor.user_id, created_at=now)
        recorded = Recorded("release.created", after={"release_name": release.release_name})
        entry = ReleaseChanges.event(actor, release, recorded, now, events=[ReleaseCreated()])
        release.outbox.append(audit.chain(release, entry))  # the chain's first entry
        saved = await self._releases.add(release)  # the release and its audit entry: one write
        await self._outbox.record(saved)
        return saved

    async def get(self, actor: Actor, ref: str) -> Release:
        """Another squad's release answers exactly like an unknown id (``visible_release``)."""
        return await visible_release(self._releases, actor, ref)

    async def list_releases(
        self, actor: Actor, *, query: str | None = None, cursor: str | None = None, limit: int = 20
    ) -> Page[ReleaseCard]:
        """Newest release_date first, as cards (what a list line shows); ``query`` matches
        the start of the id or of a word of the name, literally and ignoring case
        (``core.rules.search``)."""
        actor.require_active()
        limit = max(1, min(limit, MAX_PAGE))
        after = ReleaseCursor.decode(cursor) if cursor else None
        text = (query or "").strip()[:100] or None
        rows = await self._releases.page(
            squads=actor.visible_squads(), query=text, after=after, limit=limit + 1
        )
        items = rows[:limit]
        more = len(rows) > limit
        next_cursor = ReleaseCursor(items[-1].release_date, items[-1].id).encode() if more else None
        return Page(items=items, next_cursor=next_cursor)

    async def edit_description(self, actor: Actor, ref: str, description: str) -> Release:
        EDIT_DESCRIPTION.require(actor)
        text = parse(_DescriptionInput, {"description": description}).description

        def change(release: Release, _now: datetime) -> Recorded | None:
            if release.description == text:
                return None
            before = release.description
            release.description = text
            return Recorded(
                "release.description", before={"description": before}, after={"description": text}
            )

        return await self._changes.apply(actor, ref, change)

    async def add_product(
        self,
        actor: Actor,
        ref: str,
        *,
        application_id: str,
        product_id: str,
        squad_ids: list[str] | None = None,
    ) -> Release:
        """Add a catalog product to the release (its name comes from the catalog)."""
        ADD_PRODUCT.require(actor)
        application = await self._applications.get(application_id)
        catalog_product = application.product(product_id)
        if catalog_product is None:
            known = ", ".join(p.product_id for p in application.products) or "none"
            raise NotFound(
                f"Application '{application_id}' has no product '{product_id}' (products: {known})",
                kind=Kind.PRODUCT,
                fields={"product_id": "Unknown product"},
            )
        squads = squad_ids if squad_ids is not None else catalog_product.product_squad_ids

        def change(release: Release, _now: datetime) -> Recorded:
            if any(p.product_id == product_id for p in release.products):
                raise Duplicate(
                    f"Release '{release.release_id}' already has product '{product_id}'.",
                    fields={"product_id": "Already in this release"},
                )
            release.products.append(
                ReleaseProduct(
                    application_id=application.application_id,
                    product_id=catalog_product.product_id,
                    product_name=catalog_product.product_name,
                    participating_squad_ids=squads,
                )
            )
            if application.application_id not in release.scope_application_ids:
                release.scope_application_ids.append(application.application_id)
            return Recorded(
                "product.added",
                TargetPath(product_id=product_id),
                after={"product_name": catalog_product.product_name},
            )

        return await self._changes.apply(actor, ref, change)

    async def set_fixed_version(
        self, actor: Actor, ref: str, product_id: str, version: FixedVersion
    ) -> Release:
        SET_FIXED_VERSION.require(actor)

        def change(release: Release, _now: datetime) -> Recorded | None:
            product = release.product(product_id)
            if product.fixed_version == version:
                return None
            before = (
                product.fixed_version.model_dump(mode="json") if product.fixed_version else None
            )
            product.fixed_version = version
            return Recorded(
                "product.fixed_version",
                TargetPath(product_id=product_id),
                before=before,
                after=version.model_dump(mode="json"),
            )

        return await self._changes.apply(actor, ref, change)

    async def archive(self, actor: Actor, ref: str, reason: str) -> Release:
        """Archive (soft-delete) the release: it leaves every list, Home, digest and
        reminder, and stays readable by reference and in the audit; recorded with the
        reason. Refused if it is archived already."""
        ARCHIVE_RELEASE.require(actor)
        if not reason.strip():
            raise ValidationFailed(
                "Say why the release is archived: the reason is kept in its history.",
                fields={"reason": "Required"},
            )
        why = parse(_ReasonInput, {"reason": reason}).reason

        def change(release: Release, now: datetime) -> Recorded:
            archive.archive(release, actor, why, now)  # who and when: the entry's own
            return Recorded(archive.RELEASE_ARCHIVED, comment=why)

        return await self._changes.apply(actor, ref, change, archived_ok=True)

    async def restore(self, actor: Actor, ref: str) -> Release:
        """Bring an archived release back into the lists; refused if it is not archived."""
        RESTORE_RELEASE.require(actor)

        def change(release: Release, _now: datetime) -> Recorded:
            archive.restore(release)
            return Recorded(archive.RELEASE_RESTORED)

        return await self._changes.apply(actor, ref, change, archived_ok=True)


class _DescriptionInput(DomainModel):
    description: Text


class _ReasonInput(DomainModel):
    reason: Comment
