"""The modals: pure builders, domain objects in, slack_sdk views out; and beside each
builder, its form's reader, submitted state in, core draft out.

The release-editing modals (`/release new`, `product`, `gate`, `milestone`, `runbook`, `task`,
`change`, `attach`) are exported here; the `/release admin … new` modals (and their readers)
live in `blocks.modals.admin` and the reject-reason modal in `blocks.modals.reject`."""

from blocks.modals.attach import (
    AttachmentInput,
    TargetPick,
    attach_modal,
    read_attach_form,
    target_name,
    target_picks,
)
from blocks.modals.change import change_modal, read_change_form
from blocks.modals.form import EditingMetadata, loading_view, notice_view
from blocks.modals.form_state import Form
from blocks.modals.gate import GatePick, GateUpdate, gate_modal, gate_picks, read_gate_form
from blocks.modals.milestone import (
    MilestonePick,
    MilestoneUpdate,
    milestone_modal,
    milestone_picks,
    read_milestone_form,
)
from blocks.modals.product import (
    ProductAddition,
    ProductPick,
    add_product_modal,
    product_picks,
    read_product_form,
)
from blocks.modals.release import new_release_modal, read_release_form
from blocks.modals.runbook import (
    RunbookInput,
    TaskPick,
    read_runbook_form,
    read_task_form,
    runbook_modal,
    task_modal,
    task_picks,
)

__all__ = [
    "AttachmentInput",
    "EditingMetadata",
    "Form",
    "GatePick",
    "GateUpdate",
    "MilestonePick",
    "MilestoneUpdate",
    "ProductAddition",
    "ProductPick",
    "RunbookInput",
    "TargetPick",
    "TaskPick",
    "add_product_modal",
    "attach_modal",
    "change_modal",
    "gate_modal",
    "gate_picks",
    "loading_view",
    "milestone_modal",
    "milestone_picks",
    "new_release_modal",
    "notice_view",
    "product_picks",
    "read_attach_form",
    "read_change_form",
    "read_gate_form",
    "read_milestone_form",
    "read_product_form",
    "read_release_form",
    "read_runbook_form",
    "read_task_form",
    "runbook_modal",
    "target_name",
    "target_picks",
    "task_modal",
    "task_picks",
]
