"""The modals: pure builders, domain objects in, slack_sdk views out.

The release-editing modals (`/release new`, `product`, `gate`, `milestone`, `runbook`, `task`,
`change`, `attach`) are exported here; the `/release admin … new` modals live in
`blocks.modals.admin` and the reject-reason modal in `blocks.modals.reject`."""

from blocks.modals.attach import TargetPick, attach_modal, target_picks
from blocks.modals.change import change_modal
from blocks.modals.form import EditingMetadata, loading_view, notice_view
from blocks.modals.gate import GatePick, gate_modal, gate_picks
from blocks.modals.milestone import MilestonePick, milestone_modal, milestone_picks
from blocks.modals.product import ProductPick, add_product_modal, product_picks
from blocks.modals.release import new_release_modal
from blocks.modals.runbook import TaskPick, runbook_modal, task_modal, task_picks

__all__ = [
    "EditingMetadata",
    "GatePick",
    "MilestonePick",
    "ProductPick",
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
    "runbook_modal",
    "target_picks",
    "task_modal",
    "task_picks",
]
