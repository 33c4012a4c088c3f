"""A message: Block Kit blocks plus the plain-text fallback Slack shows in notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from blocks.text import MESSAGE_BLOCKS, SECTION_LIMIT, cut, plural


@dataclass
class Message:
    text: str
    blocks: list[Block] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Validated by slack_sdk's models: a breach of Slack's limits raises here."""
        return {"text": cut(self.text, 3000), "blocks": [b.to_dict() for b in self.blocks]}


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_LIMIT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=cut(text, 2000))])


def lines_section(
    lines: list[str], *, more: str = "line", limit: int = SECTION_LIMIT
) -> SectionBlock:
    """Lines joined into one section; those that don't fit become "… and N more <noun>s"
    (``more`` is the noun, singular)."""
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        tail = f"\n_… and {plural(len(lines) - index, more)}_"
        if used + len(line) + 1 + len(tail) > limit:
            kept.append(tail.strip())
            break
        kept.append(line)
        used += len(line) + 1
    return section("\n".join(kept))


def fit(
    blocks: list[Block], *, limit: int = MESSAGE_BLOCKS, keep_last: int = 0, what: str = "item"
) -> list[Block]:
    """Cut a block list to ``limit`` keeping the last ``keep_last`` (e.g. buttons); ``what``
    names what was cut (singular)."""
    if len(blocks) <= limit:
        return blocks
    tail = blocks[len(blocks) - keep_last :] if keep_last else []
    head = blocks[: len(blocks) - keep_last]
    room = limit - keep_last - 1
    hidden = len(head) - room
    return [*head[:room], context(f"… and {plural(hidden, 'more ' + what)} not shown"), *tail]
