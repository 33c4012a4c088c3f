"""What every release-editing modal is made of: metadata, inputs, selects and their values."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Self

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    DateTimePickerElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blocks.message import section
from blocks.metadata import Metadata
from blocks.text import SURFACE_BLOCKS, cut, esc
from core.models.catalog import Application, Squad
from core.models.common import COMMENT_MAX

TITLE_LIMIT = 24
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
OPTIONS_LIMIT = 100
LABEL_LIMIT = 2000


class EditingMetadata(Metadata):
    """Which release a modal edits, the release's version it was opened on, and where to
    confirm: never trusted for rights."""

    release: str | None = None
    channel: str | None = None
    # A save over a newer release is refused rather than reverting what changed meanwhile.
    version: int | None = None


# --- views --------------------------------------------------------------------------------


def modal(
    title: str,
    callback_id: str | None,
    blocks: Sequence[Block],
    metadata: Metadata | None,
    *,
    submit: str | None = "Save",
) -> View:
    """A modal; ``submit=None`` for one that only informs (it needs no metadata)."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=cut(title, TITLE_LIMIT),
        submit=submit,
        close="Cancel" if submit else "Close",
        blocks=list(blocks)[:SURFACE_BLOCKS],
        private_metadata=metadata.encode() if metadata is not None else None,
    )


def loading_view(title: str, callback_id: str, what: str) -> View:
    """Shown the moment the command arrives (the trigger_id lasts 3 s); replaced once the
    data is loaded."""
    return notice_view(title, callback_id, f":hourglass_flowing_sand: Loading {esc(what)}…")


def notice_view(title: str, callback_id: str | None, mrkdwn: str) -> View:
    """A modal that only tells something (the release is unknown, there is nothing to pick,
    the approval was decided meanwhile…); ``mrkdwn`` is already escaped."""
    return modal(title, callback_id, [section(mrkdwn)], None, submit=None)


# --- inputs -------------------------------------------------------------------------------


def text_input(
    block_id: str,
    label: str,
    *,
    optional: bool = False,
    multiline: bool = False,
    initial: str | None = None,
    placeholder: str | None = None,
    hint: str | None = None,
    max_length: int | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=cut(label, LABEL_LIMIT),
        optional=optional,
        hint=cut(hint, LABEL_LIMIT) if hint else None,
        element=PlainTextInputElement(
            action_id=block_id,
            multiline=multiline,
            initial_value=initial or None,
            placeholder=cut(placeholder, 150) if placeholder else None,
            max_length=max_length,
        ),
    )


def date_input(block_id: str, label: str, *, initial: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        element=DatePickerElement(action_id=block_id, initial_date=initial),
    )


def datetime_input(
    block_id: str, label: str, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    """Slack's datetimepicker: shown in the viewer's time zone, submitted as a unix time."""
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=DateTimePickerElement(action_id=block_id),
    )


def user_input(block_id: str, label: str, *, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        hint=hint,
        element=UserSelectElement(action_id=block_id, placeholder="Pick a person"),
    )


def option(value: str, text: str) -> Option:
    return Option(value=value, text=cut(text, OPTION_TEXT_LIMIT) or value)


def break_glass_input(block_id: str, when: str) -> InputBlock:
    """The optional reason an approval manager gives to go ahead during a freeze; ``when``:
    what it is needed for ("to pass or waive a gate of a prod milestone")."""
    return text_input(
        block_id,
        "Break-glass reason",
        optional=True,
        multiline=True,
        max_length=COMMENT_MAX,
        hint=f"Only needed {when} during a freeze; approval managers only. The override is "
        "recorded, announced in the release's status and the digest, and listed in the audit.",
    )


def application_options(applications: Iterable[Application]) -> list[Option]:
    """The catalog's applications as options: "Payments (payments)"."""
    return [
        option(a.application_id, f"{a.application_name} ({a.application_id})") for a in applications
    ]


def squad_options(squads: Iterable[Squad]) -> list[Option]:
    """The catalog's squads as options: "Payments squad (payments)"."""
    return [option(s.squad_id, f"{s.squad_name} ({s.squad_id})") for s in squads]


def enum_options(values: Iterable[str]) -> list[Option]:
    """Options for an enum's values, shown as "In progress" for IN_PROGRESS."""
    return [option(v, v.replace("_", " ").capitalize()) for v in values]


@dataclass(frozen=True)
class Group:
    label: str
    options: list[Option]


def fit_groups(groups: Sequence[Group], limit: int = OPTIONS_LIMIT) -> tuple[list[Group], int]:
    """Keep at most ``limit`` options overall (Slack's menus stay usable); returns how many
    were left out, for an "… and N more" hint."""
    kept: list[Group] = []
    room = limit
    hidden = 0
    for group in groups:
        if not group.options:
            continue
        if room <= 0:
            hidden += len(group.options)
            continue
        kept.append(Group(group.label, group.options[:room]))
        hidden += max(0, len(group.options) - room)
        room -= len(kept[-1].options)
    return kept, hidden


def select_input(
    block_id: str,
    label: str,
    *,
    options: Sequence[Option] = (),
    groups: Sequence[Group] = (),
    optional: bool = False,
    initial: Option | None = None,
    placeholder: str = "Choose…",
    hint: str | None = None,
) -> InputBlock:
    """A static select of ``options`` or of option ``groups`` (cut to Slack's limits)."""
    if groups:
        kept, hidden = fit_groups(groups)
        option_groups: list[OptionGroup] | None = [
            OptionGroup(label=cut(g.label, OPTION_TEXT_LIMIT), options=g.options) for g in kept
        ]
        flat = None
    else:
        flat = list(options)[:OPTIONS_LIMIT]
        hidden = max(0, len(options) - OPTIONS_LIMIT)
        option_groups = None
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=_with_more(hint, hidden),
        element=StaticSelectElement(
            action_id=block_id,
            placeholder=placeholder,
            options=flat,
            option_groups=option_groups,
            initial_option=initial,
        ),
    )


def multi_select_input(
    block_id: str,
    label: str,
    options: Sequence[Option],
    *,
    initial: Sequence[Option] = (),
    hint: str | None = None,
    placeholder: str = "Choose…",
) -> InputBlock:
    """An optional static multi-select of at most Slack's 100 ``options``."""
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        hint=_with_more(hint, len(options) - OPTIONS_LIMIT),
        element=StaticMultiSelectElement(
            action_id=block_id,
            placeholder=placeholder,
            options=list(options)[:OPTIONS_LIMIT],
            initial_options=list(initial) or None,
        ),
    )


def _with_more(hint: str | None, hidden: int) -> str | None:
    """The hint, saying how many options a menu had no room for."""
    if hidden <= 0:
        return hint
    more = f"… and {hidden} more not listed."
    return f"{hint} {more}" if hint else more


def checkbox_input(
    block_id: str, label: str, choice: Option, *, checked: bool = False
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        element=CheckboxesElement(
            action_id=block_id, options=[choice], initial_options=[choice] if checked else None
        ),
    )


# --- picks: what a select's option stands for -----------------------------------------------


@dataclass(frozen=True)
class Pick:
    """A select option's meaning, as its value. The value is the fields as a JSON list, or
    — when that is longer than Slack's 150 characters — a digest that ``read`` resolves
    against the picks the release still offers."""

    def value(self) -> str:
        text = json.dumps(astuple(self), separators=(",", ":"), ensure_ascii=False)
        if len(text) <= OPTION_VALUE_LIMIT:
            return text
        return "#" + hashlib.sha256(text.encode()).hexdigest()[:40]

    def option(self, text: str) -> Option:
        return option(self.value(), text)

    @classmethod
    def read(cls, value: str, known: Iterable[Self] = ()) -> Self | None:
        """The pick a value stands for; None when it cannot be told (a digest not among
        ``known``, or a malformed value)."""
        if value.startswith("#"):
            return next((pick for pick in known if pick.value() == value), None)
        try:
            parts = json.loads(value)
        except ValueError:
            return None
        names = [f.name for f in fields(cls)]
        if not isinstance(parts, list) or len(parts) != len(names):
            return None
        if not all(p is None or isinstance(p, str) for p in parts):
            return None
        return cls(**dict(zip(names, parts, strict=True)))


def is_digest(value: str) -> bool:
    return value.startswith("#")
