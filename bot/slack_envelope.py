"""The shape of what Slack sends, checked before Bolt sees it.

Bolt trusts the payload's shape: a signed body whose ``event`` is null, whose ``actions``
is empty or whose ``user`` is a string crashes its matchers (a 500), and a user id that is
not an id reaches identity. Slack never sends such bodies, so one that arrives is answered
400 here. Only the fields Bolt and the bot read are checked; everything else is let through.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

SlackId = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z0-9]{2,64}$")]


class Envelope(BaseModel):
    """A part of a payload: the fields named are checked, others are allowed."""

    model_config = ConfigDict(extra="allow")


class Team(Envelope):
    id: SlackId


class User(Envelope):
    id: SlackId
    team_id: SlackId | None = None


class Action(Envelope):
    action_id: StrictStr
    block_id: StrictStr | None = None
    value: StrictStr | None = None


class InputState(Envelope):
    """One input's state: Slack sends text as strings, never numbers or objects."""

    value: StrictStr | None = None
    selected_date: StrictStr | None = None
    selected_time: StrictStr | None = None
    selected_user: StrictStr | None = None
    selected_option: dict[str, Any] | None = None
    selected_options: list[dict[str, Any]] | None = None


class ViewState(Envelope):
    values: dict[str, dict[str, InputState]] = Field(default_factory=dict)


class View(Envelope):
    type: StrictStr
    callback_id: StrictStr = ""
    private_metadata: StrictStr = ""
    state: ViewState | None = None


class Interaction(Envelope):
    user: User
    team: Team | None = None  # null for some org-wide installs


class BlockActions(Interaction):
    actions: list[Action] = Field(min_length=1)
    container: dict[str, Any] | None = None
    response_url: StrictStr | None = None
    view: View | None = None

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        """A click in a message always comes with the URL its answer goes to."""
        in_message = (self.container or {}).get("type") in ("message", "message_attachment")
        if in_message and not self.response_url:
            raise ValueError("a click in a message needs its response_url")
        return self


class ViewPayload(Interaction):
    view: View


class BlockSuggestion(Interaction):
    action_id: StrictStr
    value: StrictStr = ""


class Event(Envelope):
    type: Annotated[str, StringConstraints(strict=True, min_length=1)]
    # An id, or the person's whole profile (`user_change`: bot/events/profiles.py).
    user: SlackId | User | None = None


class HomeOpened(Event):
    user: SlackId


class EventCallback(Envelope):
    team_id: SlackId | None = None
    event: Event
    authorizations: list[dict[str, Any]] | None = None
    event_id: StrictStr | None = None


class SlashCommand(Envelope):
    command: StrictStr
    user_id: SlackId
    team_id: SlackId
    response_url: StrictStr
    text: StrictStr = ""


class UrlVerification(Envelope):
    challenge: StrictStr


BY_TYPE: dict[str, type[Envelope]] = {
    "block_actions": BlockActions,
    "view_submission": ViewPayload,
    "view_closed": ViewPayload,
    "block_suggestion": BlockSuggestion,
    "event_callback": EventCallback,
    "url_verification": UrlVerification,
}


def shape_error(body: dict[str, Any]) -> str | None:
    """What is wrong with the payload's shape, or None when Bolt may take it."""
    kind = body.get("type")
    model = SlashCommand if "command" in body else BY_TYPE.get(str(kind))
    try:
        if model is not None:
            model.model_validate(body)
        event = body.get("event")
        if isinstance(event, dict) and event.get("type") == "app_home_opened":
            HomeOpened.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        return f"{where}: {first['msg']}"
    return None
