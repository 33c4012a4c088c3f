"""`archive <release> <reason…>` and `restore <release>`: an admin hides a release from every
list (soft delete, kept for the audit) or brings it back. Rules in core/rules/archive.py."""

from __future__ import annotations

from blocks.archive import archived_message, restored_message
from bot.commands.router import CommandRequest, Router
from core.errors import ValidationFailed
from core.rules.operations import ARCHIVE_RELEASE, RESTORE_RELEASE


def register(router: Router) -> None:
    @router.add(
        "archive",
        "<release> <reason…>",
        "hide a release from lists, Home and digests, kept for the audit (admins)",
    )
    async def archive(request: CommandRequest) -> None:
        ARCHIVE_RELEASE.require(request.user)  # refused before anything is read
        ref = request.arg(0, "a release id")
        reason = " ".join(request.args[1:]).strip()
        if not reason:
            raise ValidationFailed(
                "Say why the release is archived: the reason is kept in its history. "
                f"Usage: `/release {request.usage}`"
            )
        release = await request.deps.services.releases.archive(request.user, ref, reason)
        message = archived_message(release, request.tz)
        await request.respond(**message.to_dict(), response_type="ephemeral")

    @router.add("restore", "<release>", "bring an archived release back (admins)")
    async def restore(request: CommandRequest) -> None:
        RESTORE_RELEASE.require(request.user)
        ref = request.arg(0, "a release id")
        release = await request.deps.services.releases.restore(request.user, ref)
        await request.respond(**restored_message(release).to_dict(), response_type="ephemeral")
