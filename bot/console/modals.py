"""Fill the modal the bot opened, field by field, and submit it as Slack would.

Each input block is asked for in turn (select options numbered, dates as YYYY-MM-DD…).
The submission is a signed ``view_submission`` carrying ``view.state.values``. When the bot
answers ``response_action: errors`` the errors are shown and only those fields asked again;
``update`` / ``push`` show the new view and fill it; ``cancel`` abandons the modal.
Inputs with ``dispatch_action`` send their ``block_actions`` as soon as they are answered,
so a bot that reshapes the modal (views.update) is followed.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from bot.console.forms import (
    AnswerError,
    Field,
    describe_state,
    input_fields,
    option_lines,
    parse_answer,
    prompt,
    state_values,
)
from bot.console.render import JSON, indent, text_of
from bot.console.transcript import Origin, reply_note
from bot.devtools.driver import Reply
from bot.devtools.signing import payload_body

if TYPE_CHECKING:
    from bot.console.app import Console

CHOICE_KINDS = {"static_select", "radio_buttons", "multi_static_select", "checkboxes"}


class ModalFiller:
    def __init__(self, console: Console) -> None:
        self.c = console
        self._seq = itertools.count(1)

    async def fill_open_modals(self) -> None:
        """While the current person has a modal open, fill and submit (or cancel) it."""
        c = self.c
        while not c.eof:
            stack = c.transcript.modals.get(c.user_id)
            if not stack:
                return
            view = stack[-1]
            if not input_fields(view) and not view.get("submit"):
                c.transcript.close_modal(c.user_id)  # nothing to fill: it was shown, close it
                continue
            await self.fill(view["id"])

    def _current(self, view_id: str) -> JSON | None:
        stack = self.c.transcript.modals.get(self.c.user_id) or []
        return stack[-1] if stack and stack[-1].get("id") == view_id else None

    async def fill(self, view_id: str) -> None:
        c = self.c
        view = self._current(view_id)
        assert view is not None
        c.term.write(f"Fill in “{text_of(view.get('title'))}” — `cancel` abandons it.")
        answers: dict[str, JSON] = {}
        errors: dict[str, str] = {}
        while True:
            view = self._current(view_id)
            if view is None:  # the bot closed or replaced it meanwhile
                return
            fields = input_fields(view)
            pending = [f for f in fields if f.block_id not in answers]
            if pending:
                state = await self.ask(pending[0], errors.pop(pending[0].block_id, None))
                if state is None:
                    await self.cancel(view)
                    return
                answers[pending[0].block_id] = state
                if pending[0].dispatches:
                    await self.dispatch(view, pending[0], state, fields, answers)
                continue
            if not fields and not await self.confirm(view):
                await self.cancel(view)
                return
            found = await self.submit(view, fields, answers)
            if not found:
                return
            errors = found
            for block_id in errors:
                answers.pop(block_id, None)
            if not any(f.block_id in errors for f in fields):
                answers.clear()

    async def ask(self, field: Field, error: str | None) -> JSON | None:
        """The field's state as typed; None when the person cancels (or input ends)."""
        c = self.c
        if error:
            c.term.write(f"  ✗ {field.label}: {error}")
        if field.kind in CHOICE_KINDS:
            c.term.write(*indent(option_lines(field), "    "))
        if field.hint:
            c.term.write(f"    ({field.hint})")
        while True:
            text = await c.term.read("  " + prompt(field, c.transcript.names, c.zone()))
            if text is None:
                c.eof = True
                return None
            if text.strip().lower() == "cancel":
                return None
            try:
                return parse_answer(field, text, people=c.mentionable, tz=c.zone())
            except AnswerError as problem:
                c.term.write(f"  ✗ {problem}")

    async def confirm(self, view: JSON) -> bool:
        submit = text_of(view.get("submit")) or "Submit"
        text = await self.c.term.read(f"  {submit}? [y/N]: ")
        if text is None:
            self.c.eof = True
        return (text or "").strip().lower() in ("y", "yes")

    async def submit(
        self, view: JSON, fields: list[Field], answers: dict[str, JSON]
    ) -> dict[str, str] | None:
        """Send the view_submission; the field errors the bot answered, or None when done."""
        c = self.c
        user = c.user_id
        reply = await c.bot.driver.submit(user, view, state_values(fields, answers))
        body: Any = reply.json() if reply.status == 200 and reply.text.startswith("{") else {}
        action = body.get("response_action") if isinstance(body, dict) else None
        if action == "errors" and isinstance(body.get("errors"), dict):
            errors = {str(k): str(v) for k, v in body["errors"].items()}
            asked = {f.block_id for f in fields}
            c.term.write(
                "The bot did not accept that; the fields marked ✗ are asked again.",
                *[f"  ✗ {k}: {v}" for k, v in errors.items() if k not in asked],
            )
            await self._after(reply, "the form", settle=False)
            return errors
        lines: list[str] = []
        if reply.status != 200:
            c.transcript.close_modal(user, all_views=True)
        elif action in ("update", "push") and isinstance(body.get("view"), dict):
            shown = c.transcript.replace_top(user, body["view"], push=action == "push")
            lines = c.transcript.show_modal(
                user, shown, "updated" if action == "update" else "pushed"
            )
        else:
            c.transcript.close_modal(user, all_views=action == "clear")
            c.term.write(f"(submitted “{text_of(view.get('title'))}”)")
        await self._after(reply, "this form", first=lines)
        return None

    async def dispatch(
        self, view: JSON, field: Field, state: JSON, fields: list[Field], answers: dict[str, JSON]
    ) -> None:
        """An input with dispatch_action: Slack sends block_actions as soon as it changes."""
        c = self.c
        action = {
            "type": field.kind,
            "action_id": field.action_id,
            "block_id": field.block_id,
            "action_ts": f"{1700000000 + next(self._seq)}.000000",
            **{k: v for k, v in state.items() if k != "type"},
        }
        answered = [f for f in fields if f.block_id in answers]
        payload = self._payload(
            "block_actions",
            view={**view, "state": {"values": state_values(answered, answers)}},
            container={"type": "view", "view_id": view["id"]},
            actions=[action],
            trigger_id=f"trigger.console{next(self._seq)}",
        )
        reply = await c.bot.driver.post(payload_body(payload))
        c.term.write(f"(sent “{field.label}: {describe_state(state, c.transcript.names)}”)")
        await self._after(reply, f"the input `{field.action_id}`")

    async def cancel(self, view: JSON) -> None:
        c = self.c
        if view.get("notify_on_close"):
            payload = self._payload("view_closed", view=view, is_cleared=True)
            reply = await c.bot.driver.post(payload_body(payload))
            await self._after(reply, "closing the modal")
        c.transcript.close_modal(c.user_id, all_views=True)
        c.term.write(f"(cancelled “{text_of(view.get('title'))}”)")

    def _payload(self, kind: str, **fields: Any) -> JSON:
        driver = self.c.bot.driver
        return {
            "type": kind,
            "team": {"id": driver.team_id, "domain": "demo"},
            "user": {"id": self.c.user_id, "team_id": driver.team_id},
            "api_app_id": "A0RELEASEBOT",
            **fields,
        }

    async def _after(
        self, reply: Reply, what: str, *, first: list[str] | None = None, settle: bool = True
    ) -> None:
        c = self.c
        note = reply_note(reply, what)
        if note:
            c.term.write(note)
        if settle and reply.status == 200:
            await c.settle()
        lines = (first or []) + c.transcript.absorb(c.bot.slack.calls, Origin(c.user_id))
        if lines:
            c.term.write(*lines)
