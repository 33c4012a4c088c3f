"""Every action_id, block_id, callback_id and option value the bot uses, in one place.

Each input block's action_id is its block_id. Where a block holds one field of a core
model, its id is that field's name, so a core error's ``fields`` lands on the right block.
"""

from enum import StrEnum


class ActionId(StrEnum):
    APPROVE = "approval_approve"
    REJECT = "approval_reject"
    REFRESH_STATUS = "status_refresh"
    SHOW_HISTORY = "status_history"
    OPEN_NEW_RELEASE = "home_new_release"
    SHOW_APPROVALS = "home_approvals"
    MORE_RELEASES = "list_more"
    SNOOZE = "reminder_snooze"
    REQUEST_AGAIN = "approval_request_again"
    BREAK_GLASS = "approval_break_glass"


class CallbackId(StrEnum):
    NEW_RELEASE = "modal_new_release"
    ADD_PRODUCT = "modal_add_product"
    GATE = "modal_gate"
    MILESTONE = "modal_milestone"
    RUNBOOK = "modal_runbook"
    TASK = "modal_task"
    CHANGE = "modal_change"
    ATTACH = "modal_attach"
    REJECT = "modal_reject"
    NEW_ROLE = "modal_new_role"
    NEW_USER = "modal_new_user"
    NEW_APPLICATION = "modal_new_application"
    NEW_SQUAD = "modal_new_squad"
    NEW_BOARD = "modal_new_board"
    NEW_FREEZE = "modal_new_freeze"
    BREAK_GLASS = "modal_break_glass"


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
    BREAK_GLASS = "break_glass"  # the core's field (core.rules.freeze.BREAK_GLASS_FIELD)
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


class AdminField(StrEnum):
    """block_id and action_id (the same string) of every admin modal input."""

    ROLE_NAME = "role_name"
    DESCRIPTION = "description"
    ROLE_FLAGS = "flags"
    USERNAME = "username"
    FULL_NAME = "full_name"
    EMAIL = "email"
    USER_ROLES = "role_ids"
    USER_SQUADS = "assigned_squad_ids"
    APPLICATION_ID = "application_id"
    APPLICATION_NAME = "application_name"
    TECHNOLOGIES = "technologies"
    PRODUCTS = "products"
    SQUAD_ID = "squad_id"
    SQUAD_NAME = "squad_name"
    SQUAD_BOARDS = "squad_jira_board_ids"
    BOARD_ID = "board_id"
    BOARD_NAME = "board_name"
    BOARD_LINK = "board_link"
    BOARD_TYPE = "board_type"


class FreezeField(StrEnum):
    """block_id and action_id of the freeze window form's inputs: a date and a time each
    for its start and end (read in the zone picked), the zone and the scope."""

    NAME = "name"
    START_DATE = "starts_at"
    START_TIME = "starts_at_time"
    END_DATE = "ends_at"
    END_TIME = "ends_at_time"
    TIME_ZONE = "time_zone"
    APPLICATIONS = "application_ids"
    SQUADS = "squad_ids"


class RejectField(StrEnum):
    """block_id and action_id of the reason input (the same string for both)."""

    REASON = "reject_reason"


class BreakGlassField(StrEnum):
    """The break-glass modal's reason: the core's field name, so its errors land there."""

    REASON = "break_glass"


class Origin(StrEnum):
    """Where an Approve / Reject click came from, so that surface can be redrawn."""

    DM = "dm"
    LIST = "list"
    HOME = "home"
    OTHER = "other"
