"""Every index of SPEC §2, created idempotently at start-up."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

from storage.engine import Database

INDEXES: dict[str, list[IndexModel]] = {
    "roles": [IndexModel([("role_name", ASCENDING)], unique=True, name="uniq_role_name")],
    "users": [
        IndexModel([("username", ASCENDING)], unique=True, name="uniq_username"),
        IndexModel([("email", ASCENDING)], unique=True, name="uniq_email"),
        IndexModel(
            [("slack.team_id", ASCENDING), ("slack.user_id", ASCENDING)],
            unique=True,
            name="uniq_slack_identity",
            partialFilterExpression={"slack.user_id": {"$exists": True}},
        ),
        IndexModel([("role_ids", ASCENDING)], name="by_role"),
    ],
    "applications": [
        IndexModel([("application_id", ASCENDING)], unique=True, name="uniq_application_id")
    ],
    "squads": [IndexModel([("squad_id", ASCENDING)], unique=True, name="uniq_squad_id")],
    "jiraboards": [IndexModel([("board_id", ASCENDING)], unique=True, name="uniq_board_id")],
    "releases": [
        IndexModel([("release_id", ASCENDING)], unique=True, name="uniq_release_id"),
        IndexModel([("release_date", DESCENDING), ("_id", DESCENDING)], name="by_release_date"),
        IndexModel(
            [("squad_ids", ASCENDING), ("release_date", DESCENDING), ("_id", DESCENDING)],
            name="by_squad_release_date",
        ),
        IndexModel(
            [("products.quality_gates.milestones.approval.status", ASCENDING)],
            name="by_approval_status",
        ),
    ],
    "attachments": [IndexModel([("sha256", ASCENDING)], unique=True, name="uniq_sha256")],
    "approval_messages": [IndexModel([("approval_key", ASCENDING)], name="by_approval")],
    "claims": [
        IndexModel([("key", ASCENDING)], unique=True, name="uniq_claim_key"),
        IndexModel([("expires_at", ASCENDING)], name="by_expiry"),
    ],
    "digest_subscriptions": [IndexModel([("target", ASCENDING)], unique=True, name="uniq_target")],
    "snoozes": [
        IndexModel(
            [("user_id", ASCENDING), ("approval_key", ASCENDING)], unique=True, name="uniq_snooze"
        ),
        IndexModel([("until", ASCENDING)], name="by_until"),
    ],
    "events": [
        IndexModel([("release_oid", ASCENDING), ("at", DESCENDING)], name="by_release_time")
    ],
}


async def ensure_indexes(db: Database) -> None:
    """Create the indexes that are missing, by name.

    MongoDB treats re-creating an identical index as a no-op; mongomock instead re-checks a
    unique index against the stored data, ignoring its partial filter. Skipping existing
    names behaves the same on both.
    """
    for collection, models in INDEXES.items():
        existing = set(await db[collection].index_information())
        missing = [m for m in models if m.document["name"] not in existing]
        if missing:
            await db[collection].create_indexes(missing)
