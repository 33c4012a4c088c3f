"""The release-editing modal builders: pure, valid for Slack, within its limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.views import View

from blocks.ids import CallbackId
from blocks.metadata import METADATA_LIMIT
from blocks.modals import (
    EditingMetadata,
    GatePick,
    MilestonePick,
    TargetPick,
    add_product_modal,
    attach_modal,
    change_modal,
    confirmations,
    gate_modal,
    gate_picks,
    loading_view,
    milestone_modal,
    new_release_modal,
    notice_view,
    runbook_modal,
    target_picks,
    task_modal,
)
from blocks.modals.admin import AdminForm, role_modal
from blocks.modals.reject import notice_modal
from blocks.text import SURFACE_BLOCKS, esc, plain
from core.models.attachment import Attachment
from core.models.catalog import Application, Product, Squad
from core.models.release import (
    Change,
    CTask,
    Environment,
    FixedVersion,
    Milestone,
    QualityGate,
    Release,
    ReleaseProduct,
    Runbook,
    RunbookTask,
)
from core.rules.approvals import new_approval

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
META = EditingMetadata(release="REL-2026.12", channel="C0RELEASE")


def make_release(
    *,
    name: str = "December release",
    products: int = 2,
    gates: int = 2,
    milestones: int = 2,
    gate_name: Callable[[int], str] = lambda g: f"Gate {g}",
) -> Release:
    def milestone(p: int, g: int, m: int) -> Milestone:
        start = T0 + timedelta(days=m * 2)
        return Milestone(
            milestone_key=f"m{p}-{g}-{m}",
            milestone_name=f"Milestone {m}",
            environment=Environment.UAT,
            start_date=start,
            end_date=start + timedelta(days=1),
            approval=new_approval(m == 0, m == 0, T0),
        )

    return Release(
        release_id="REL-2026.12",
        release_name=name,
        release_date=date(2026, 12, 14),
        squad_ids=["payments"],
        products=[
            ReleaseProduct(
                application_id="payments",
                product_id=f"product-{p}",
                product_name=f"Product {p}",
                fixed_version=FixedVersion(version_key=f"v{p}", version_name=f"V {p}"),
                quality_gates=[
                    QualityGate(
                        gate_name=gate_name(g),
                        order=g,
                        milestones=[milestone(p, g, m) for m in range(milestones)],
                    )
                    for g in range(gates)
                ],
            )
            for p in range(products)
        ],
        runbooks=[
            Runbook(
                runbook_name="Cutover",
                tasks=[RunbookTask(task_name=f"Step {t}", scheduled_start=T0) for t in range(3)],
                created_by="u1",
                created_at=T0,
            )
        ],
        chg=Change(
            change_id="CHG001",
            ctasks=[CTask(ctask_id="CHG001-T1", description="Deploy | verify")],
        ),
        created_by="u1",
        created_at=T0,
    )


CATALOG = [
    Application(
        application_id="payments",
        application_name="Payments",
        products=[
            Product(product_id=f"product-{p}", product_name=f"Product {p}") for p in range(4)
        ],
    )
]
SQUADS = [Squad(squad_id="payments", squad_name="Payments")]

BUILDERS: dict[str, Callable[[Release], View]] = {
    "new": lambda _r: new_release_modal(EditingMetadata(channel="C1"), SQUADS, CATALOG),
    "product": lambda r: add_product_modal(r, CATALOG, SQUADS, META),
    "gate": lambda r: gate_modal(r, META),
    "milestone": lambda r: milestone_modal(r, META, TZ),
    "runbook": lambda r: runbook_modal(r, META),
    "task": lambda r: task_modal(r, META, TZ),
    "change": lambda r: change_modal(r, META),
    "attach": lambda r: attach_modal(r, META),
}
CALLBACKS = {
    "new": CallbackId.NEW_RELEASE,
    "product": CallbackId.ADD_PRODUCT,
    "gate": CallbackId.GATE,
    "milestone": CallbackId.MILESTONE,
    "runbook": CallbackId.RUNBOOK,
    "task": CallbackId.TASK,
    "change": CallbackId.CHANGE,
    "attach": CallbackId.ATTACH,
}


def rendered(view: View) -> dict[str, Any]:
    """Slack's limits checked by slack_sdk's validators, and ours on top."""
    data: dict[str, Any] = view.to_dict()
    assert len(data["title"]["text"]) <= 24
    assert len(data.get("private_metadata", "")) <= METADATA_LIMIT
    assert 0 < len(data["blocks"]) <= SURFACE_BLOCKS
    return data


def options_of(data: dict[str, Any], block_id: str) -> list[dict[str, Any]]:
    [block] = [b for b in data["blocks"] if b.get("block_id") == block_id]
    element = block["element"]
    groups = element.get("option_groups") or [{"options": element.get("options", [])}]
    return [o for g in groups for o in g["options"]]


@pytest.mark.parametrize("name", BUILDERS)
def test_every_modal_renders_within_slacks_limits(name: str) -> None:
    data = rendered(BUILDERS[name](make_release()))

    assert data["callback_id"] == CALLBACKS[name]
    assert data["submit"]["text"]
    inputs = [b for b in data["blocks"] if b["type"] == "input"]
    assert inputs and all(b["block_id"] == b["element"]["action_id"] for b in inputs)
    metadata = EditingMetadata.decode(data["private_metadata"])
    assert metadata.channel in ("C0RELEASE", "C1")


@pytest.mark.parametrize("name", BUILDERS)
def test_a_huge_release_is_cut_to_what_a_menu_can_hold(name: str) -> None:
    huge = make_release(products=40, gates=10, milestones=5)

    data = rendered(BUILDERS[name](huge))

    for block in data["blocks"]:
        if block["type"] == "input" and "option_groups" in block["element"]:
            assert len(options_of(data, block["block_id"])) <= 100
            assert len(block["element"]["option_groups"]) <= 100
    if name in ("gate", "milestone", "attach"):
        [menu] = [b for b in data["blocks"] if b.get("block_id") in ("gate", "milestone", "target")]
        assert "more not listed" in menu["hint"]["text"]


def test_long_names_become_digests_that_the_release_resolves() -> None:
    long_name = "Regulatory evidence review " + "x" * 120
    release = make_release(products=1, gates=1, gate_name=lambda _g: long_name)
    data = rendered(gate_modal(release, META))

    values = [o["value"] for o in options_of(data, "gate")]
    assert all(len(v) <= 150 for v in values)
    digest = values[1]
    assert digest.startswith("#")
    assert GatePick.read(digest) is None  # cannot be told without the release…
    assert GatePick.read(digest, gate_picks(release)) == GatePick("product-0", long_name)
    assert GatePick.read(values[0]) == GatePick("product-0")  # …a short one can


@pytest.mark.parametrize("value", ['["a"]', "not json", '["a", 3]', '{"a": 1}', "#nope"])
def test_malformed_pick_values_are_not_trusted(value: str) -> None:
    assert MilestonePick.read(value) is None


def test_the_attach_targets_cover_release_products_gates_and_milestones() -> None:
    release = make_release(products=1, gates=1, milestones=1)

    picks = target_picks(release)

    assert picks == [
        TargetPick(),
        TargetPick("product-0"),
        TargetPick("product-0", "Gate 0"),
        TargetPick("product-0", "Gate 0", "m0-0-0"),
    ]
    data = rendered(attach_modal(release, META))
    [target] = [b for b in data["blocks"] if b.get("block_id") == "target"]
    assert target["element"]["initial_option"]["value"] == TargetPick().value()


def test_user_text_in_mrkdwn_is_escaped() -> None:
    release = make_release(name="<!channel> & <@U123>")

    for build in BUILDERS.values():
        text = str(build(release).to_dict())
        assert "<!channel>" not in text and "<@U123>" not in text


def test_modals_with_nothing_to_pick_say_what_to_do_first() -> None:
    empty = make_release(products=0)
    empty.runbooks = []

    for view in (
        gate_modal(empty, META),
        milestone_modal(empty, META, TZ),
        task_modal(empty, META, TZ),
    ):
        data = rendered(view)
        assert "submit" not in data
        assert "/release" in data["blocks"][0]["text"]["text"]
    bare_catalog = [Application(application_id="payments", application_name="Payments")]
    assert "submit" not in rendered(add_product_modal(empty, bare_catalog, [], META))


def test_milestone_options_show_times_in_the_viewers_zone() -> None:
    data = rendered(milestone_modal(make_release(products=1, gates=1, milestones=1), META, TZ))

    texts = [o["text"]["text"] for o in options_of(data, "milestone")]
    assert texts == ["➕ New milestone", "m0-0-0 · 01 Dec 10:00 → 02 Dec 10:00 · pending"]


def test_the_change_form_is_prefilled_and_refuses_what_it_cannot_hold() -> None:
    release = make_release()
    data = rendered(change_modal(release, META))
    [ctasks] = [b for b in data["blocks"] if b.get("block_id") == "ctasks"]
    assert ctasks["element"]["initial_value"] == "CHG001-T1 | Deploy | verify | TODO"

    assert release.chg is not None
    release.chg.ctasks = [CTask(ctask_id=f"CHG001-T{n}", description="d" * 60) for n in range(60)]
    crowded = rendered(change_modal(release, META))
    assert "submit" not in crowded and "too many CTASKs" in str(crowded["blocks"])


def test_loading_and_notice_views_only_inform() -> None:
    for view in (
        loading_view("Quality gate", CallbackId.GATE, "REL-<!here>"),
        notice_view("Quality gate", CallbackId.GATE, "Nothing here"),
    ):
        data = rendered(view)
        assert "submit" not in data and data["close"]["text"] == "Close"
    assert "&lt;!here&gt;" in str(loading_view("Gate", CallbackId.GATE, "REL-<!here>").to_dict())


def test_notices_carry_no_metadata_and_admin_forms_share_the_inputs() -> None:
    notice = rendered(notice_modal("Cannot reject", ":warning: Already decided"))
    assert "private_metadata" not in notice and "callback_id" not in notice
    assert notice == rendered(notice_view("Cannot reject", None, ":warning: Already decided"))

    role = rendered(role_modal(AdminForm(channel_id="C1")))
    [name] = [b for b in role["blocks"] if b.get("block_id") == "role_name"]
    assert name["element"] == {
        "type": "plain_text_input",
        "action_id": "role_name",
        "multiline": False,
        "placeholder": {"type": "plain_text", "text": "Release Manager", "emoji": True},
    }
    assert (role["submit"]["text"], role["close"]["text"]) == ("Create", "Cancel")


def test_plain_text_drops_marks_and_decodes_what_esc_encoded() -> None:
    mrkdwn = f":warning: *Taken* — `{esc('<!here> & co')}` said no"

    assert plain(mrkdwn) == "Taken — <!here> & co said no"
    assert plain(mrkdwn, escaped=True) == "Taken — &lt;!here&gt; &amp; co said no"
    assert plain(esc("&lt;")) == "&lt;"  # decoded once, as escaped once


def test_metadata_carries_the_release_version_a_form_was_opened_on() -> None:
    meta = EditingMetadata(release="REL-2026.12", version=7)
    assert EditingMetadata.decode(meta.encode()).version == 7
    assert EditingMetadata.decode('{"release": "REL-2026.12"}').version is None


def test_metadata_refuses_more_than_slack_keeps() -> None:
    with pytest.raises(ValueError, match="3000"):
        EditingMetadata(release="x" * 3100).encode()


def test_confirmations_render_and_escape() -> None:
    release = make_release(name="<!channel>")
    release.products[0].quality_gates[0].comment = "<@U1> said so"
    attachment = Attachment(
        file_name="<b>.pdf",
        file_size=1234,
        file_url="https://files.example.com/a?b=1&c=2",
        sha256="a" * 64,
        uploaded_by="u1",
        uploaded_at=T0,
    )
    messages = [
        confirmations.release_created(release),
        confirmations.product_added(release, "product-0"),
        confirmations.fixed_version_set(release, "product-0"),
        confirmations.gate_added(release, "product-0", "Gate 0"),
        confirmations.gate_changed(release, "product-0", "Gate 0"),
        confirmations.milestone_saved(release, "product-0", "Gate 0", "m0-0-0", TZ, added=True),
        confirmations.runbook_added(release, "Cutover"),
        confirmations.task_updated(release, release.runbooks[0].runbook_id, "Step 1", TZ),
        confirmations.change_saved(release, created=False),
        confirmations.attachment_linked(release, attachment, "the release"),
    ]

    for message in messages:
        blocks = str(message.to_dict()["blocks"])
        assert "<!channel>" not in blocks and "<@U1>" not in blocks and "<b>" not in blocks
    assert "Approval pending" in str(messages[5].to_dict())
    assert "a?b=1&amp;c=2|&lt;b&gt;.pdf>" in str(messages[-1].to_dict())
