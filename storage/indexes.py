"""Every index of SPEC §2, created idempotently at start-up."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from core.models.release import Release
from storage.codec import (
    DERIVED,
    DERIVED_VERSION,
    FOLDED_KEYS,
    SEARCH_KEYS,
    derived_fields,
    folded,
    folded_field,
    from_document,
)
from storage.engine import Database

log = logging.getLogger(__name__)

# Keys matched ignoring case, by collection.
FOLDED: dict[str, str] = dict(FOLDED_KEYS.values())
RELEASES = FOLDED_KEYS[Release][0]  # the collection whose documents store derived fields
BACKFILL_BATCH = 500  # releases read whole at once to rebuild their derived fields


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
        # Who stands in for whom (delegation): only users away are in it.
        IndexModel(
            [("delegation.delegate_user_id", ASCENDING), ("delegation.until", ASCENDING)],
            sparse=True,
            name="by_delegate",
        ),
        IndexModel([("delegation.until", ASCENDING)], sparse=True, name="away"),
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
        # Approvals that may have run out (the scheduler's expiry): only policies that expire.
        IndexModel(
            [("products.quality_gates.milestones.approval.expires_at", ASCENDING)],
            sparse=True,
            name="by_approval_expiry",
        ),
        # Multikey: a search is an anchored prefix of one of them (core/rules/search.py).
        IndexModel([(SEARCH_KEYS, ASCENDING)], name="by_search_key"),
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
        IndexModel([("release_oid", ASCENDING), ("at", DESCENDING)], name="by_release_time"),
        # The audit export: each release's chain in order (core/rules/audit.py).
        IndexModel(
            [("release_oid", ASCENDING), ("seq", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)],
            name="by_release_chain",
        ),
    ],
    "api_tokens": [IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="by_user")],
    "login_attempts": [
        IndexModel([("key", ASCENDING)], unique=True, name="uniq_attempt_key"),
        # The database forgets a count once it is over (see login_attempts.py).
        IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0, name="purge_attempts"),
    ],
    # Keyed by _id (one claim per key); forgotten a day after use (idempotency.py).
    "idempotency_keys": [
        IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0, name="purge_keys")
    ],
    "webhooks": [IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="by_user")],
    "webhook_deliveries": [
        IndexModel([("key", ASCENDING)], unique=True, name="uniq_delivery_key"),
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="by_due"),
        IndexModel([("hook_id", ASCENDING), ("_id", DESCENDING)], name="by_hook"),
    ],
    # The open windows: not ended by hand, not over yet (``FreezeRepository.list_open``).
    "freezes": [
        IndexModel([("ended_at", ASCENDING), ("ends_at", ASCENDING)], name="by_open"),
    ],
    "invitations": [
        # An open invitation by email (on first contact); the retention job's purge.
        IndexModel(
            [("email", ASCENDING), ("state", ASCENDING), ("expires_at", ASCENDING)],
            name="by_email_open",
        ),
        IndexModel([("state", ASCENDING), ("expires_at", ASCENDING)], name="by_state_expiry"),
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
    """Give every document without ``<key>_folded`` its folded key, and every release whose
    derived fields (search keys, readiness summary: ``storage.codec``) are missing or were
    built by another version of their rules new ones; returns how many documents changed.

    Documents written through the repositories have them; older ones (and ones written raw)
    are completed here at start-up, oldest first, found by one query per collection (then
    read whole, ``BACKFILL_BATCH`` at a time, when their derived fields are rebuilt). One
    whose folded key another document already holds (``REL-1`` and ``rel-1`` both stored
    before folding) is left without one and logged: it stays reachable by its exact key, and
    the unique index (sparse) skips it. A release is rebuilt only if it is still the version
    read (a save meanwhile stored its own). Idempotent, and safe with several replicas
    starting at once (each writes the same value).
    """
    changed = 0
    for collection, key in FOLDED.items():
        field = folded_field(key)
        derives = collection == RELEASES
        missing: dict[str, Any] = {field: {"$exists": False}}
        query = {"$or": [missing, {DERIVED: {"$ne": DERIVED_VERSION}}]} if derives else missing
        found = (
            await db[collection]
            .find(query, {key: 1, field: 1, DERIVED: 1})
            .sort("_id", 1)
            .to_list(length=None)
        )
        taken: set[str] | None = None
        for at in range(0, len(found), BACKFILL_BATCH):
            batch = found[at : at + BACKFILL_BATCH]
            stale = [d["_id"] for d in batch if derives and d.get(DERIVED) != DERIVED_VERSION]
            whole = await _whole(db, collection, stale)
            for doc in batch:
                changes: dict[str, Any] = {}
                if field not in doc:
                    if taken is None:
                        taken = {str(v) for v in await db[collection].distinct(field)}
                    value = _free_fold(collection, key, doc.get(key), taken)
                    if value is not None:
                        changes[field] = value
                where = {"_id": doc["_id"]}
                release = whole.get(doc["_id"])
                if release is not None:
                    changes.update(_derived(release))
                    where["version"] = release.get("version")
                if changes and await _complete(db, collection, where, changes, field):
                    changed += 1
                    if taken is not None and field in changes:
                        taken.add(changes[field])
    return changed


async def _whole(db: Database, collection: str, ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """These documents, whole, by id (what their derived fields are built from)."""
    if not ids:
        return {}
    found = await db[collection].find({"_id": {"$in": ids}}).to_list(length=None)
    return {d["_id"]: d for d in found}


def _free_fold(collection: str, key: str, value: object, taken: set[str]) -> str | None:
    """The folded key, unless another document holds it already (then logged)."""
    if not isinstance(value, str):
        return None
    if folded(value) in taken:
        log.warning(
            "%s %r differs only in case from another; it is found by its exact %s only",
            collection,
            value,
            key,
        )
        return None
    return folded(value)


def _derived(doc: dict[str, Any]) -> dict[str, Any]:
    try:
        return derived_fields(from_document(Release, doc))
    except ValidationError as error:
        log.warning(
            "release %r is not readable (%s errors); it keeps no search keys or summary",
            doc.get("release_id"),
            error.error_count(),
        )
        return {}


async def _complete(
    db: Database, collection: str, where: dict[str, Any], changes: dict[str, Any], field: str
) -> bool:
    """Set ``changes``; without the folded key when another writer folded it meanwhile."""
    try:
        result = await db[collection].update_one(where, {"$set": changes})
    except DuplicateKeyError:
        changes.pop(field, None)
        if not changes:
            return False
        result = await db[collection].update_one(where, {"$set": changes})
    return result.modified_count > 0
