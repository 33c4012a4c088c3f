"""`audit <release>`: the release's audit chain, sent to the requester by DM as an NDJSON
file (``bot/api/audit.py``'s format) that ``python -m scripts.audit verify`` checks.

The export is read first: a refusal (no ``can_view_audit``, a release the person cannot see)
is answered before anything is opened or uploaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.audit import audit_file_comment, audit_not_sent_message, audit_sent_message
from bot.commands.router import CommandRequest, Router
from bot.slack_client import error_code, maybe_done
from core.audit_files import export_filename, ndjson_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditFile:
    release_id: str
    filename: str
    content: str
    entries: int

    @classmethod
    def of(cls, records: list[dict[str, Any]], ref: str) -> AuditFile:
        header = records[0]
        named = [r for r in records if r.get("kind") in ("entry", "head")]
        release_id = str(named[0]["release_id"]) if named else ref
        return cls(
            release_id=release_id,
            filename=export_filename(header, release_id, "ndjson"),
            content="".join(ndjson_line(r) for r in records),
            entries=sum(r.get("kind") == "entry" for r in records),
        )


class NotSent(Exception):
    """Slack did not take the file; ``reason`` says so in words. ``maybe_shared``: Slack's
    own failure, after which the file may have been shared all the same."""

    def __init__(self, reason: str, *, maybe_shared: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_shared = maybe_shared


def register(router: Router) -> None:
    @router.add(
        "audit",
        "<release>",
        "the release's audit trail, sent to you by DM as a file you can verify "
        "(needs `can_view_audit`)",
        queued=True,
    )
    async def audit(request: CommandRequest) -> None:
        ref = request.arg(0, "a release id")
        export = request.deps.services.audit.export(request.user, release=ref)
        found = AuditFile.of([record async for record in export], ref)
        user_id = str(request.body.get("user_id", ""))
        try:
            await send_by_dm(request.client, user_id, found)
        except NotSent as failed:
            message = audit_not_sent_message(
                found.release_id, failed.reason, maybe_shared=failed.maybe_shared
            )
        else:
            message = audit_sent_message(found.release_id, found.filename, found.entries)
        await request.respond(**message.to_dict(), response_type="ephemeral")


async def send_by_dm(client: AsyncWebClient, user_id: str, file: AuditFile) -> None:
    """Upload ``file`` into the app's DM with ``user_id`` (Slack's external upload flow,
    through ``files_upload_v2``); ``NotSent`` if Slack did not take it."""
    try:
        opened = await client.conversations_open(users=user_id)
        await client.files_upload_v2(
            channel=str(opened["channel"]["id"]),
            content=file.content,
            filename=file.filename,
            title=file.filename,
            initial_comment=audit_file_comment(file.release_id, file.entries),
        )
    except SlackApiError as error:
        log.warning("audit file for %s not sent: %s", user_id, error_code(error) or error)
        said = f"Slack answered `{error_code(error) or error.response.status_code}`"
        raise NotSent(said, maybe_shared=maybe_done(error)) from None
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("audit file for %s not sent: %r", user_id, error)
        raise NotSent("Slack did not take the upload") from None
