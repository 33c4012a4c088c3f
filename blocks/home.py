"""App Home: the viewer's pending approvals, the releases they can see, quick actions."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)
from slack_sdk.models.views import View

from blocks.approval_list import pending_blocks
from blocks.ids import ActionId
from blocks.message import context, fit, section
from blocks.releases import Listed, release_line
from blocks.text import SURFACE_BLOCKS, esc
from core.models.rbac import User
from core.services.approvals import PendingApproval

HOME_APPROVAL_BLOCK = "home_approval"
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
) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="releasebot")),
        section(f"Hi *{esc(user.full_name)}* — here is what is waiting for you."),
    ]
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
        blocks += pending_blocks(pending, tz, room=APPROVAL_ROOM, block_prefix=HOME_APPROVAL_BLOCK)
    else:
        blocks.append(context(":tada: Nothing is waiting for your approval."))
    blocks += [DividerBlock(), section("*Releases you can see*, newest first")]
    if releases:
        shown = list(releases)[:RELEASE_ROOM]
        blocks += [section(release_line(release, summary)) for release, summary in shown]
        hidden = len(releases) - len(shown)
        if more_releases or hidden:
            blocks.append(context("… and more: `/release list` pages through all of them."))
    else:
        blocks.append(context("No releases that you can see yet."))
    blocks.append(context(f"Times in {esc(tz.key)} · `/release help` lists every command."))
    return View(type="home", blocks=fit(blocks, limit=SURFACE_BLOCKS, what="blocks"))


def unlinked_home_view(slack_user_id: str) -> View:
    text = (
        f"Hi <@{esc(slack_user_id)}>! Your Slack account is not linked to a releasebot user "
        "yet, so there is nothing to show here.\n\n"
        "*To get access*, ask an admin to run `/release admin link @you &lt;username&gt;`. "
        "Until then you can use `/release help` and `/release whoami`."
    )
    return View(
        type="home",
        blocks=[HeaderBlock(text=PlainTextObject(text="releasebot")), section(text)],
    )


def notice_home_view(mrkdwn: str) -> View:
    """A Home tab that only says something (e.g. the account is deactivated)."""
    return View(
        type="home",
        blocks=[HeaderBlock(text=PlainTextObject(text="releasebot")), section(mrkdwn)],
    )
