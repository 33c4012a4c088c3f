"""What a person is told when a channel's digest cannot reach the channel: refused when
subscribing, and a DM to the subscriber when a scheduled post is refused later (the digest
is then paused)."""

from __future__ import annotations

from datetime import time

from blocks.message import Message, section
from blocks.text import esc, plain

INVITE = "`/invite @releasebot`"

# Why a channel cannot get the digest: Slack's error codes, and "direct" for a DM.
NOT_IN_CHANNEL = "not_in_channel"
CHANNEL_NOT_FOUND = "channel_not_found"
IS_ARCHIVED = "is_archived"
DIRECT_MESSAGE = "direct"
UNREACHABLE = frozenset({NOT_IN_CHANNEL, CHANNEL_NOT_FOUND, IS_ARCHIVED})


def _message(mrkdwn: str) -> Message:
    return Message(text=plain(mrkdwn, escaped=True), blocks=[section(mrkdwn)])


def subscribe_command(at: time, time_zone: str) -> str:
    return f"`/release digest subscribe {at:%H:%M} {esc(time_zone)}`"


def subscribe_refused_message(reason: str, again: str) -> Message:
    """``again``: the command to type once the channel is ready (``subscribe_command``)."""
    if reason == DIRECT_MESSAGE:
        return _message(
            ":information_source: A direct message cannot get the channel digest. Run "
            f"`/release digest subscribe` in a channel (after {INVITE} there); release "
            "managers get their own digest by DM — `/release digest me 09:00` sets its time."
        )
    if reason == IS_ARCHIVED:
        return _message(
            ":information_source: This channel is archived, so I cannot post the digest here. "
            "Subscribe another channel."
        )
    why = (
        "this channel is private and I am not in it"
        if reason == CHANNEL_NOT_FOUND
        else "I am not a member of this channel"
    )
    return _message(
        f":information_source: Not subscribed: {why}, so the daily digest could not be "
        f"posted here. Type {INVITE} in this channel, then {again} again."
    )


def subscribed_message(at: time, time_zone: str, *, checked: bool) -> Message:
    """The confirmation posted in the channel; ``checked`` is False when Slack did not say
    whether the bot may post here."""
    text = (
        f":calendar: This channel gets the release readiness digest every day at "
        f"*{at:%H:%M} {esc(time_zone)}*. `/release digest unsubscribe` stops it."
    )
    if not checked:
        text += (
            f"\n_I could not check that I can post here: if the digest does not arrive, type "
            f"{INVITE} in this channel._"
        )
    return _message(text)


def digest_paused_message(channel_id: str, reason: str, at: time, time_zone: str) -> Message:
    """The DM to whoever subscribed a channel whose digest Slack refused: what happened and
    what to do; the digest is paused until they subscribe again."""
    channel = f"<#{esc(channel_id)}>"
    again = subscribe_command(at, time_zone)
    if reason == IS_ARCHIVED:
        why = "the channel is archived"
        fix = f"Unarchive it and run {again} there, or subscribe another channel."
    elif reason == CHANNEL_NOT_FOUND:
        why = "the channel no longer exists, or it is private and I am not in it"
        fix = f"If it still exists, type {INVITE} there, then {again}."
    else:
        why = "I am not a member of that channel"
        fix = f"Type {INVITE} in {channel}, then {again} there."
    return _message(
        f":warning: I could not post today's release digest in {channel}: {why}. I paused "
        f"its daily digest so it does not fail every day.\n*To resume it:* {fix}"
    )
