"""Block Kit as readable text: messages, modals and Home tabs, with buttons numbered.

Pure functions over the JSON Slack receives (parsed dicts). mrkdwn becomes plain readable
text: ``*bold*``, ``_italic_`` and emoji codes are kept, mentions and links are resolved,
entities unescaped. Buttons are numbered by a callback, so numbers stay unique over a
whole session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from blocks.text import unesc

JSON = dict[str, Any]
INDENT = "  "


@dataclass(frozen=True)
class ButtonRef:
    """What a click on a button sends back to the bot."""

    action_id: str
    value: str
    block_id: str
    label: str
    url: str | None = None


Numbering = Callable[[ButtonRef], int]

_ANGLE = re.compile(r"<([^<>]*)>")


def plain(text: str, names: Mapping[str, str] | None = None) -> str:
    """mrkdwn as a person reads it: ``<@U1>`` → ``@dana``, ``<url|label>`` → ``label (url)``."""
    names = names or {}

    def angle(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            return label or f"@{special}"
        return f"{label} ({target})" if label else target

    return unesc(_ANGLE.sub(angle, text))


def text_of(obj: object, names: Mapping[str, str] | None = None) -> str:
    """A text object (plain_text or mrkdwn), a bare string, or a rich-text element."""
    if isinstance(obj, str):
        return plain(obj, names)
    if not isinstance(obj, dict):
        return ""
    if "text" in obj and isinstance(obj["text"], str):
        return plain(obj["text"], names) if obj.get("type") == "mrkdwn" else str(obj["text"])
    if obj.get("type") == "user":
        return "@" + (names or {}).get(str(obj.get("user_id")), str(obj.get("user_id")))
    if obj.get("type") == "link":
        return str(obj.get("text") or obj.get("url") or "")
    if obj.get("type") == "emoji":
        return f":{obj.get('name')}:"
    return "".join(text_of(e, names) for e in obj.get("elements") or [])


def indent(lines: list[str], prefix: str = INDENT) -> list[str]:
    return [prefix + line if line else line for line in lines]


def _text_lines(obj: object, names: Mapping[str, str]) -> list[str]:
    return text_of(obj, names).splitlines() or [""]


def render_element(
    element: JSON, block_id: str, number: Numbering, names: Mapping[str, str]
) -> str:
    """One interactive element of an actions block or a section accessory."""
    kind = str(element.get("type", ""))
    label = text_of(element.get("text"), names)
    if kind == "button":
        ref = ButtonRef(
            action_id=str(element.get("action_id", "")),
            value=str(element.get("value", "")),
            block_id=block_id,
            label=label,
            url=element.get("url"),
        )
        link = f" → {ref.url}" if ref.url else ""
        return f"[{number(ref)}] {label}{link}"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        options = ", ".join(text_of(o.get("text"), names) for o in element.get("options") or [])
        return f"(⋯ {options})"
    placeholder = text_of(element.get("placeholder"), names)
    return f"({kind.replace('_', ' ')}{': ' + placeholder if placeholder else ''})"


def render_block(block: JSON, index: int, number: Numbering, names: Mapping[str, str]) -> list[str]:
    kind = block.get("type")
    block_id = str(block.get("block_id") or f"b{index}")
    if kind == "header":
        return [f"== {text_of(block.get('text'), names)} =="]
    if kind == "divider":
        return ["-" * 40]
    if kind == "context":
        parts = [
            text_of(e, names) if e.get("type") != "image" else f"[{e.get('alt_text', 'image')}]"
            for e in block.get("elements") or []
        ]
        return ["» " + line for line in " · ".join(parts).splitlines()]
    if kind == "section":
        lines = _text_lines(block.get("text"), names) if block.get("text") else []
        for field in block.get("fields") or []:
            field_lines = _text_lines(field, names)
            lines += ["▸ " + field_lines[0], *indent(field_lines[1:])]
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines.append("   " + render_element(accessory, block_id, number, names))
        return lines
    if kind == "actions":
        elements = [render_element(e, block_id, number, names) for e in block.get("elements") or []]
        return ["   ".join(elements)]
    if kind == "input":
        return [render_input_preview(block, names)]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return text_of(block, names).splitlines()
    return [f"[{kind} block]"]


def render_input_preview(block: JSON, names: Mapping[str, str]) -> str:
    element = block.get("element") or {}
    label = text_of(block.get("label"), names)
    need = "" if block.get("optional") else "*"
    kind = str(element.get("type", "")).replace("_", " ")
    return f"☐ {label}{need} ({kind})"


def render_blocks(
    blocks: list[JSON], number: Numbering, names: Mapping[str, str] | None = None
) -> list[str]:
    names = names or {}
    lines: list[str] = []
    for index, block in enumerate(blocks):
        lines += render_block(block, index, number, names)
    return lines


def render_message(
    params: JSON, number: Numbering, names: Mapping[str, str] | None = None
) -> list[str]:
    """A message as posted (chat.postMessage, chat.update, a response_url post)."""
    blocks = params.get("blocks")
    if isinstance(blocks, list) and blocks:
        return render_blocks(blocks, number, names)
    text = params.get("text")
    return plain(str(text), names).splitlines() if text else ["(empty message)"]


def render_view(view: JSON, number: Numbering, names: Mapping[str, str] | None = None) -> list[str]:
    """A modal or Home tab: its title, blocks and (for modals) its submit / close labels."""
    names = names or {}
    lines: list[str] = []
    title = text_of(view.get("title"), names)
    if title:
        lines.append(f"[ {title} ]")
    lines += render_blocks(list(view.get("blocks") or []), number, names)
    if view.get("type", "modal") == "modal":
        close = text_of(view.get("close"), names) or "Cancel"
        submit = text_of(view.get("submit"), names)
        lines.append(f"({submit} · {close})" if submit else f"({close})")
    return lines


def summarize_call(method: str, params: JSON) -> str:
    """A one-line trace of a Web API call that is not a message or a view."""
    shown = {
        k: v for k, v in params.items() if k not in {"token", "blocks", "view"} and len(str(v)) < 60
    }
    args = " ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    return f"· slack {method}{' ' + args if args else ''}"
