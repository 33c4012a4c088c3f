"""The answer to a message sent to the bot in its DM (the Messages tab): the bot works
through `/release`, so it says how, instead of staying silent."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from blocks.message import Message, context, section
from blocks.text import cut, esc, plain

SHOWN_COMMAND = 100


def messages_tab_answer(*, command: str | None, linked: bool) -> Message:
    """``command``: the message read as a `/release` command when its first word is one
    (``status REL-2026.12``), to show how to type it; ``linked``: the person has a
    releasebot user."""
    lines = []
    if command:
        lines.append(
            f":point_right: To run that, type `/release {esc(cut(command, SHOWN_COMMAND))}`."
        )
    lines.append(
        ":wave: I don't read messages here: I work through the `/release` command, in any "
        "channel or here. `/release help` lists what I can do; `/release approvals` shows the "
        "approvals waiting for you. My *Home* tab shows them too, with your releases."
    )
    text = "\n".join(lines)
    blocks: list[Block] = [section(text)]
    if not linked:
        blocks.append(
            context(
                "Your Slack account is not linked to a releasebot user yet: ask an admin to run "
                "`/release admin link @you &lt;username&gt;`. Until then `help` and `whoami` "
                "work."
            )
        )
    return Message(text=plain(text, escaped=True), blocks=blocks)
