"""Break-glass overrides as people read them (status, digest), the refusal that offers one,
and the gate form's break-glass reason — pure, without Slack or storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from blocks.digest import digest_message
from blocks.ids import ActionId, EditField
from blocks.modals.break_glass import break_glass_offer
from blocks.modals.form import EditingMetadata
from blocks.modals.form_state import Form
from blocks.modals.gate import GatePick, GateUpdate, gate_modal, read_gate_form
from blocks.status import break_glass_blocks, release_status_message
from blocks.text import EveryReader, when
from core.errors import ValidationFailed
from core.models.approval import BreakGlass
from core.models.release import GateStatus, QualityGate, Release, ReleaseProduct
from core.rules.digest import Digest, DigestEntry
from core.rules.readiness import summarize

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
INJECTION = "<!channel> & <@U123>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def override(minutes: int, reason: str = "Card outage fix") -> BreakGlass:
    return BreakGlass(
        freeze_id="f1",
        freeze_name="Holiday freeze",
        reason=reason,
        by="arjun",
        at=T0 + timedelta(minutes=minutes),
        what="approved go-live (pay-api / Regression suite)",
    )


def release(*overrides: BreakGlass) -> Release:
    return Release(
        release_id="REL-1",
        release_name="Payments",
        release_date=date(2030, 3, 1),
        squad_ids=["payments"],
        created_by="u1",
        created_at=T0,
        products=[
            ReleaseProduct(
                application_id="pay",
                product_id="pay-api",
                product_name="Pay API",
                quality_gates=[QualityGate(gate_name="Regression suite")],
            )
        ],
        break_glass=list(overrides),
    )


def texts(message: dict[str, Any]) -> str:
    found: list[str] = [str(message.get("text", ""))]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks"))
    return "\n".join(found)


# --- status and digest ----------------------------------------------------------------------


def test_status_lists_the_overrides_newest_first_on_each_readers_clock() -> None:
    made = release(override(0, "first"), override(30, "second"))

    text = texts(release_status_message(made, summarize(made), {}, PARIS).to_dict())

    at = when(T0 + timedelta(minutes=30), EveryReader(PARIS))
    line = (
        "🔨 *arjun* broke glass during *Holiday freeze*: approved go-live (pay-api / "
        f"Regression suite) — “second” · {at}"
    )
    assert "*Break-glass overrides*" in text and line in text
    assert text.index("“second”") < text.index("“first”")


def test_at_most_five_overrides_are_shown_and_the_others_counted() -> None:
    [section] = break_glass_blocks([override(n, f"reason {n}") for n in range(7)], PARIS)

    text = section.to_dict()["text"]["text"]
    assert "reason 6" in text and "reason 2" in text and "reason 1" not in text
    assert text.endswith("_… and 2 more overrides_")


def test_a_release_without_overrides_shows_no_section() -> None:
    made = release()

    text = texts(release_status_message(made, summarize(made), {}, PARIS).to_dict())

    assert break_glass_blocks([], PARIS) == [] and "Break-glass" not in text


def test_every_word_of_an_override_is_escaped() -> None:
    made = override(0, INJECTION).model_copy(update={"by": INJECTION, "freeze_name": INJECTION})

    [section] = break_glass_blocks([made], PARIS)

    text = section.to_dict()["text"]["text"]
    assert "<!channel>" not in text and text.count(ESCAPED) == 3


def test_the_digest_shows_the_overrides_it_is_given_with_their_release() -> None:
    made, other = release(override(0)), release(override(5)).model_copy(update={"id": "other"})
    digest = Digest(
        date(2030, 3, 1),
        date(2030, 2, 26),
        date(2030, 3, 15),
        [DigestEntry(made, summarize(made)), DigestEntry(other, summarize(other))],
    )

    text = texts(digest_message(digest, PARIS, overrides={made.id: [override(0)]}).to_dict())

    assert text.count("broke glass during *Holiday freeze*") == 1
    assert f"— “Card outage fix” · {when(T0, EveryReader(PARIS))}" in text


# --- the refusal that offers it -------------------------------------------------------------


def test_the_offer_carries_the_approve_buttons_value() -> None:
    offer = break_glass_offer(":no_entry: The freeze *X* is on", "VALUE")

    elements = [e for b in offer.to_dict()["blocks"] for e in b.get("elements", [])]
    offered = [e for e in elements if e.get("action_id") == ActionId.BREAK_GLASS]
    assert [e["value"] for e in offered] == ["VALUE"]
    assert offer.text == "The freeze X is on"


# --- the gate form --------------------------------------------------------------------------


def submitted(**values: dict[str, Any]) -> Form:
    return Form({"state": {"values": {block: {block: s} for block, s in values.items()}}})


def test_the_gate_form_asks_for_an_optional_break_glass_reason() -> None:
    view = gate_modal(release(), EditingMetadata(release="REL-1")).to_dict()

    [block] = [b for b in view["blocks"] if b.get("block_id") == EditField.BREAK_GLASS]
    assert block["optional"] is True and block["element"]["max_length"] == 2000
    assert "prod milestone during a freeze" in block["hint"]["text"]


def test_the_reason_goes_with_the_status_change() -> None:
    form = submitted(
        gate_status={"selected_option": {"value": "PASSED"}},
        break_glass={"value": " Card outage fix "},
    )

    typed = read_gate_form(form, GatePick("pay-api", "Regression suite"), owner_id=None)

    assert isinstance(typed, GateUpdate)
    change = typed.change
    assert (change.gate_status, change.break_glass) == (GateStatus.PASSED, "Card outage fix")


def test_a_reason_alone_changes_nothing_and_a_new_gate_takes_none() -> None:
    reason = {"value": "Card outage fix"}

    with pytest.raises(ValidationFailed) as alone:
        read_gate_form(
            submitted(break_glass=reason), GatePick("pay-api", "Regression suite"), owner_id=None
        )
    with pytest.raises(ValidationFailed) as new:
        read_gate_form(
            submitted(gate_name={"value": "DAST"}, break_glass=reason),
            GatePick("pay-api"),
            owner_id=None,
        )

    assert alone.value.fields == {
        EditField.GATE_STATUS: "Pick a new status, or fill in what should change"
    }
    assert list(new.value.fields) == [EditField.BREAK_GLASS]
