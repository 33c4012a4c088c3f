"""``GET /api/v1/audit/export``: the audit chain (``core/services/audit.py``) streamed as
NDJSON or CSV, to be checked with ``python -m scripts.audit verify FILE``.

The two file formats are defined here, once: the API writes them, the Slack command sends
the NDJSON one, and the verifier reads both back (``csv_record``).

- NDJSON: one record a line, as the core yields them (header, entries, heads).
- CSV: a row of column names (``CSV_COLUMNS``), then one row per entry or head; the export's
  header record has no row. The columns in ``JSON_COLUMNS`` hold JSON values, so a row gives
  back exactly the record it came from (``comment`` too: no comment, ``null``, differs from an
  empty one, and a comment's line breaks stay inside its cell).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from bot import logs
from bot.api.routing import Call, Route
from core.audit_files import CSV_COLUMNS, csv_cells, csv_line, export_filename, ndjson_line
from core.rules.principal import Scope
from core.services.container import Services

log = logging.getLogger(__name__)

EXPORT_PATH = "/api/v1/audit/export"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
CHUNK_BYTES = 64 * 1024  # written to the client in pieces about this big


# --- the route --------------------------------------------------------------------------


def _iso_8601(value: object) -> object:
    """Only ISO-8601 text (a date, or a date and time with or without an offset)."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            "Not an ISO-8601 date and time; use e.g. 2026-12-01 or 2026-12-01T09:00:00Z"
        ) from None


def _in_utc(value: datetime) -> datetime:
    """Naive times are UTC (the export's own times are)."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Out of range; use a date and time between the years 1 and 9999") from None


Moment = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_in_utc)]


class AuditExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    since: Moment | None = Field(
        None,
        alias="from",
        description="Entries at or after this ISO-8601 time (naive: UTC); unset: from the first",
    )
    to: Moment | None = Field(
        None,
        description="Entries before this ISO-8601 time; unset: up to now, and each release's "
        "head is included so a missing last entry shows",
    )
    release: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Only this release (its id in any case, or _id); unset: every release "
        "you can see",
    )
    format: Literal["ndjson", "csv"] = Field(
        "ndjson", description=f"ndjson ({NDJSON}, one record a line) or csv ({CSV})"
    )

    @field_validator("to")
    @classmethod
    def _after_from(cls, to: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if to is not None and since is not None and to <= since:
            raise ValueError("Must be later than from")
        return to


def audit_routes(services: Services) -> list[Route]:
    async def export_audit(call: Call) -> web.StreamResponse:
        query = call.query(AuditExportQuery)
        records = services.audit.export(
            call.actor, release=query.release, since=query.since, until=query.to
        )
        # Before anything is sent, so they answer in the error envelope: the refusals (no
        # can_view_audit, a release not found) come with the header, storage being down
        # with the first record after it.
        header = await anext(records)
        try:
            first = [await anext(records)]
        except StopAsyncIteration:
            first = []
        csv_out = query.format == "csv"
        name = export_filename(header, query.release, query.format)
        response = web.StreamResponse(
            headers={
                "Content-Type": f"{CSV if csv_out else NDJSON}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(call.request)
        try:
            async for chunk in _chunks(header, first, records, csv_out=csv_out):
                await response.write(chunk)
        except Exception:
            # The status line has gone: the only way left to say "incomplete" is to end
            # the connection without the last chunk, which HTTP clients report as an error.
            log.exception("audit export cut short (ref %s)", logs.request_id.get())
            if call.request.transport is not None:
                call.request.transport.close()
            return response
        await response.write_eof()
        return response

    return [
        Route(
            "GET",
            EXPORT_PATH,
            export_audit,
            "Export the audit chain",
            "audit",
            scope=Scope.RELEASES_READ,
            query=AuditExportQuery,
            raw_content_type=NDJSON,
            description=(
                "Streams the timeline entries of the releases you can see (or of one), each "
                "with the hash of the entry before it and its own, in chain order, release by "
                "release, then each release's chain head when the export runs to now. "
                f"format=ndjson ({NDJSON}): a header record, then one record a line. "
                f"format=csv ({CSV}): a row of column names, then a row per entry or head; "
                "actor, target, before, after and comment hold JSON. Check a file with "
                "`python -m scripts.audit verify FILE`. Needs the can_view_audit permission."
            ),
        )
    ]


async def _chunks(
    header: dict[str, Any],
    first: list[dict[str, Any]],
    rest: AsyncIterator[dict[str, Any]],
    *,
    csv_out: bool,
) -> AsyncIterator[bytes]:
    pending: list[str] = (
        [csv_line(list(CSV_COLUMNS)), csv_line(csv_cells(header))]
        if csv_out
        else [ndjson_line(header)]
    )
    size = 0

    async def records() -> AsyncIterator[dict[str, Any]]:
        for record in first:
            yield record
        async for record in rest:
            yield record

    async for record in records():
        line = csv_line(csv_cells(record)) if csv_out else ndjson_line(record)
        pending.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()
