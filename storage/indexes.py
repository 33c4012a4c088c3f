"""Every index of SPEC §2, created idempotently at start-up."""

from __future__ import annotations

import logging

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from storage.codec import FOLDED_KEYS, folded, folded_field
from storage.engine import Database

log = logging.getLogger(__name__)

# Keys matched ignoring case, by collection.
FOLDED: dict[str, str] = dict(FOLDED_KEYS.values())


def _unique_folded(collection: str) -> IndexModel:
    """Unique ignoring case. Sparse: a document stored before keys were folded, whose key
    differs only in case from another one's, keeps no folded key (see ``backfill_folded``)."""
    field = folded_field(FOLDED[collection])
    return IndexModel([(field, ASCENDING)], unique=True, sparse=True, name=f"uniq_{field}")


INDEXES: dict[str, list[IndexModel]] = {
    "roles": [
        IndexModel([("role_name", ASCENDING)], unique=True, name="uniq_role_name"),
        _unique_folded("roles"),
    ],
    "users": [
        IndexModel([("username", ASCENDING)], unique=True, name="uniq_username"),
        _unique_folded("users"),
        IndexModel([("email", ASCENDING)], unique=True, name="uniq_email"),
        IndexModel(
            [("slack.team_id", ASCENDING), ("slack.user_id", ASCENDING)],
            unique=True,
            name="uniq_slack_identity",
            partialFilterExpression={"slack.user_id": {"$exists": True}},
        ),
        IndexModel([("role_ids", ASCENDING)], name="by_role"),
        # Only users with undelivered outbox entries are in it (sparse, multikey).
        IndexModel([("outbox.id", ASCENDING)], sparse=True, name="pending_outbox"),
    ],
    "applications": [
        IndexModel([("application_id", ASCENDING)], unique=True, name="uniq_application_id")
    ],
    "squads": [IndexModel([("squad_id", ASCENDING)], unique=True, name="uniq_squad_id")],
    "jiraboards": [IndexModel([("board_id", ASCENDING)], unique=True, name="uniq_board_id")],
    "releases": [
        IndexModel([("release_id", ASCENDING)], unique=True, name="uniq_release_id"),
        _unique_folded("releases"),
        IndexModel([("release_date", DESCENDING), ("_id", DESCENDING)], name="by_release_date"),
        IndexModel(
            [("squad_ids", ASCENDING), ("release_date", DESCENDING), ("_id", DESCENDING)],
            name="by_squad_release_date",
        ),
        IndexModel(
            [("products.quality_gates.milestones.approval.status", ASCENDING)],
            name="by_approval_status",
        ),
        # Only releases with undelivered outbox entries are in it (sparse, multikey).
        IndexModel([("outbox.id", ASCENDING)], sparse=True, name="pending_outbox"),
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
    """Create the indexes that are missing, by name, after folding the keys of documents
    stored without a folded key (so a unique folded index can be built over them).

    MongoDB treats re-creating an identical index as a no-op; mongomock instead re-checks a
    unique index against the stored data, ignoring its partial filter. Skipping existing
    names behaves the same on both.
    """
    await backfill_folded(db)
    for collection, models in INDEXES.items():
        existing = set(await db[collection].index_information())
        missing = [m for m in models if m.document["name"] not in existing]
        if missing:
            await db[collection].create_indexes(missing)


async def backfill_folded(db: Database) -> int:
    """Give every document without ``<key>_folded`` its folded key; returns how many.

    Documents written through the repositories have it; older ones (and ones written raw)
    are folded here at start-up, oldest first. One whose folded key another document already
    holds (``REL-1`` and ``rel-1`` both stored before folding) is left without one and
    logged: it stays reachable by its exact key, and the unique index (sparse) skips it.
    Idempotent, and safe with several replicas starting at once (each writes the same value).
    """
    changed = 0
    for collection, key in FOLDED.items():
        field = folded_field(key)
        missing = (
            await db[collection]
            .find({field: {"$exists": False}}, {key: 1})
            .sort("_id", 1)
            .to_list(length=None)
        )
        if not missing:
            continue
        taken = {str(v) for v in await db[collection].distinct(field)}
        for doc in missing:
            value = doc.get(key)
            if not isinstance(value, str):
                continue
            if folded(value) in taken:
                log.warning(
                    "%s %r differs only in case from another; it is found by its exact %s only",
                    collection,
                    value,
                    key,
                )
                continue
            try:
                await db[collection].update_one(
                    {"_id": doc["_id"]}, {"$set": {field: folded(value)}}
                )
            except DuplicateKeyError:  # folded meanwhile by another writer
                continue
            taken.add(folded(value))
            changed += 1
    return changed
