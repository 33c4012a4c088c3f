"""A submitted modal's values as Slack sends them (``view.state.values``), read into plain
Python values; what every form's reader (``read_…_form``) builds its draft from.

Pure: a payload in, values out. Placing errors next to fields and confirming once saved is
bot/views/form_input.py."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.errors import ValidationFailed

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EPOCH_SECONDS = re.compile(r"-?[0-9]{1,20}")


class Form:
    """The values of a submitted view: ``state.values[block_id][action_id]``."""

    def __init__(self, view: Mapping[str, Any]) -> None:
        # A payload of another shape reads as an empty form: "Required", never a crash.
        state = view.get("state")
        values = state.get("values") if isinstance(state, Mapping) else None
        self._values: Mapping[str, Any] = values if isinstance(values, Mapping) else {}
        blocks = view.get("blocks")
        self.input_blocks: list[str] = [
            str(b["block_id"])
            for b in (blocks if isinstance(blocks, list) else [])
            if isinstance(b, Mapping) and b.get("type") == "input" and b.get("block_id")
        ]

    def _state(self, block_id: str) -> Mapping[str, Any]:
        actions = self._values.get(block_id) or {}
        state: object = next(iter(actions.values()), {}) if isinstance(actions, Mapping) else {}
        return state if isinstance(state, Mapping) else {}

    def text(self, block_id: str) -> str | None:
        """A text (or email, or url) input's value, stripped; None when empty."""
        value = self._state(block_id).get("value")
        text = str(value).strip() if value is not None else ""
        return text or None

    def date(self, block_id: str) -> str | None:
        """A datepicker's value, ``YYYY-MM-DD`` as Slack sends it; the core checks the
        date itself (2026-02-30, or one outside the years it plans for)."""
        value = self._state(block_id).get("selected_date")
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise ValidationFailed("Pick a date.", fields={block_id: "Pick a date"})
        return value

    def unix_time(self, block_id: str) -> int | None:
        """A datetimepicker's value: whole seconds since the epoch (Slack converts from the
        viewer's time zone); the core checks the moment is one it plans for."""
        value = self._state(block_id).get("selected_date_time")
        if value is None:
            return None
        if isinstance(value, str) and _EPOCH_SECONDS.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValidationFailed("Pick a date and time.", fields={block_id: "Pick a date and time"})

    def choice(self, block_id: str) -> str | None:
        selected = self._state(block_id).get("selected_option") or {}
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return str(value) if value else None

    def choices(self, block_id: str) -> list[str]:
        """A multi-select's or a checkbox group's values."""
        selected = self._state(block_id).get("selected_options")
        if not isinstance(selected, list):
            return []
        return [str(o["value"]) for o in selected if isinstance(o, Mapping) and o.get("value")]

    def user(self, block_id: str) -> str | None:
        value = self._state(block_id).get("selected_user")
        return str(value) if value else None


def present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that were given: a model's defaults apply to the rest, and a missing
    required field is reported as such."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def split_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]
