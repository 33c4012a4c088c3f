"""Who may do what, one rule per operation (SPEC §3, rule 5).

The service that performs an operation and the command that opens its form check the same
rule, so a form is refused before it opens exactly when saving it would be refused. Each
check reads only the actor (already resolved from storage for the request): it is fast
enough to run before a modal's trigger_id expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import PermissionDenied
from core.models.rbac import Permission
from core.rules.permissions import Actor


@dataclass(frozen=True)
class Operation:
    """Something a person does, and the role flag it needs."""

    permission: Permission
    action: str  # completes "You need … to <action>"

    def allows(self, actor: Actor) -> bool:
        return actor.is_active and actor.has(self.permission)

    def require(self, actor: Actor) -> None:
        """Raise PERMISSION_DENIED (an inactive account is told so first)."""
        actor.require(self.permission, self.action)


def require_any(actor: Actor, operations: Sequence[Operation]) -> None:
    """Refuse unless the actor may do at least one of ``operations``: a form that offers
    several (add a product, or set its fixed version) opens for anyone who may save it one
    way; each save is checked again by its own operation."""
    actor.require_active()
    if not operations or any(op.allows(actor) for op in operations):
        return
    needed: dict[Permission, str] = {}
    for op in operations:
        needed.setdefault(op.permission, op.action)
    if len(needed) == 1:
        operations[0].require(actor)
    ways = [f"the '{flag.value}' permission to {action}" for flag, action in needed.items()]
    raise PermissionDenied(
        f"You need {', or '.join(ways)}. Ask an admin to grant you a role that has it."
    )


# Releases
CREATE_RELEASE = Operation(Permission.CAN_CREATE_RELEASE, "create a release")
ADD_PRODUCT = Operation(Permission.CAN_CREATE_RELEASE, "add a product to a release")
SET_FIXED_VERSION = Operation(Permission.CAN_DEFINE_FIXED_VERSIONS, "define a fixed version")
EDIT_DESCRIPTION = Operation(
    Permission.CAN_EDIT_RELEASE_DESCRIPTION, "edit a release's description"
)
# Archiving hides a release from everyone's lists: an admin's call (SPEC §1: the role
# flag that marks admins), and so is bringing one back.
ARCHIVE_RELEASE = Operation(Permission.CAN_MANAGE_ROLES, "archive a release")
RESTORE_RELEASE = Operation(Permission.CAN_MANAGE_ROLES, "restore an archived release")
# Quality gates and milestones
ADD_GATE = Operation(Permission.CAN_MANAGE_QUALITY_GATES, "add a quality gate")
CHANGE_GATE = Operation(Permission.CAN_MANAGE_QUALITY_GATES, "change a quality gate")
WAIVE_GATE = Operation(Permission.IS_APPROVAL_MANAGER, "waive a quality gate")
ADD_MILESTONE = Operation(Permission.CAN_MANAGE_QUALITY_GATES, "add a milestone")
CHANGE_MILESTONE = Operation(Permission.CAN_MANAGE_QUALITY_GATES, "change a milestone")
# Runbooks, tasks and the change ticket
ADD_RUNBOOK = Operation(Permission.CAN_MANAGE_RUNBOOKS, "add a runbook")
UPDATE_TASK = Operation(Permission.CAN_MANAGE_RUNBOOKS, "update a runbook task")
MANAGE_CHANGE = Operation(Permission.CAN_MANAGE_RUNBOOKS, "manage the change ticket")
# Attachments
ATTACH_FILE = Operation(Permission.CAN_UPLOAD_ATTACHMENTS, "attach a file")
# Roles, users and the catalog. Keeping the catalog is an admin's job (SPEC §1); the
# role-management flag marks admins.
CREATE_ROLE = Operation(Permission.CAN_MANAGE_ROLES, "create a role")
ADD_USER = Operation(Permission.CAN_INVITE_USERS, "add a user")
CATALOG_PERMISSION = Permission.CAN_MANAGE_ROLES
ADD_APPLICATION = Operation(CATALOG_PERMISSION, "add an application to the catalog")
ADD_SQUAD = Operation(CATALOG_PERMISSION, "add a squad to the catalog")
ADD_BOARD = Operation(CATALOG_PERMISSION, "add a Jira board to the catalog")
# In Slack, under `/release admin`; anyone signed in to the API makes their own there.
MANAGE_API_TOKENS = Operation(Permission.CAN_MANAGE_ROLES, "make or revoke API tokens in Slack")
# Digests
SUBSCRIBE_CHANNEL = Operation(
    Permission.CAN_CREATE_RELEASE, "subscribe a channel to the daily digest"
)
EXPORT_AUDIT = Operation(Permission.CAN_VIEW_AUDIT, "export the audit trail")
