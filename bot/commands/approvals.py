"""`approvals`: the caller's pending approvals with Approve / Reject, ephemeral."""

from __future__ import annotations

from blocks.approval_list import approvals_list_message
from bot.commands.router import CommandRequest, Router


def register(router: Router) -> None:
    @router.add(
        "approvals", "", "approvals waiting for you, with Approve / Reject buttons", queued=True
    )
    async def approvals(request: CommandRequest) -> None:
        pending = await request.deps.services.approvals.pending_for(request.user)
        message = approvals_list_message(pending, request.tz)
        await request.respond(**message.to_dict(), response_type="ephemeral")
