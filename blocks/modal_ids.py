"""Block ids of the release-editing modals (callback ids are in blocks/ids.py).

Each input block's action_id is its block_id. Where a block holds one field of a core
model, its id is that field's name, so a core error's ``fields`` lands on the right block.
"""

from enum import StrEnum


class EditField(StrEnum):
    # new release
    RELEASE_ID = "release_id"
    RELEASE_NAME = "release_name"
    RELEASE_DATE = "release_date"
    RELEASE_TYPE = "release_type"
    SQUADS = "squad_ids"
    APPLICATIONS = "scope_application_ids"
    DESCRIPTION = "description"
    # product
    PRODUCT = "product"
    PRODUCT_SQUADS = "participating_squad_ids"
    VERSION_KEY = "version_key"
    VERSION_NAME = "version_name"
    VERSION_STATUS = "version_status"
    # gate
    GATE = "gate"
    GATE_NAME = "gate_name"
    GATE_STATUS = "gate_status"
    COMMENT = "comment"
    ORDER = "order"
    REQUIRED = "required"
    OWNER = "owner_id"
    # milestone
    MILESTONE = "milestone"
    MILESTONE_KEY = "milestone_key"
    MILESTONE_NAME = "milestone_name"
    ENVIRONMENT = "environment"
    START = "start_date"
    END = "end_date"
    STATUS = "status"
    APPROVAL = "approval"
    # runbook and task
    RUNBOOK_NAME = "runbook_name"
    TASKS = "tasks"
    TASK = "task"
    SCHEDULED_START = "scheduled_start"
    SCHEDULED_END = "scheduled_end"
    DURATION = "duration_minutes"
    # change ticket
    CHANGE_ID = "change_id"
    CHANGE_TYPE = "change_type"
    AFFECTED_CI = "affected_ci"
    BP_SIGNOFF = "bp_signoff"
    CTASKS = "ctasks"
    # attachment
    FILE_NAME = "file_name"
    FILE_URL = "file_url"
    SHA256 = "sha256"
    FILE_SIZE = "file_size"
    FILE_TYPE = "file_type"
    LABEL = "label"
    TAGS = "tags"
    TARGET = "target"


class Approval(StrEnum):
    """The milestone modal's approval choice: (required, requires_approval_manager)."""

    NONE = "none"
    REQUIRED = "required"
    MANAGER = "manager"

    @property
    def settings(self) -> tuple[bool, bool]:
        return {
            Approval.NONE: (False, False),
            Approval.REQUIRED: (True, False),
            Approval.MANAGER: (True, True),
        }[self]


BP_SIGNED_OFF = "signed_off"
