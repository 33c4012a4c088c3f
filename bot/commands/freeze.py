"""`/release freeze list | new | end <name or id>`: freeze windows. Planning and ending one
is a release manager's (``core.rules.freeze.MANAGE_FREEZES``), refused before the form opens;
everyone may list them. The form's submission is bot/views/freezes.py."""

from __future__ import annotations

from slack_sdk.models.views import View

from blocks.freezes import freeze_ended_message, freeze_list_message
from blocks.ids import CallbackId
from blocks.modals.freeze import TITLE, FreezeFormOrigin, freeze_modal
from bot.commands.router import CommandRequest, Router
from bot.modals import open_modal
from core.errors import NotFound, ValidationFailed
from core.rules.freeze import MANAGE_FREEZES

USAGE = "list | new | end <name or id>"


def register(router: Router) -> None:
    @router.add("freeze", USAGE, "freeze windows: list them, plan one (opens a form), end one")
    async def freeze(request: CommandRequest) -> None:
        action = request.arg(0, "what to do with freeze windows").lower()
        handlers = {"list": _list, "new": _new, "end": _end}
        handler = handlers.get(action)
        if handler is None:
            raise ValidationFailed(
                f"Unknown freeze action '{action}'. Usage: `/release freeze {USAGE}`"
            )
        await handler(request)


async def _list(request: CommandRequest) -> None:
    windows = await request.deps.services.freezes.open(request.user)
    message = freeze_list_message(windows, request.deps.clock(), request.tz)
    await request.respond(**message.to_dict(), response_type="ephemeral")


async def _new(request: CommandRequest) -> None:
    actor = request.user
    MANAGE_FREEZES.require(actor)  # answered where it was typed, no modal
    response_url = request.body.get("response_url")
    origin = FreezeFormOrigin(
        channel_id=request.channel_id or None,
        response_url=str(response_url) if response_url else None,
    )

    async def build() -> View:
        squads, applications = await request.deps.services.catalog.for_release_form(actor)
        return freeze_modal(origin, request.tz, applications, squads)

    await open_modal(
        request.client, request.trigger_id, TITLE, CallbackId.NEW_FREEZE, "the catalog", build
    )


async def _end(request: CommandRequest) -> None:
    ref = " ".join(request.args[1:]).strip()
    if not ref:
        raise ValidationFailed(
            "Say which freeze to end, by its name or id. Usage: `/release freeze end <name or id>`"
        )
    try:
        ended = await request.deps.services.freezes.end(request.user, ref)
    except NotFound as error:  # where to look: the open ones
        raise NotFound(
            f"{error.message} `/release freeze list` shows the open ones.",
            suggestions=error.suggestions,
        ) from None
    await request.respond(**freeze_ended_message(ended).to_dict(), response_type="ephemeral")
