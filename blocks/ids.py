"""Every action_id, block_id and callback_id the bot uses, in one place."""

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
