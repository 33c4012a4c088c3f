"""App Home: the viewer's pending approvals, the releases they can see, quick actions.

Every Home view may carry a notice banner at the top: what just happened to a click made on
Home (a refusal, or "You approved …"). Home has no trigger_id left to open a modal with once
the decision is made, so the outcome is shown by publishing Home again with the banner.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks.approval_list import pending_blocks
from blocks.delegation import delegation_lines
from blocks.freezes import freeze_blocks
from blocks.ids import ActionId, Origin
from blocks.message import context, fit, section
from blocks.releases import Listed, release_line
from blocks.text import SECTION_LIMIT, SURFACE_BLOCKS, cut, esc, zone_label
from core.models.rbac import User
from core.rules.delegation import DelegationStanding
from core.rules.freeze import FreezeOutlook
from core.services.approvals import PendingApproval

HOME_APPROVAL_BLOCK = "home_approval"
HOME_NOTICE_BLOCK = "home_notice"
APPROVAL_ROOM = 40
RELEASE_ROOM = 30


def home_view(
    user: User,
    pending: Sequence[PendingApproval],
    releases: Sequence[Listed],
    tz: ZoneInfo,
    *,
    more_releases: bool = False,
    can_create_release: bool = False,
    notice: str | None = None,
    standing: DelegationStanding | None = None,
    freezes: FreezeOutlook | None = None,
) -> View:
    """``notice``: mrkdwn whose user text is already escaped (e.g. `bot.errors.user_message`,
    `decided_notice`), shown as a banner at the top. ``standing``: the viewer's delegations
    in force, said under the greeting. ``freezes``: the freeze windows on and to come."""
    blocks: list[Block] = [
        *_top(notice),
        section(f"Hi *{esc(user.full_name)}* — here is what is waiting for you."),
    ]
    away = delegation_lines(standing, tz) if standing is not None else []
    if away:
        blocks.append(section("\n".join(away)))
    if can_create_release:
        blocks.append(
            ActionsBlock(
                block_id="home_quick",
                elements=[
                    ButtonElement(
                        text="New release", action_id=ActionId.OPEN_NEW_RELEASE, style="primary"
                    )
                ],
            )
        )
    blocks += [DividerBlock(), section(f"*Waiting for your decision* ({len(pending)})")]
    if pending:
        blocks += pending_blocks(
            pending, tz, room=APPROVAL_ROOM, block_prefix=HOME_APPROVAL_BLOCK, origin=Origin.HOME
        )
    else:
        blocks.append(context(":tada: Nothing is waiting for your approval."))
    freeze_lines = freeze_blocks("*Freezes* on and to come", freezes, tz, with_scope=True)
    if freeze_lines:
        blocks += [DividerBlock(), *freeze_lines]
    blocks += [DividerBlock(), section("*Releases you can see*, newest first")]
    if releases:
        shown = list(releases)[:RELEASE_ROOM]
        blocks += [section(release_line(release, summary)) for release, summary in shown]
        hidden = len(releases) - len(shown)
        if more_releases or hidden:
            blocks.append(context("… and more: `/release list` pages through all of them."))
    else:
        blocks.append(context("No releases that you can see yet."))
    blocks.append(
        context(f"Times are {esc(zone_label(tz))} · `/release help` lists every command.")
    )
    return View(type="home", blocks=fit(blocks, limit=SURFACE_BLOCKS, what="block"))


def notice_banner(notice: str) -> list[Block]:
    """The banner: the notice in its own section (block_id ``home_notice``), then a divider."""
    text = MarkdownTextObject(text=cut(notice, SECTION_LIMIT))
    return [SectionBlock(block_id=HOME_NOTICE_BLOCK, text=text), DividerBlock()]


def _top(notice: str | None) -> list[Block]:
    header: list[Block] = [HeaderBlock(text=PlainTextObject(text="releasebot"))]
    return header + notice_banner(notice) if notice else header


def unlinked_home_view(slack_user_id: str, *, notice: str | None = None) -> View:
    text = (
        f"Hi <@{esc(slack_user_id)}>! Your Slack account is not linked to a releasebot user "
        "yet, so there is nothing to show here.\n\n"
        "*To get access*, ask an admin to run `/release admin link @you &lt;username&gt;`. "
        "Until then you can use `/release help` and `/release whoami`."
    )
    return View(type="home", blocks=[*_top(notice), section(text)])


def notice_home_view(mrkdwn: str, *, notice: str | None = None) -> View:
    """A Home tab that only says something (e.g. the account is deactivated)."""
    return View(type="home", blocks=[*_top(notice), section(mrkdwn)])
