"""A modal's input blocks as fields a person fills one by one, and the values Slack submits.

``input_fields(view)`` lists the fields; ``parse_answer(field, text)`` turns what was typed
into the element's state exactly as Slack sends it in ``view.state.values``
(block_id → action_id → {type, value | selected_date | selected_option | …}); a blank
answer keeps the initial value, or is empty for an optional field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.console.mentions import person_id
from bot.console.render import JSON, text_of

TEXT_KINDS = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
ONE_OPTION = {"static_select", "radio_buttons", "external_select"}
MANY_OPTIONS = {"multi_static_select", "checkboxes", "multi_external_select"}
USER_ONE = {"users_select": "selected_user"}
USER_MANY = {"multi_users_select": "selected_users"}
CONVERSATIONS = {
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "multi_conversations_select": "selected_conversations",
    "multi_channels_select": "selected_channels",
}


class AnswerError(ValueError):
    """What was typed does not fit the field; the message says what would."""


@dataclass(frozen=True)
class Field:
    block_id: str
    action_id: str
    label: str
    kind: str
    optional: bool
    element: JSON
    hint: str = ""
    dispatches: bool = False
    """Slack sends block_actions when this input changes (``dispatch_action``)."""

    @property
    def options(self) -> list[JSON]:
        options = list(self.element.get("options") or [])
        for group in self.element.get("option_groups") or []:
            options += group.get("options") or []
        return options


def input_fields(view: JSON) -> list[Field]:
    fields = []
    for index, block in enumerate(view.get("blocks") or []):
        if block.get("type") != "input":
            continue
        element = dict(block.get("element") or {})
        fields.append(
            Field(
                block_id=str(block.get("block_id") or f"b{index}"),
                action_id=str(element.get("action_id") or f"a{index}"),
                label=text_of(block.get("label")),
                kind=str(element.get("type", "")),
                optional=bool(block.get("optional")),
                element=element,
                hint=text_of(block.get("hint")),
                dispatches=bool(block.get("dispatch_action")),
            )
        )
    return fields


def prompt(field: Field, names: Mapping[str, str], tz: ZoneInfo | None = None) -> str:
    """The question asked for a field, with the expected format and any default."""
    shape = {
        "datepicker": "YYYY-MM-DD",
        "timepicker": "HH:MM",
        "datetimepicker": "YYYY-MM-DD HH:MM",
        "number_input": "a number",
        "checkboxes": "numbers, comma-separated",
        "multi_static_select": "numbers, comma-separated",
        "static_select": "a number",
        "radio_buttons": "a number",
        "users_select": "a person",
        "multi_users_select": "people, comma-separated",
    }.get(field.kind)
    parts = [field.label]
    if shape:
        parts.append(f"({shape})")
    default = describe_state(initial_state(field), names, tz)
    if default:
        parts.append(f"[{default}]")
    elif field.optional:
        parts.append("[optional]")
    return " ".join(parts) + ": "


def option_lines(field: Field) -> list[str]:
    """The options numbered as ``parse_answer`` reads them, under their group labels."""
    groups = field.element.get("option_groups")
    if not groups:
        return [f"{n}) {text_of(o.get('text'))}" for n, o in enumerate(field.options, 1)]
    lines: list[str] = []
    n = 0
    for group in groups:
        lines.append(f"{text_of(group.get('label'))}:")
        for option in group.get("options") or []:
            n += 1
            lines.append(f"  {n}) {text_of(option.get('text'))}")
    return lines


def empty_state(field: Field) -> JSON:
    kind = field.kind
    if kind in ONE_OPTION:
        return {"type": kind, "selected_option": None}
    if kind in MANY_OPTIONS:
        return {"type": kind, "selected_options": []}
    key = {
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "datetimepicker": "selected_date_time",
        **USER_ONE,
        **USER_MANY,
        **CONVERSATIONS,
    }.get(kind, "value")
    many = kind in USER_MANY or kind.startswith("multi_")
    return {"type": kind, key: [] if many else None}


def initial_state(field: Field) -> JSON | None:
    """The state Slack submits when the person leaves the field as the bot filled it."""
    e = field.element
    kind = field.kind
    state = empty_state(field)
    if kind in TEXT_KINDS and e.get("initial_value") is not None:
        state["value"] = str(e["initial_value"])
    elif kind in ONE_OPTION and e.get("initial_option"):
        state["selected_option"] = e["initial_option"]
    elif kind in MANY_OPTIONS and e.get("initial_options"):
        state["selected_options"] = e["initial_options"]
    elif kind == "datepicker" and e.get("initial_date"):
        state["selected_date"] = e["initial_date"]
    elif kind == "timepicker" and e.get("initial_time"):
        state["selected_time"] = e["initial_time"]
    elif kind == "datetimepicker" and e.get("initial_date_time"):
        state["selected_date_time"] = e["initial_date_time"]
    elif kind in USER_ONE and e.get("initial_user"):
        state["selected_user"] = e["initial_user"]
    elif kind in USER_MANY and e.get("initial_users"):
        state["selected_users"] = e["initial_users"]
    else:
        return None
    return state


def describe_state(state: JSON | None, names: Mapping[str, str], tz: ZoneInfo | None = None) -> str:
    """A state value as a person would recognise it (for defaults and summaries)."""
    if not state:
        return ""
    for key, value in state.items():
        if key == "type" or value in (None, []):
            continue
        if key == "selected_option":
            return text_of(value.get("text"))
        if key == "selected_options":
            return ", ".join(text_of(o.get("text")) for o in value)
        if key == "selected_date_time":
            moment = datetime.fromtimestamp(int(value), tz or ZoneInfo("UTC"))
            return moment.strftime("%Y-%m-%d %H:%M")
        if key in ("selected_user", "selected_users"):
            ids = value if isinstance(value, list) else [value]
            return ", ".join(names.get(i, i) for i in ids)
        return str(value)
    return ""


def parse_answer(
    field: Field,
    text: str,
    *,
    people: Mapping[str, str] | None = None,
    tz: ZoneInfo | None = None,
) -> JSON:
    """What was typed → the element's state. ``people``: lower-case name → Slack id."""
    text = text.strip()
    if not text:
        initial = initial_state(field)
        if initial is not None:
            return initial
        if field.optional:
            return empty_state(field)
        raise AnswerError("this field is required")
    kind = field.kind
    state = empty_state(field)
    if kind in ONE_OPTION:
        state["selected_option"] = _choose(field, [text])[0]
    elif kind in MANY_OPTIONS:
        state["selected_options"] = _choose(field, _items(text))
    elif kind == "datepicker":
        state["selected_date"] = _date(text).isoformat()
    elif kind == "timepicker":
        state["selected_time"] = _time(text).strftime("%H:%M")
        if field.element.get("timezone"):
            state["timezone"] = field.element["timezone"]
    elif kind == "datetimepicker":
        state["selected_date_time"] = _date_time(text, tz or ZoneInfo("UTC"))
    elif kind in USER_ONE:
        state["selected_user"] = _person(text, people or {})
    elif kind in USER_MANY:
        state["selected_users"] = [_person(t, people or {}) for t in _items(text)]
    elif kind == "number_input":
        state["value"] = _number(text, field.element)
    elif kind == "rich_text_input":
        state["rich_text_value"] = {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
        del state["value"]
    else:
        _check_length(text, field.element)
        key = next(k for k in state if k != "type")
        state[key] = _items(text) if isinstance(state[key], list) else text
    return state


def _items(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _choose(field: Field, picks: list[str]) -> list[JSON]:
    options = field.options
    if not options:
        # external selects load their options from the bot; take the typed value as is
        return [{"text": {"type": "plain_text", "text": p}, "value": p} for p in picks]
    chosen = []
    for pick in picks:
        if pick.isdigit() and 1 <= int(pick) <= len(options):
            chosen.append(options[int(pick) - 1])
            continue
        named = [
            o
            for o in options
            if pick.lower() in (text_of(o.get("text")).lower(), str(o.get("value")).lower())
        ]
        if not named:
            raise AnswerError(f"choose a number from 1 to {len(options)}")
        chosen.append(named[0])
    return chosen


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AnswerError("a date as YYYY-MM-DD, e.g. 2026-12-15") from None


def _time(text: str) -> time:
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise AnswerError("a time as HH:MM, e.g. 09:30") from None


def _date_time(text: str, tz: ZoneInfo) -> int:
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        raise AnswerError("a date and time as YYYY-MM-DD HH:MM") from None
    return int(moment.timestamp())


def _person(text: str, people: Mapping[str, str]) -> str:
    user_id = person_id(text, people)
    if user_id is None:
        raise AnswerError(f"one of: {', '.join(sorted(people))}")
    return user_id


def _number(text: str, element: JSON) -> str:
    try:
        number = float(text) if element.get("is_decimal_allowed") else int(text)
    except ValueError:
        raise AnswerError(
            "a number" if element.get("is_decimal_allowed") else "a whole number"
        ) from None
    low, high = element.get("min_value"), element.get("max_value")
    if low is not None and number < float(low):
        raise AnswerError(f"at least {low}")
    if high is not None and number > float(high):
        raise AnswerError(f"at most {high}")
    return text


def _check_length(text: str, element: JSON) -> None:
    low, high = element.get("min_length"), element.get("max_length")
    if low is not None and len(text) < int(low):
        raise AnswerError(f"at least {low} characters")
    if high is not None and len(text) > int(high):
        raise AnswerError(f"at most {high} characters")


def state_values(fields: list[Field], answers: Mapping[str, JSON]) -> dict[str, dict[str, JSON]]:
    """``view.state.values`` for a submission: block_id → action_id → state."""
    return {f.block_id: {f.action_id: answers.get(f.block_id) or empty_state(f)} for f in fields}
