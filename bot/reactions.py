"""What follows a stored change in Slack, in one place: each domain event to its reaction.

Events and what follows them:
- ``ApprovalRequested``: a DM to everyone who may decide (claimed per person and round), and
  their App Home drawn again (its pending list changed); whoever made the change is told, by
  one DM per change, who could not be asked (yet), why and what happens next;
- ``ApprovalDecided``: every DM copy updated to who decided, without buttons, and the App
  Home of the others who could have decided drawn again;
- ``ApprovalWithdrawn``: every DM copy updated to "no longer needs approval", without
  buttons, and the deciders' App Home drawn again;
- ``ApprovalVoted`` (a vote in, others still needed): every DM copy of the round shows the
  progress and who voted, the voter's without buttons;
- ``VotesWithdrawn`` (what the votes looked at changed): that round's copies say what
  changed, without buttons; the new round is asked for by its own ``ApprovalRequested``;
- ``ApprovalExpired``: that round's copies say it ran out, without buttons, and who asked
  and the release managers are told by DM (once each), with a button to ask again;
- ``AccessChanged`` (a role granted or revoked, a Slack link made or undone, an account
  (in)activated): the person is asked by DM for the pending approvals they may now decide
  (only them: the others were asked already), and their App Home is drawn as they may now
  see it (a deactivated person's shows why it is empty; an unlinked Slack person's, that
  they are not linked);
- every release event: the outbound webhooks subscribed to it get a delivery each, stored
  and then sent, signed (``core/services/webhooks.py``); gates, milestones, tasks and new
  releases have no Slack consequence yet.

The core's outbox hands every stored change (its entry, with the events it caused) to
``Reactions``, right after the write and again on the scheduler's tick if that did not
happen; whichever entry point made the change (a form, a click, the API, a script), the
same consequences follow. Reactions run off the request's path and may run twice after a
crash, so each is idempotent: request DMs are claimed per person and round, and updating
the copies of a decided approval sets them to the same content.
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from blocks.approvals import NotReached, Unreached, unreached_deciders_message
from bot.delivery import Poster, deliver_once
from bot.deps import BotDeps
from bot.home_tab import publish_home
from bot.notifier import LEASE, NotAllDelivered, request_claim, same_round
from core.errors import DomainError, NotFound
from core.models.events import (
    AccessChanged,
    ApprovalDecided,
    ApprovalExpired,
    ApprovalRequested,
    ApprovalVoted,
    ApprovalWithdrawn,
    DomainEvent,
    VotesWithdrawn,
)
from core.models.release import Release
from core.models.schedule import zone_or
from core.models.timeline import TimelineEvent
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef
from core.services.approvals import key_of, milestone_ref, still_requested
from core.services.outbox import Entry

log = logging.getLogger(__name__)
ApprovalEvent = (
    ApprovalRequested
    | ApprovalDecided
    | ApprovalWithdrawn
    | ApprovalVoted
    | VotesWithdrawn
    | ApprovalExpired
)


class Reactions:
    def __init__(self, deps: BotDeps, client: AsyncWebClient) -> None:
        self._deps = deps
        self._client = client

    async def __call__(self, release: Release | None, entry: Entry) -> None:
        # Webhooks first: storing their deliveries is quick and safe to repeat (once per
        # event and hook), so a retry after a Slack failure sends nothing twice.
        await self._deps.services.webhooks.react(release, entry)
        if release is not None:
            await self._release_changed(release, entry)
        for event in entry.events:
            if isinstance(event, AccessChanged):
                await self._access_changed(event)

    async def _release_changed(self, release: Release, entry: Entry) -> None:
        asked: list[MilestoneRef] = []
        changed: list[MilestoneRef] = []  # approvals whose deciders' Home lists changed
        decided_by: set[str] = set()
        notifier = self._deps.notifier
        events: list[DomainEvent] = entry.events
        for event in events:
            if not isinstance(event, ApprovalEvent):
                continue
            ref = milestone_ref(release, event.ref)
            if ref is None:
                continue
            if isinstance(event, ApprovalRequested):
                if still_requested(ref, event.requested_at):
                    asked.append(ref)
            elif isinstance(event, ApprovalDecided):  # every copy: who decided, no buttons
                await notifier.announce_decision(self._client, release, ref)
                changed.append(ref)
                decided_by.add(event.by or "")
            elif isinstance(event, ApprovalVoted):  # every copy: how far; the voter's: done
                await notifier.announce_progress(self._client, release, ref)
                changed.append(ref)
            elif isinstance(event, VotesWithdrawn):  # that round's copies: what changed
                await notifier.announce_votes_withdrawn(self._client, release, ref, event)
            elif isinstance(event, ApprovalExpired):  # copies, and who asked, are told
                await notifier.announce_expiry(self._client, release, ref, event)
                await notifier.tell_expired(self._client, release, ref, event)
                changed.append(ref)
            else:  # every copy: nothing left to decide, no buttons
                await notifier.announce_withdrawal(self._client, release, ref)
                changed.append(ref)
        try:
            if asked:  # ask whoever may decide, by DM
                await self._request_decisions(release, asked, entry)
        finally:
            await self._refresh_homes(release, asked + changed, but=decided_by)

    async def _request_decisions(
        self, release: Release, refs: list[MilestoneRef], entry: Entry
    ) -> None:
        """Ask by DM; then tell who made the change whom that did not reach. A failure for now
        is raised after telling, so the reaction is retried (not the telling: once a change)."""
        failed: NotAllDelivered | None = None
        sent = 0
        try:
            sent = await self._deps.notifier.request_decisions(self._client, release, refs)
        except NotAllDelivered as error:
            failed = error
        if isinstance(entry, TimelineEvent):
            await self._tell_author(release, refs, entry, sent=sent, failed=failed is not None)
        if failed is not None:
            raise failed

    async def _tell_author(
        self,
        release: Release,
        refs: list[MilestoneRef],
        entry: TimelineEvent,
        *,
        sent: int,
        failed: bool,
    ) -> None:
        """One DM to whoever made the change, once per change (a delivery of its own, claimed
        as every DM is), naming the deciders its requests did not reach. Best effort: a
        failure to tell is logged, and told by a retry of the reaction if there is one."""
        claims, key = self._deps.repos.claims, f"unreached:{entry.id}"
        if await claims.finished(key):  # a retry of this reaction: told already
            return
        unreached = await self._unreached(release, refs, sent=sent, failed=failed)
        if not unreached:
            return
        author = await self._slack_id(entry.actor.user_id)
        if author is None:
            names = ", ".join(u.username for u in unreached)
            log.warning("%s not asked to decide; %s is not in Slack", names, entry.actor.username)
            return
        message = unreached_deciders_message(release, refs, unreached)

        async def tell(poster: Poster) -> bool:  # the origin channel is not kept: by DM
            await poster.post(author, message)
            return True

        await deliver_once(claims, self._client, key, tell, lease=LEASE)

    async def _unreached(
        self, release: Release, refs: list[MilestoneRef], *, sent: int, failed: bool
    ) -> list[Unreached]:
        """Who may decide ``refs`` but has no request DM of this round, and why: not linked
        to Slack; refused by Slack for good (their request was given up); else Slack failed
        for now (retried)."""
        approvals, claims = self._deps.services.approvals, self._deps.repos.claims
        deciders_of = await approvals.deciders_of(release, refs)
        if not failed and sent == sum(map(len, deciders_of)):
            return []  # everyone was asked just now
        found: dict[str, Unreached] = {}
        for ref, deciders in zip(refs, deciders_of, strict=True):
            key, asked_at = key_of(release.id, ref), ref.milestone.approval.requested_at
            records = await self._deps.repos.approval_messages.for_approval(key)
            asked = {r.user_id for r in records if same_round(r, asked_at)}
            for decider in deciders:
                if decider.user_id in asked or decider.user_id in found:
                    continue
                if decider.user.slack is None:
                    why = NotReached.NOT_LINKED
                elif await claims.finished(request_claim(key, asked_at, decider.user_id)):
                    why = NotReached.REFUSED
                else:
                    why = NotReached.NOT_YET
                found[decider.user_id] = Unreached(decider.user.username, why)
        return list(found.values())

    async def _slack_id(self, user_id: str) -> str | None:
        try:
            actor = await self._deps.services.identity.actor_by_id(user_id)
        except NotFound:
            return None
        return actor.user.slack.user_id if actor.user.slack is not None else None

    async def _access_changed(self, event: AccessChanged) -> None:
        """Ask the person for what they may decide now, and draw their Home (or, for a
        Slack person no longer linked, the Home of someone unknown) as it now is."""
        try:
            actor: Actor | None = await self._deps.services.identity.actor_by_id(event.user_id)
        except NotFound:
            actor = None
        linked = actor.user.slack if actor is not None else None
        if actor is not None and linked is not None:
            await self._ask_for_pending(actor)
        slack_id = linked.user_id if linked is not None else event.slack_user_id
        if slack_id is None:
            return
        shown = actor if linked is not None and linked.user_id == slack_id else None
        tz = zone_or(actor.user.time_zone if actor else None, self._deps.default_tz)
        await publish_home(self._deps, self._client, slack_id, shown, tz)

    async def _ask_for_pending(self, actor: Actor) -> None:
        try:
            pending = await self._deps.services.approvals.pending_by_release(actor)
        except DomainError:  # no longer active: nothing to ask them
            return
        for release, refs in pending:
            await self._deps.notifier.request_decisions(
                self._client, release, refs, only={actor.user_id}
            )

    async def _refresh_homes(
        self, release: Release, refs: list[MilestoneRef], *, but: set[str]
    ) -> None:
        """Draw again the App Home of everyone who may decide these approvals (their
        pending list changed), except who decided: their surface is redrawn where they
        clicked. Best effort: Home is drawn afresh whenever it is opened anyway."""
        seen: set[str] = set(but)
        approvals = self._deps.services.approvals
        for deciders in await approvals.deciders_of(release, refs, as_if_pending=True):
            for actor in deciders:
                slack = actor.user.slack
                if slack is None or actor.user_id in seen:
                    continue
                seen.add(actor.user_id)
                tz = zone_or(actor.user.time_zone, self._deps.default_tz)
                try:
                    await publish_home(self._deps, self._client, slack.user_id, actor, tz)
                except Exception:  # one Home that could not be drawn must not stop the rest
                    log.warning("could not refresh the Home of %s", actor.user.username)
