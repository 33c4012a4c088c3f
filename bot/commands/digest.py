"""`digest subscribe [HH:MM] [tz]`, `digest unsubscribe`, `digest now`, `digest me off|HH:MM`."""

from __future__ import annotations

import re
from datetime import time

from blocks.digest import digest_message
from blocks.digest_delivery import (
    subscribe_command,
    subscribe_refused_message,
    subscribed_message,
)
from blocks.message import Message, section
from bot.channels import Reach, channel_reach
from bot.commands.router import CommandRequest, Router
from bot.digest_overrides import recent_overrides
from core.errors import ValidationFailed
from core.rules.operations import SUBSCRIBE_CHANNEL
from core.services.schedule import DEFAULT_DIGEST_TIME

USAGE = "subscribe [HH:MM] [time zone] | unsubscribe | now | me off | me HH:MM"


# H:MM or HH:MM in ASCII digits, 00:00 to 23:59: nothing int() would also take ("+9", "1_0",
# "٠٩", twenty digits that overflow time()) becomes another time.
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def parse_time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise ValidationFailed(
            f"'{shown}' is not a time; use HH:MM from 00:00 to 23:59, e.g. 09:00."
        )
    return time(int(match.group(1)), int(match.group(2)))


def _confirm(text: str) -> Message:
    return Message(text=text, blocks=[section(text)])


def register(router: Router) -> None:
    @router.add(
        "digest", USAGE, "daily readiness digest in this channel, or by DM to you", queued=True
    )
    async def digest(request: CommandRequest) -> None:
        action = request.arg(0, "what to do with the digest").lower()
        handlers = {"subscribe": _subscribe, "unsubscribe": _unsubscribe, "now": _now, "me": _me}
        handler = handlers.get(action)
        if handler is None:
            raise ValidationFailed(
                f"Unknown digest action '{action}'. Usage: `/release digest {USAGE}`"
            )
        await handler(request)


async def _subscribe(request: CommandRequest) -> None:
    """Only a channel the bot can post in is subscribed; otherwise the person is told, in
    the channel and only to them, how to let the bot in (`/invite`)."""
    at = parse_time(request.args[1]) if len(request.args) > 1 else None
    zone = request.args[2] if len(request.args) > 2 else None  # DEFAULT_TIMEZONE
    SUBSCRIBE_CHANNEL.require(request.user)  # before asking Slack anything
    reach = await channel_reach(request.client, request.channel_id)
    if reach not in (Reach.MEMBER, Reach.UNKNOWN):
        again = subscribe_command(at or DEFAULT_DIGEST_TIME, zone or request.deps.default_tz.key)
        message = subscribe_refused_message(reach, again)
        await request.respond(**message.to_dict(), response_type="ephemeral")
        return
    sub = await request.deps.services.digests.subscribe_channel(
        request.user, team_id=request.team_id, channel_id=request.channel_id, at=at, time_zone=zone
    )
    message = subscribed_message(sub.at, sub.time_zone or "", checked=reach is Reach.MEMBER)
    await request.respond(**message.to_dict(), response_type="in_channel")


async def _unsubscribe(request: CommandRequest) -> None:
    await request.deps.services.digests.unsubscribe_channel(
        request.user, team_id=request.team_id, channel_id=request.channel_id
    )
    await request.respond(**_confirm("This channel no longer gets the daily digest.").to_dict())


async def _now(request: CommandRequest) -> None:
    now = request.deps.clock()
    today = now.astimezone(request.tz).date()
    services = request.deps.services
    digest = await services.digests.digest_for(request.user, today)
    freezes = await services.freezes.outlook()
    overrides = recent_overrides([digest], now)
    folder = request.deps.settings.digest_template_dir
    message = digest_message(digest, request.tz, folder, freezes=freezes, overrides=overrides)
    await request.respond(**message.to_dict(), response_type="in_channel")


async def _me(request: CommandRequest) -> None:
    choice = request.arg(1, "`off` or a time such as 08:30").lower()
    services = request.deps.services
    if choice == "off":
        await services.digests.set_personal(request.user, enabled=False)
        text = "Your daily digest DM is off. `/release digest me 09:00` turns it back on."
    else:
        sub = await services.digests.set_personal(request.user, enabled=True, at=parse_time(choice))
        text = f"You get the digest by DM every day at *{sub.at:%H:%M}* in your Slack time zone."
    await request.respond(**_confirm(text).to_dict(), response_type="ephemeral")
