"""Deciding an approval, and what follows on the surface the decision came from: shared by
the Approve / Reject clicks (bot/actions/approvals.py) and the reject and break-glass modals'
submissions (bot/views/reject.py, bot/views/break_glass.py).

The button value is only an address (ApprovalTarget): the core re-checks the person's rights
from storage. After a decision the surface the click came from is redrawn; every DM of that
approval is updated by the reaction to the decision. A click on App Home or in the approvals
list reads what that surface shows first, once: the decision starts from the release as read
there, and the surface is drawn again from that read with the saved release in its place.

Whatever Slack refuses on the way, the person sees how their click ended: an answer its
response_url does not take goes ephemerally in the channel or by DM (bot/answers.py), except
the redrawn copy of a recorded approval DM, which the reaction updates anyway; a Home that
cannot be drawn again is replaced by a DM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from blocks.approval_list import approvals_list_message, decided_notice
from blocks.approvals import (
    ApprovalTarget,
    already_decided_text,
    already_voted_text,
    approval_decided_message,
)
from blocks.freezes import frozen_text
from blocks.ids import Origin
from blocks.message import Message
from blocks.modals.break_glass import BreakGlassContext, break_glass_modal, break_glass_offer
from bot.answers import DeliveredRespond, post_elsewhere
from bot.deps import BotDeps
from bot.errors import user_message
from bot.home_tab import HOME_RELEASES, publish_home
from bot.identity import actor_of
from core.errors import DomainError
from core.models.rbac import Permission
from core.models.release import Decision, Release
from core.rules.approvals import AlreadyDecided, AlreadyVoted
from core.rules.archive import require_not_archived
from core.rules.freeze import Frozen
from core.rules.permissions import Actor
from core.rules.readiness import MilestoneRef
from core.services.approvals import Home, Waiting, key_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Surface:
    """Where the decision was made from, to redraw it and to answer the person there.

    It answers after slow work (the decision with its retries, N updated DMs), so it holds
    no trigger_id: one lasts 3 s and is used once. Home is answered by publishing it again
    with a banner on top; a message through its response_url (ephemeral), else a DM.
    ``channel_id`` and ``message_ts`` name the message clicked, when it is one.
    """

    deps: BotDeps
    client: AsyncWebClient
    user_id: str
    tz: ZoneInfo
    origin: Origin
    response_url: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None

    @property
    def respond(self) -> DeliveredRespond | None:
        if not self.response_url:
            return None
        return DeliveredRespond.to(
            self.response_url, self.client, channel_id=self.channel_id, user_id=self.user_id
        )

    async def tell(self, text: str, actor: Actor | None = None) -> None:
        """Say something (escaped mrkdwn) to the clicker only; nothing else changes."""
        await self.answer(Message(text=text), actor)

    async def answer(self, message: Message, actor: Actor | None = None) -> None:
        """``tell`` with blocks (a button to go on with, say). Home shows only its text in
        its banner: the blocks then go by DM."""
        if self.origin is Origin.HOME:  # its buttons may be stale too: draw it again
            if not message.blocks:
                await self.home(actor, message.text)
                return
            await self.home(actor, f"{message.text}\nThe way to go on is in your DMs.")
            await self.client.chat_postMessage(channel=self.user_id, **message.to_dict())
            return
        respond = self.respond
        if respond is not None:
            await respond(**message.to_dict(), response_type="ephemeral", replace_original=False)
        else:
            await self.client.chat_postMessage(channel=self.user_id, **message.to_dict())

    async def home(self, actor: Actor | None, notice: str, home: Home | None = None) -> None:
        """Home drawn again with ``notice`` on top (from ``home`` when given, else read);
        when Slack does not take it, the notice goes by DM (its buttons stay stale until
        Home is next opened)."""
        try:
            await publish_home(
                self.deps, self.client, self.user_id, actor, self.tz, notice=notice, home=home
            )
        except Exception as error:
            log.warning("Home of %s not drawn (%r); telling by DM", self.user_id, error)
            await post_elsewhere(self.client, {"text": notice}, user_id=self.user_id, channel=None)

    async def showing(self, actor: Actor) -> Waiting | None:
        """What App Home or the approvals list shows, read before deciding from it (None on
        other surfaces, and in a list that cannot be redrawn)."""
        approvals = self.deps.services.approvals
        if self.origin is Origin.HOME:
            return await approvals.home(actor, releases=HOME_RELEASES)
        if self.origin is Origin.LIST and self.response_url:
            return await approvals.waiting(actor)
        return None

    async def decided(
        self, actor: Actor, release: Release, target: ApprovalTarget, before: Waiting | None = None
    ) -> None:
        """Redraw the surface the decision came from: from ``before`` (what it showed, read
        before deciding) when given, else read now. Every DM copy of the approval is updated
        by the reaction to the decision (bot/reactions.py), this one included."""
        ref = target.ref_in(release)
        respond = self.respond
        approvals = self.deps.services.approvals
        if self.origin is Origin.HOME:
            home = approvals.after(actor, before, release) if isinstance(before, Home) else None
            await self.home(actor, decided_notice(release, ref, self.tz), home)
        elif self.origin is Origin.LIST and respond is not None:
            if before is None:
                pending = await approvals.pending_for(actor)
            else:
                pending = approvals.after(actor, before, release).pending
            notice = decided_notice(release, ref, self.tz)
            message = approvals_list_message(pending, self.tz, notice=notice)
            await respond(**message.to_dict(), replace_original=True)
        elif respond is not None:  # at once; the reaction updates every recorded copy too
            message = approval_decided_message(release, ref, self.tz)
            shown = await respond.through_url(**message.to_dict(), replace_original=True)
            if shown is None and not await self._recorded_copy(release, ref):
                await respond.elsewhere(**message.to_dict())

    async def _recorded_copy(self, release: Release, ref: MilestoneRef) -> bool:
        """Whether the message clicked is a recorded copy of the approval's DM: the reaction
        to the decision updates it, so the outcome is shown there without a second post."""
        if not (self.channel_id and self.message_ts):
            return False
        copies = await self.deps.repos.approval_messages.for_approval(key_of(release.id, ref))
        return any(c.channel == self.channel_id and c.ts == self.message_ts for c in copies)

    async def decide(self, context: dict[str, Any], value: str, decision: Decision) -> None:
        """A click's decision on the approval its ``value`` names: decided by the core, then
        this surface redrawn; a refusal (who decided first, or why not) is told here and
        changes nothing. On App Home and in the approvals list, what they show is read
        first: the decision starts from its release and they are redrawn from it."""
        try:
            actor = actor_of(context)
            target = ApprovalTarget.decode(value)
            before = await self.showing(actor)
            read = before.release(target.release) if before is not None else None
            release = await decide(self.deps, actor, target, decision, read=read)
        except Exception as error:
            clicker: Actor | None = context.get("actor")
            refused = refusal(error, self.tz)
            if isinstance(error, Frozen) and may_break_glass(clicker):  # offered at once
                await self.answer(break_glass_offer(refused, value), clicker)
            else:
                await self.tell(refused, clicker)
            return
        await self.after_deciding(actor, release, target, decision, before)

    async def after_deciding(
        self,
        actor: Actor,
        release: Release,
        target: ApprovalTarget,
        decision: Decision,
        before: Waiting | None = None,
    ) -> None:
        try:
            await self.decided(actor, release, target, before)
        except Exception as error:  # the decision is stored; say what could not be shown
            done = "Approved" if decision is Decision.APPROVE else "Rejected"
            note = f"{done}, but some messages could not be updated."
            await self.tell(f"{note}\n{user_message(error)}", actor)


async def decide(
    deps: BotDeps,
    actor: Actor,
    target: ApprovalTarget,
    decision: Decision,
    comment: str | None = None,
    *,
    read: Release | None = None,
    break_glass: str | None = None,
) -> Release:
    return await deps.services.approvals.decide(
        actor,
        target.release,
        target.product,
        target.gate,
        target.milestone,
        decision,
        comment,
        read=read,
        break_glass=break_glass,
    )


async def reject_refusal(
    deps: BotDeps, context: dict[str, Any], target: ApprovalTarget, tz: ZoneInfo
) -> str | None:
    """Why this person may not reject this approval now, before asking for a reason."""
    try:
        actor = actor_of(context)
        release = await deps.services.releases.get(actor, target.release)
        require_not_archived(release)
        ref = target.ref_in(release)
        await deps.services.approvals.check_now(actor, ref, decision=Decision.REJECT)
    except DomainError as error:
        return refusal(error, tz)
    return None


def may_break_glass(actor: Actor | None) -> bool:
    """Whether to offer *Break glass…* (the core decides when it is used)."""
    return actor is not None and actor.has(Permission.IS_APPROVAL_MANAGER)


async def break_glass_form(
    deps: BotDeps, context: dict[str, Any], meta: BreakGlassContext, tz: ZoneInfo
) -> View:
    """The break-glass modal, once it is known this person may break glass on this approval
    now: an approval manager who may decide it, while a freeze holds it (named in the
    form). Otherwise the refusal says why (the core checks it all again on submission)."""
    actor = actor_of(context)
    release = await deps.services.releases.get(actor, meta.target.release)
    window = await deps.services.approvals.holding_freeze(
        actor, release, meta.target.ref_in(release)
    )
    return break_glass_modal(meta, window, tz)


def refusal(error: BaseException, tz: ZoneInfo) -> str:
    """What a refused decision is told: who decided first and when, on the person's own
    clock; during a freeze, which one and until when (on that clock too); otherwise why, as
    for any error."""
    if isinstance(error, AlreadyDecided):
        return already_decided_text(error, tz)
    if isinstance(error, Frozen):
        return frozen_text(error, tz)
    if isinstance(error, AlreadyVoted):
        return already_voted_text(error)
    return user_message(error)
