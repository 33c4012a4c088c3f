"""`/release delegate @person until <YYYY-MM-DD> [for @someone]` and `delegate off`: who
decides approvals in someone's place while they are away (rules in core/rules/delegation.py).
"""

from __future__ import annotations

import re
from datetime import date

from blocks.delegation import delegated_message, delegation_ended_message
from blocks.message import Message
from bot.commands.admin import join_mentions
from bot.commands.router import CommandRequest, Router, mentioned_user
from core.errors import NotFound, ValidationFailed
from core.models.rbac import User
from core.rules.delegation import DELEGATE_FOR_OTHERS

USAGE = "@person until <YYYY-MM-DD> [for @someone] | off [for @someone]"
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def register(router: Router) -> None:
    @router.add("delegate", USAGE, "who decides your approvals while you are away")
    async def delegate(request: CommandRequest) -> None:
        actor = request.user
        args, for_token = _split_for(join_mentions(request.args))
        service = request.deps.services.delegation
        for_user = None
        if for_token:
            DELEGATE_FOR_OTHERS.require(actor)  # before anyone is looked up for them
            for_user = await _person(request, for_token)
        if [a.lower() for a in args] == ["off"]:
            ended = await service.clear(actor, for_user=for_user)
            await _reply(request, delegation_ended_message(ended, own=for_user is None))
            return
        if not args:
            raise ValidationFailed(
                f"Name who decides in your place. Usage: `/release {request.usage}`"
            )
        until = _day(args[1:], request.usage)  # read before anyone is looked up
        delegate_user = await _person(request, args[0])
        delegator = await service.delegate(
            actor, delegate_user, until, request.tz, for_user=for_user
        )
        await _reply(request, delegated_message(delegator, request.tz, own=for_user is None))


def _split_for(args: list[str]) -> tuple[list[str], str | None]:
    """The words before a trailing ``for @someone``, and that someone."""
    if len(args) >= 2 and args[-2].lower() == "for":
        return args[:-2], args[-1]
    return args, None


async def _person(request: CommandRequest, token: str) -> str | User:
    """A mention as the portal user linked to that Slack person (linked by email on the
    spot if they never wrote to the bot), or a username as typed, for the core to find."""
    slack_id = mentioned_user(token)
    if slack_id is None:
        return token.removeprefix("@")
    resolved = await request.deps.identities.resolve(request.client, slack_id)
    if resolved.actor is None:
        raise NotFound(
            f"That Slack person ({slack_id}) is not linked to a releasebot user, so they "
            "cannot decide approvals; ask an admin to link them "
            "(`/release admin link @them <username>`), or name someone else."
        )
    return resolved.actor.user


def _day(words: list[str], usage: str) -> date:
    """``until 2026-12-24`` (``until`` may be left out): the last day away."""
    if words and words[0].lower() == "until":
        words = words[1:]
    if len(words) != 1:
        raise ValidationFailed(
            f"Name the last day you are away as until YYYY-MM-DD. Usage: `/release {usage}`",
            fields={"until": "A day"},
        )
    text = words[0]
    if not _ISO_DAY.match(text):
        raise ValidationFailed(
            f"'{text}' is not a day I can read: write it year-month-day, e.g. until 2026-12-24.",
            fields={"until": "YYYY-MM-DD"},
        )
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"There is no {text} in the calendar; check the month and day.",
            fields={"until": "No such day"},
        ) from None


async def _reply(request: CommandRequest, message: Message) -> None:
    await request.respond(**message.to_dict(), response_type="ephemeral", replace_original=False)
