"""`/release list`: releases newest first, a readiness line each, and a "More" button."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from blocks.ids import ActionId
from blocks.message import Message, context, fit, section
from blocks.metadata import Metadata
from blocks.status import readiness_line
from blocks.text import cut, day, esc, plural
from core.models.release import ReleaseHead
from core.rules.readiness import ReadinessSummary

QUERY_LIMIT = 100
MORE_BLOCK = "list_more"

# A release card and its summary (``ReleaseCard``, ``card.summary``), or a release and
# ``summarize(release)``.
Listed = tuple[ReleaseHead, ReadinessSummary]
SEARCH_HINT = (
    "A search matches the start of a release id or of a word in a release name, ignoring "
    "case: `REL-2026`, `payments`."
)


class ListPage(Metadata):
    """Where the next page of a listing starts: the "More" button's value."""

    cursor: str
    query: str | None = None
    page: int = 2


def release_line(release: ReleaseHead, summary: ReadinessSummary) -> str:
    """One release in mrkdwn: id, name, date, type, squads and its readiness."""
    squads = esc(", ".join(release.squad_ids)) or "no squads"
    return (
        f"*{esc(release.release_id)}* · {esc(release.release_name)}\n"
        f":calendar: {day(release.release_date)} · {esc(release.release_type)} · {squads}\n"
        f"{readiness_line(summary)}"
    )


def release_list_message(
    listed: Sequence[Listed],
    *,
    query: str | None,
    next_cursor: str | None,
    page: int = 1,
) -> Message:
    what = f" matching “{esc(query)}”" if query else ""
    if not listed:
        text = (
            f"No releases{what} that you can see. {SEARCH_HINT}"
            if query
            else "No releases that you can see yet. Releases of your squads appear here."
        )
        return Message(text=text, blocks=[section(f":mag: {text}")])
    title = f":package: *Releases{what}*, newest first" + (f" · page {page}" if page > 1 else "")
    blocks: list[Block] = [section(title)]
    blocks += [section(release_line(release, summary)) for release, summary in listed]
    if next_cursor:
        more = ListPage(cursor=next_cursor, query=_query(query), page=page + 1)
        blocks.append(
            ActionsBlock(
                block_id=MORE_BLOCK,
                elements=[
                    ButtonElement(
                        text="More", action_id=ActionId.MORE_RELEASES, value=more.encode()
                    )
                ],
            )
        )
    else:
        blocks.append(context("`/release status &lt;release&gt;` shows one in full."))
    return Message(
        text=f"Releases{what}: {plural(len(listed), 'release')}",
        blocks=fit(blocks, keep_last=1, what="release"),
    )


def _query(query: str | None) -> str | None:
    text = (query or "").strip()
    return cut(text, QUERY_LIMIT) if text else None
