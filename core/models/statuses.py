"""The states of a release's parts, and the choices made on them."""

from __future__ import annotations

from enum import StrEnum


class GateStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    BLOCKED = "BLOCKED"
    PASSED = "PASSED"
    FAILED = "FAILED"
    WAIVED = "WAIVED"


class MilestoneStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    BLOCKED = "BLOCKED"
    DONE = "DONE"


class Environment(StrEnum):
    DEV = "dev"
    UAT = "uat"
    STAGE = "stage"
    PROD = "prod"


class ApprovalStatus(StrEnum):
    NOT_REQUIRED = "NOT_REQUIRED"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  # nobody decided within the policy's time; it can be asked again


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class TaskStatus(StrEnum):
    TODO = "TODO"
    DOING = "DOING"
    DONE = "DONE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class CTaskStatus(StrEnum):
    TODO = "TODO"
    DOING = "DOING"
    DONE = "DONE"
    FAILED = "FAILED"
    WAITING = "WAITING"


class FixedVersionStatus(StrEnum):
    UNRELEASED = "UNRELEASED"
    RELEASED = "RELEASED"
    ARCHIVED = "ARCHIVED"


class ChangeType(StrEnum):
    STANDARD = "STANDARD"
    NORMAL = "NORMAL"
    EMERGENCY = "EMERGENCY"


class ChangeStatus(StrEnum):
    NEW = "NEW"
    ASSESS = "ASSESS"
    AUTHORIZE = "AUTHORIZE"
    SCHEDULED = "SCHEDULED"
    IMPLEMENT = "IMPLEMENT"
    REVIEW = "REVIEW"
    CLOSED = "CLOSED"
    CANCELED = "CANCELED"
