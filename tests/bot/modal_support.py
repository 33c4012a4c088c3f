"""Drive the release-editing modals as Slack does: command → views.open → views.update →
view_submission with values in Slack's state format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bot.devtools.harness import LocalBot
from core.models.release import Release
from core.models.timeline import TimelineEvent
from tests.support import COLLECTIONS

State = dict[str, Any]


async def open_form(bot: LocalBot, user: str, text: str) -> dict[str, Any]:
    """Type the command; return the form the "Loading…" modal was replaced with."""
    opened = len(bot.slack.of("views.open"))
    updated = len(bot.slack.of("views.update"))
    reply = await bot.driver.command(user, text)
    assert reply.status == 200
    [*_, loading] = await bot.slack.wait_for("views.open", opened + 1)
    assert loading.params["trigger_id"].startswith("trigger.")
    [*_, update] = await bot.slack.wait_for("views.update", updated + 1)
    assert update.params["view_id"].startswith("V")
    view: dict[str, Any] = update.params["view"]
    return view


async def introduce(bot: LocalBot, user: str) -> None:
    """Let ``user`` contact the bot once (linked by email), so a later snapshot of storage
    does not count that first contact as a change."""
    answered = len(bot.slack.of("response_url"))
    reply = await bot.driver.command(user, "whoami")
    assert reply.status == 200
    await bot.slack.wait_for("response_url", answered + 1)


async def submit(bot: LocalBot, user: str, view: dict[str, Any], **values: State) -> Any:
    """Submit ``view`` with ``block_id=state`` values; the reply's JSON (None when closed)."""
    reply = await bot.driver.submit(user, view, {block: {block: s} for block, s in values.items()})
    assert reply.status == 200
    return reply.json()


def text(value: str) -> State:
    return {"type": "plain_text_input", "value": value}


def select(value: str) -> State:
    return {
        "type": "static_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def multi(*values: str) -> State:
    return {
        "type": "multi_static_select",
        "selected_options": [
            {"value": v, "text": {"type": "plain_text", "text": v}} for v in values
        ],
    }


def checked(*values: str) -> State:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def date(value: str) -> State:
    return {"type": "datepicker", "selected_date": value}


def moment(value: datetime) -> State:
    return {"type": "datetimepicker", "selected_date_time": int(value.timestamp())}


def person(slack_id: str) -> State:
    return {"type": "users_select", "selected_user": slack_id}


def _options(view: dict[str, Any], block_id: str) -> Iterator[dict[str, Any]]:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    element = block["element"]
    for group in element.get("option_groups") or [{"options": element.get("options") or []}]:
        yield from group["options"]


def option_value(view: dict[str, Any], block_id: str, label: str) -> str:
    """The value of the one option of a select whose text contains ``label``."""
    found = [o["value"] for o in _options(view, block_id) if label in o["text"]["text"]]
    assert len(found) == 1, f"{label!r} matches {len(found)} options of {block_id}"
    return str(found[0])


def group_texts(view: dict[str, Any], block_id: str, group: str) -> list[str]:
    """The option texts of the option group whose label contains ``group``."""
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    groups = [g for g in block["element"]["option_groups"] if group in g["label"]["text"]]
    return [o["text"]["text"] for g in groups for o in g["options"]]


def option_value_in(view: dict[str, Any], block_id: str, group: str, label: str) -> str:
    """Like ``option_value``, within the option group whose label contains ``group``."""
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    groups = [g for g in block["element"]["option_groups"] if group in g["label"]["text"]]
    found = [o["value"] for g in groups for o in g["options"] if label in o["text"]["text"]]
    assert len(found) == 1, f"{group!r}/{label!r} matches {len(found)} options"
    return str(found[0])


async def release(bot: LocalBot, ref: str) -> Release:
    return await bot.runtime.repos.releases.get(ref)


async def events(bot: LocalBot, ref: str) -> list[TimelineEvent]:
    stored = await release(bot, ref)
    return await bot.runtime.repos.timeline.for_release(stored.id, limit=200)


async def snapshot(bot: LocalBot) -> dict[str, list[dict[str, Any]]]:
    """Every stored document, to show a refused submission changed nothing; taken once the
    reactions to earlier changes are done (they clear outboxes)."""
    await bot.runtime.deps.settle()
    db = bot.runtime.db
    return {
        name: await db[name].find({}).sort("_id", 1).to_list(length=None) for name in COLLECTIONS
    }


async def confirmation(bot: LocalBot, count: int = 1) -> dict[str, Any]:
    """The ephemeral confirmation posted after the modal closed."""
    [*_, posted] = await bot.slack.wait_for("chat.postEphemeral", count)
    params: dict[str, Any] = posted.params
    return params
