"""The embedded engine's indexes (storage/embedded_index.py) only ever narrow what mongomock
looks at: after any mix of writes, every query and aggregate answers exactly as mongomock's
own scan does — the same documents, in the same order — and unique keys are still enforced.
``$unionWith``, which mongomock lacks, is added (and kept when the indexes are not)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from storage import embedded_index

NEWEST_FIRST = [("date", -1), ("_id", -1)]
KEYS = [f"k{n}" for n in range(12)]
TAGS = ["a", "b", "c", "d"]
SQUADS = ["cards", "payments", "core"]
STATUSES = ["PENDING", "APPROVED", "NOT_REQUIRED"]


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Indexes from the first document on (a real one keeps them from ``SMALL`` on)."""
    monkeypatch.setattr(embedded_index, "SMALL", 0)
    embedded_index.enable()
    yield
    embedded_index.enable()  # what the rest of the suite runs on


def collection() -> Any:
    coll: Any = mongomock.MongoClient(tz_aware=True)["db"]["things"]
    coll.create_index([("k", 1)], unique=True)
    coll.create_index([("tags", 1)])
    coll.create_index([("date", -1), ("_id", -1)])
    coll.create_index([("squads", 1), ("date", -1), ("_id", -1)])
    coll.create_index([("gates.milestones.status", 1)])
    coll.create_index([("outbox.id", 1)], sparse=True)
    coll.create_index([("n", 1)])
    coll.create_index(
        [("slack.team", 1), ("slack.user", 1)],
        unique=True,
        partialFilterExpression={"slack.user": {"$exists": True}},
    )
    return coll


def document(rng: random.Random) -> dict[str, Any]:
    day = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(2000))
    doc: dict[str, Any] = {
        "k": rng.choice(KEYS) + rng.choice(["", "x", "y"]),
        "tags": rng.sample(TAGS, rng.randrange(len(TAGS))),
        "date": day,
        "squads": rng.sample(SQUADS, rng.randrange(1, len(SQUADS))),
        "gates": [
            {"milestones": [{"status": rng.choice(STATUSES)} for _ in range(rng.randrange(3))]}
            for _ in range(rng.randrange(3))
        ],
    }
    if rng.random() < 0.3:
        doc["outbox"] = [{"id": str(ObjectId())}]
    if rng.random() < 0.8:  # numbers, booleans (True == 1 to mongomock), nothing, NaN
        doc["n"] = rng.choice([0, 1, 2, 1.0, 2.5, True, False, None, float("nan"), [1, 3]])
    if rng.random() < 0.5:
        doc["slack"] = {"team": "T1", "user": f"U{rng.randrange(8)}"}
    return doc


def write(coll: Any, rng: random.Random) -> None:
    """One random write; duplicates are refused as MongoDB would."""
    key = {"k": rng.choice(KEYS)}
    change = rng.choice(
        [
            {"$set": {"k": rng.choice(KEYS) + "z"}},
            {"$addToSet": {"tags": rng.choice(TAGS)}},
            {"$pull": {"tags": rng.choice(TAGS)}},
            {"$set": {"date": datetime(2021, 6, 1, tzinfo=UTC)}},
            {"$set": {"gates": [{"milestones": [{"status": "PENDING"}]}]}},
            {"$unset": {"outbox": ""}},
            {"$set": {"slack": {"team": "T1", "user": f"U{rng.randrange(8)}"}}},
        ]
    )
    try:
        match rng.randrange(7):
            case 0 | 1:
                coll.insert_one(document(rng))
            case 2:
                coll.update_one(key, change)
            case 3:
                coll.replace_one(key, document(rng))
            case 4:
                coll.delete_one(key)
            case 5:
                coll.find_one_and_update(key, change, return_document=ReturnDocument.AFTER)
            case _:
                coll.update_many(
                    {"tags": rng.choice(TAGS)}, {"$set": {"date": datetime(2022, 1, 1, tzinfo=UTC)}}
                )
    except DuplicateKeyError:
        pass


def queries(rng: random.Random) -> list[dict[str, Any]]:
    k1, k2 = rng.choice(KEYS), rng.choice(KEYS) + "z"
    return [
        {},
        {"k": k1},
        {"$or": [{"k": k1}, {"k": k2}, {"_id": ObjectId()}]},
        {"tags": rng.choice(TAGS)},
        {"tags": {"$in": rng.sample(TAGS, 2)}},
        {"$and": [{"squads": {"$in": [rng.choice(SQUADS)]}}, {"tags": rng.choice(TAGS)}]},
        {"squads": {"$in": [rng.choice(SQUADS)]}},
        {"gates.milestones.status": "PENDING"},
        {"outbox.id": {"$exists": True}},
        {"slack.team": "T1", "slack.user": f"U{rng.randrange(8)}"},
        {"date": {"$gte": datetime(2022, 1, 1, tzinfo=UTC)}},
        {
            "date": {
                "$gt": datetime(2020, 6, 1, tzinfo=UTC),
                "$lte": datetime(2021, 6, 1, tzinfo=UTC),
            }
        },
        {"k": {"$gte": rng.choice(KEYS), "$lt": rng.choice(KEYS) + "z"}},
        {"tags": {"$gt": "a", "$lte": "c"}},  # multikey: each bound may be another element
        {"k": {"$lt": 5}},  # another kind than the field's: matches nothing
        {"n": rng.choice([0, 1, 2.5, True, False])},
        {"n": {"$in": [1, False]}},
        {"n": {"$gt": 0, "$lte": 2}},
        {"n": None},
        # Anchored literal prefixes (served), and other regexes (the scan answers them).
        {"k": {"$regex": f"^{rng.choice(KEYS)}"}},
        {"k": {"$regex": "^k1", "$options": ""}},
        {"k": {"$regex": "^"}},
        {"tags": {"$regex": f"^{rng.choice(TAGS)}"}},  # multikey: each element on its own
        {"slack.user": {"$regex": "^U\\-?"}},
        {"k": {"$regex": "^K1", "$options": "i"}},
        {"k": {"$regex": "1"}},
        {"k": {"$regex": "^k\\d"}},
        {"k": {"$regex": "^k1x?"}},
        {"n": {"$regex": "^1"}},  # numbers never match a regex
        {"$or": [{"k": {"$regex": "^k2"}}, {"tags": "a"}]},
        {"$and": [{"squads": {"$in": ["core"]}}, {"k": {"$regex": "^k1"}}]},
    ]


def answers(coll: Any, rng: random.Random) -> list[Any]:
    found: list[Any] = []
    asked = queries(rng)
    for query in asked:
        found.append([d["_id"] for d in coll.find(query)])
        found.append([d["_id"] for d in coll.find(query).sort(NEWEST_FIRST).limit(7)])
        found.append([d["_id"] for d in coll.find(query).sort(NEWEST_FIRST).skip(3).limit(4)])
        found.append(coll.find_one(query, sort=[("k", 1)]))
        found.append(coll.count_documents(query))
    for query in rng.sample(asked, 3):  # mongomock's aggregate is slow: a few each time
        found += [list(coll.aggregate(pipeline)) for pipeline in pipelines(query, rng)]
    return found


def pipelines(query: dict[str, Any], rng: random.Random) -> list[list[dict[str, Any]]]:
    """Aggregates whose leading $match, $sort, $skip, $limit and $project are served as a
    find (or, out of that order or not plain, are not), and unions (as
    ``ReleaseRepository.home``)."""
    newest = dict(NEWEST_FIRST)
    other = {"squads": {"$in": [rng.choice(SQUADS)]}}
    page = [{"$match": other}, {"$sort": newest}, {"$limit": 5}, {"$project": {"k": 1}}]
    return [
        [{"$match": query}, {"$project": {"slack.user": 1, "n": True}}],
        [{"$match": query}, {"$sort": newest}, {"$skip": 3}, {"$limit": 4}, {"$project": {"k": 1}}],
        [{"$sort": newest}, {"$limit": 6}, {"$skip": 2}],  # a limit before a skip
        [{"$match": query}, {"$limit": 2}, {"$sort": {"k": 1}}, {"$match": {"tags": "a"}}],
        [{"$match": query}, {"$sort": {"n": 1, "_id": -1}}, {"$skip": False}, {"$limit": 3}],
        [
            {"$match": query},
            {"$set": {"part": "first"}},
            {"$unionWith": {"coll": "things", "pipeline": [*page, {"$set": {"part": "page"}}]}},
        ],
        [{"$match": query}, {"$limit": 1}, {"$project": {"k": 0}}, {"$unionWith": "things"}],
    ]


@pytest.mark.parametrize("seed", range(12))
def test_indexed_answers_are_the_scans_answers(indexed: None, seed: int) -> None:
    rng = random.Random(seed)
    coll = collection()
    for step in range(160):
        write(coll, rng)
        if step % 8:
            continue
        state = rng.getstate()
        with_indexes = answers(coll, rng)
        rng.setstate(state)
        embedded_index.disable()
        try:
            scanned = answers(coll, rng)
        finally:
            embedded_index.enable()
        assert with_indexes == scanned, f"seed {seed}, step {step}"


def test_unique_keys_are_still_enforced_on_insert_and_update(indexed: None) -> None:
    coll = collection()
    coll.insert_one({"k": "one", "slack": {"team": "T1", "user": "U1"}})
    coll.insert_one({"k": "two"})

    with pytest.raises(DuplicateKeyError):
        coll.insert_one({"k": "one"})
    with pytest.raises(DuplicateKeyError):
        coll.update_one({"k": "two"}, {"$set": {"k": "one"}})
    with pytest.raises(DuplicateKeyError):
        coll.update_one({"k": "two"}, {"$set": {"slack": {"team": "T1", "user": "U1"}}})

    assert sorted(d["k"] for d in coll.find({})) == ["one", "two"]
    assert coll.find_one({"k": "two"}).get("slack") is None


@pytest.mark.parametrize(
    ("pattern", "options", "prefix"),
    [
        ("^abc", "", "abc"),
        ("^", "", ""),
        ("^rel\\-2026\\.11", "", "rel-2026.11"),  # what re.escape writes
        ("^payments\\ rewrite", "", "payments rewrite"),
        ("^\\{\\$ne:", "", "{$ne:"),
        ("^{$ne:", "", None),  # unescaped: a quantifier's brace, an end anchor
        ("^straße", "", "straße"),
        ("abc", "", None),  # not anchored
        ("^abc", "i", None),  # ignoring case: no index range serves it
        ("^abc", "m", None),
        ("^ab.c", "", None),
        ("^abc?", "", None),
        ("^abc$", "", None),
        ("^a|b", "", None),
        ("^a\\d", "", None),
        ("^a\\_", "", None),
        ("^a\\", "", None),
    ],
)
def test_only_an_anchored_literal_is_served_as_a_prefix(
    pattern: str, options: str, prefix: str | None
) -> None:
    assert embedded_index._literal_prefix(pattern, options) == prefix


def test_a_prefix_search_looks_at_its_matches_not_the_collection(
    indexed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    coll = collection()
    coll.create_index([("words", 1)])
    coll.insert_many(
        [
            {"k": f"key-{n}", "words": [f"w{n % 500}"] + ["common"] * (n % 10 == 3), "date": n}
            for n in range(5000)
        ]
    )
    looked_at = 0
    original: Any = mongomock.filtering.filter_applies

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal looked_at
        looked_at += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(mongomock.filtering, "filter_applies", counting)
    few = list(coll.find({"words": {"$regex": "^w42"}}).sort(NEWEST_FIRST))
    few_cost, looked_at = looked_at, 0
    page = list(coll.find({"words": {"$regex": "^comm"}}).sort(NEWEST_FIRST).limit(11))

    # w42 and w420–w429: 11 words, 10 documents each, sorted
    assert len(few) == 110 and few_cost <= 111
    # 500 documents: the newest first in the date index, the others skipped unexamined
    assert [d["date"] for d in page] == list(range(4993, 4892, -10)) and looked_at <= 12


def test_a_first_page_looks_at_the_page_not_the_collection(
    indexed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page of the newest 20 of 5,000 documents copies ~20 documents, not 5,000."""
    coll = collection()
    rng = random.Random(7)
    docs = [{**document(rng), "k": f"key-{n}"} for n in range(5000)]
    coll.insert_many([{k: v for k, v in d.items() if k != "slack"} for d in docs])
    copied = 0
    original: Any = mongomock.collection.Collection._copy_only_fields

    def counting(self: Any, doc: Any, fields: Any, container: Any) -> Any:
        nonlocal copied
        copied += 1
        return original(self, doc, fields, container)

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", counting)
    page = list(coll.find({}).sort(NEWEST_FIRST).limit(21))
    lookup = coll.find_one({"k": "key-4321"})

    assert len(page) == 21 and lookup is not None
    assert copied <= 25


def test_a_union_reads_a_page_of_each_part_not_the_collections(
    indexed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As App Home reads: the pending ones and a first page, ~30 documents copied of 5,000."""
    coll = collection()
    coll.insert_many(
        [
            {"k": f"key-{n}", "date": n, "squads": ["core"], "tags": ["a"] * (n % 500 == 7)}
            for n in range(5000)
        ]
    )
    copied = 0
    original: Any = mongomock.collection.Collection._copy_only_fields

    def counting(self: Any, doc: Any, fields: Any, container: Any) -> Any:
        nonlocal copied
        copied += 1
        return original(self, doc, fields, container)

    monkeypatch.setattr(mongomock.collection.Collection, "_copy_only_fields", counting)
    page = [{"$match": {"squads": {"$in": ["core"]}}}, {"$sort": dict(NEWEST_FIRST)}]
    found = list(
        coll.aggregate(
            [
                {"$match": {"tags": "a"}},
                {"$set": {"part": "tagged"}},
                {"$unionWith": {"coll": "things", "pipeline": [*page, {"$limit": 21}]}},
            ]
        )
    )

    assert [d["date"] for d in found if d.get("part")] == list(range(7, 5000, 500))
    assert [d["date"] for d in found if not d.get("part")] == list(range(4999, 4978, -1))
    assert copied <= 35


def test_a_union_names_its_collection() -> None:
    coll = collection()
    coll.insert_one({"k": "one"})
    coll.database["others"].insert_one({"k": "two"})

    both = coll.aggregate([{"$unionWith": {"coll": "others"}}, {"$project": {"_id": 0}}])
    with pytest.raises(OperationFailure, match="coll"):
        coll.aggregate([{"$unionWith": {"pipeline": []}}])

    assert list(both) == [{"k": "one"}, {"k": "two"}]
