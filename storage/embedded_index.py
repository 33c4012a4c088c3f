"""Indexes for the embedded engine: mongomock answers every query by scanning every
document, so a lookup by key costs O(collection) and a sorted first page copies and sorts
the whole collection. This module makes it use the indexes the storage layer declares
(``storage/indexes.py``), as MongoDB does:

- an equality (``{f: v}``, ``$eq``, ``$in``), ``$exists: true``, a range (``$gt``, ``$gte``,
  ``$lt``, ``$lte``), an anchored literal prefix (``{"$regex": "^literal"}``, no options:
  case-sensitive, as MongoDB serves it from an index), ``$and`` or ``$or`` of those on an
  indexed field narrows the documents looked at to the index's candidates;
- a sort that an index (ending in a unique field, so there are no ties) serves, walked in
  index order, stops as soon as the cursor's ``skip + limit`` documents matched;
- so does the unique-key check of every write, which mongomock runs as such a query;
- an aggregate's leading ``$match``, ``$sort``, ``$skip``, ``$limit`` and ``$project`` are
  served as that find (mongomock would first copy every document of the collection).

It also adds the ``$unionWith`` stage (MongoDB ≥ 4.4), which mongomock lacks: a stage, not
an index, so ``disable()`` keeps it.

The index only ever narrows: mongomock's own matcher still decides, on the candidates, what
matches and in which order documents come, so answers are the same as without it (a
differential test holds it to that: ``tests/test_embedded_index.py``). What it cannot serve
(other regexes or operators, sub-documents) falls back to the scan.

mongomock offers no hook for this, so ``enable()`` patches some of its methods; it is
idempotent and only called for ``mongomock://``.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from mongomock import aggregate, filtering, helpers
from mongomock.collection import Collection, Cursor
from mongomock.store import CollectionStore
from pymongo.errors import OperationFailure

Doc = dict[str, Any]
_MISSING = object()
# BSON's order of types, for the ones an ordered walk supports.
_RANK = {type(None): 1, int: 2, float: 2, str: 3, ObjectId: 7, bool: 8, datetime: 9}
_INDEXED_TYPES = (str, ObjectId, int, float, bool, datetime)
_RANGES = {"$gt": (True, False), "$gte": (True, True), "$lt": (False, False), "$lte": (False, True)}


def _values(doc: Any, path: list[str]) -> Iterator[Any]:
    """Every value at a dotted path, fanning out over arrays (as a multikey index does)."""
    if not path:
        if isinstance(doc, list):
            yield from doc
        yield doc
        return
    if isinstance(doc, list):
        for item in doc:
            yield from _values(item, path)
        return
    if isinstance(doc, dict) and path[0] in doc:
        yield from _values(doc[path[0]], path[1:])


def _naive_utc(value: Any) -> Any:
    """An aware datetime as naive UTC, as mongomock stores it; anything else as it is."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None) - (value.utcoffset() or timedelta(0))
    return value


def _sort_value(doc: Doc, field: str) -> tuple[int, Any] | None:
    """A comparable key for one field, or None when this field cannot be walked in order."""
    value: Any = doc
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part, None)
    value = _naive_utc(value)
    if isinstance(value, float) and value != value:
        return None  # NaN has no place in an order
    rank = _RANK.get(type(value))
    return None if rank is None else (rank, value)


class _Field:
    """One indexed field (any field of any declared index): who holds which value, and its
    distinct values in order (per kind) for ranges."""

    def __init__(self, path: str) -> None:
        self.path = path.split(".")
        self.equal: dict[Any, set[Any]] = {}
        self.sorted: dict[type, list[Any]] = {}
        self.present: set[Any] = set()
        self.multikey = False
        # What each document was indexed under, to take it out again: mongomock changes
        # stored documents in place, so the old values cannot be read back.
        self.indexed: dict[Any, list[Any]] = {}

    def add(self, oid: Any, doc: Doc) -> None:
        found = list(_values(doc, self.path))
        if found:
            self.present.add(oid)
        values = [_key(v) for v in found if isinstance(v, _INDEXED_TYPES) and _kind(v)]
        self.multikey = self.multikey or len(values) > 1
        for value in values:
            holders = self.equal.get(value)
            if holders is None:
                holders = self.equal[value] = set()
                kind, plain = value
                if kind is not None:
                    bisect.insort(self.sorted.setdefault(kind, []), plain)
            holders.add(oid)
        self.indexed[oid] = values

    def remove(self, oid: Any) -> None:
        for value in self.indexed.pop(oid, []):
            holders = self.equal.get(value)
            if holders is not None:
                holders.discard(oid)
                if not holders:
                    del self.equal[value]
                    kind, plain = value
                    ordered = self.sorted.get(kind or object, [])
                    at = bisect.bisect_left(ordered, plain)
                    if at < len(ordered) and ordered[at] == plain:
                        del ordered[at]
        self.present.discard(oid)

    def between(self, low: Any, low_in: bool, high: Any, high_in: bool) -> set[Any] | None:
        """Holders of a value in the range (either bound may be None: open); None when the
        bounds are of a kind this field cannot order."""
        kinds = {b[0] for b in (low, high) if b is not None}
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind is None:
            return None
        if self.multikey and low is not None and high is not None:
            # Each bound may be met by a different element of an array: a superset is
            # what meets each bound, intersected.
            above = self._slice(kind, low[1], low_in, None, False)
            return above & self._slice(kind, None, False, high[1], high_in)
        return self._slice(kind, low and low[1], low_in, high and high[1], high_in)

    def starting(self, prefix: str) -> set[Any]:
        """Holders of a string that starts with ``prefix`` (each value on its own, also in
        an array: as a regex matches)."""
        ordered = self.sorted.get(str, [])
        at = bisect.bisect_left(ordered, prefix)
        found: set[Any] = set()
        while at < len(ordered) and ordered[at].startswith(prefix):
            found |= self.equal[(str, ordered[at])]
            at += 1
        return found

    def _slice(self, kind: type, low: Any, low_in: bool, high: Any, high_in: bool) -> set[Any]:
        ordered = self.sorted.get(kind, [])
        start, end = 0, len(ordered)
        if low is not None:
            start = (bisect.bisect_left if low_in else bisect.bisect_right)(ordered, low)
        if high is not None:
            end = (bisect.bisect_right if high_in else bisect.bisect_left)(ordered, high)
        return set().union(*[self.equal[(kind, v)] for v in ordered[start:end]])


def _kind(value: Any) -> type | None:
    """Values of one kind compare with each other (BSON's type bracketing for ranges).
    Booleans count as numbers: mongomock compares with ``==`` (``True == 1``), and the
    candidates only need to include what it matches. NaN is never indexed."""
    if isinstance(value, int | float):  # bool included
        return None if value != value else float
    for kind in (str, ObjectId, datetime):
        if isinstance(value, kind):
            return kind
    return None


def _key(value: Any) -> tuple[type | None, Any]:
    """A value as indexed: with its kind (1 and true differ, as in BSON), datetimes as naive
    UTC, as mongomock stores them."""
    value = _naive_utc(value)
    return _kind(value), value


class _Order:
    """A declared index ending in ``_id`` (so without ties), kept sorted for walking."""

    def __init__(self, fields: list[tuple[str, int]]) -> None:
        self.fields = fields
        self.keys: dict[Any, tuple[Any, ...]] = {}
        self.ordered: list[tuple[Any, ...]] = []  # (key..., id), ascending
        self.walkable = True

    def add(self, oid: Any, doc: Doc) -> None:
        if not self.walkable:
            return
        parts = [_sort_value(doc, field) for field, _ in self.fields]
        if any(p is None for p in parts):
            self.walkable = False  # a value it cannot order: never walked again
            self.ordered, self.keys = [], {}
            return
        key = (*parts, oid)
        bisect.insort(self.ordered, key)
        self.keys[oid] = key

    def remove(self, oid: Any) -> None:
        key = self.keys.pop(oid, None)
        if key is not None:
            at = bisect.bisect_left(self.ordered, key)
            if at < len(self.ordered) and self.ordered[at] == key:
                del self.ordered[at]

    def walk(self, sort: list[tuple[str, int]]) -> Iterator[Any] | None:
        """The ids in ``sort`` order, if this index serves it: its fields, all ascending or
        all descending (the list is ascending by every field)."""
        directions = {d for _, d in sort}
        if not self.walkable or [f for f, _ in sort] != [f for f, _ in self.fields]:
            return None
        if len(directions) != 1:
            return None
        keys = iter(self.ordered) if directions == {1} else reversed(self.ordered)
        return (key[-1] for key in keys)


class _Indexes:
    """The indexes of one collection, kept in step with its documents."""

    def __init__(self, store: CollectionStore) -> None:
        self.store = store
        self.names = set(store.indexes)
        self.fields: dict[str, _Field] = {}
        self.orders: list[_Order] = []
        self.seq: dict[Any, int] = {}  # natural (insertion) order, as the OrderedDict keeps
        # Documents an update is changing in place right now: candidates of every query
        # until they are indexed again (mongomock checks unique keys mid-update).
        self.dirty: set[Any] = set()
        self._next = itertools.count()
        for oid in store._documents:
            self.seq[oid] = next(self._next)
        self._define([("_id", 1)])
        for spec in store.indexes.values():
            keys = list(spec.get("key", []))
            # Text, hashed or geo keys and positional paths ("a.0") are left to the scan.
            if all(isinstance(d, int) for _, d in keys) and not any(
                part.isdigit() for f, _ in keys for part in str(f).split(".")
            ):
                self._define([(str(f), int(d)) for f, d in keys])

    def _define(self, fields: list[tuple[str, int]]) -> None:
        new = {path: _Field(path) for path, _ in fields if path not in self.fields}
        self.fields.update(new)
        parts: list[_Field | _Order] = list(new.values())
        if fields and fields[-1][0] == "_id" and all(o.fields != fields for o in self.orders):
            order = _Order(fields)
            self.orders.append(order)
            parts.append(order)
        for oid, doc in self.store._documents.items():
            for part in parts:
                part.add(oid, doc)

    def refresh(self, oid: Any) -> None:
        """Index the stored document with this id as it is now (or its removal)."""
        every: list[_Field | _Order] = [*self.fields.values(), *self.orders]
        for part in every:
            part.remove(oid)
        doc = self.store._documents.get(oid)
        if doc is None:
            self.seq.pop(oid, None)
            return
        if oid not in self.seq:
            self.seq[oid] = next(self._next)
        for part in every:
            part.add(oid, doc)

    def candidates(self, query: Any) -> set[Any] | None:
        """A superset of the ids that can match ``query``; None: every document."""
        found = self._candidates(query)
        return found if found is None or not self.dirty else found | self.dirty

    def _candidates(self, query: Any) -> set[Any] | None:
        if not isinstance(query, dict) or not query:
            return None
        found: set[Any] | None = None
        for key, condition in query.items():
            narrowed: set[Any] | None = None
            if key == "$and" and isinstance(condition, list):
                for clause in condition:
                    narrowed = _both(narrowed, self._candidates(clause))
            elif key == "$or" and isinstance(condition, list):
                branches = [self._candidates(clause) for clause in condition]
                if branches and all(b is not None for b in branches):
                    narrowed = set().union(*[b for b in branches if b is not None])
            elif not key.startswith("$"):
                narrowed = self._field(key, condition)
            found = _both(found, narrowed)
        return found

    def _field(self, field: str, condition: Any) -> set[Any] | None:
        index = self.fields.get(field)
        if index is None:
            return None
        if isinstance(condition, dict):
            if condition == {"$exists": True}:
                return set(index.present)
            if condition and set(condition) <= set(_RANGES):
                return self._range(index, condition)
            if set(condition) in ({"$regex"}, {"$regex", "$options"}):
                prefix = _literal_prefix(condition["$regex"], condition.get("$options", ""))
                return None if prefix is None else index.starting(prefix)
            if set(condition) == {"$eq"}:
                values = [condition["$eq"]]
            elif set(condition) == {"$in"} and isinstance(condition["$in"], list):
                values = condition["$in"]
            else:
                return None
        else:
            values = [condition]
        if not all(isinstance(v, _INDEXED_TYPES) and _kind(v) for v in values):
            return None
        found = set().union(*[index.equal.get(_key(v), set()) for v in values])
        for value in values:  # mongomock also matches an id against its string form
            if isinstance(value, ObjectId):
                found |= index.equal.get((str, str(value)), set())
        return found

    @staticmethod
    def _range(index: _Field, condition: dict[str, Any]) -> set[Any] | None:
        low = high = None
        low_in = high_in = False
        for operator, bound in condition.items():
            if not isinstance(bound, _INDEXED_TYPES) or _kind(bound) is None:
                return None
            is_low, inclusive = _RANGES[operator]
            if is_low:
                low, low_in = _key(bound), inclusive
            else:
                high, high_in = _key(bound), inclusive
        return index.between(low, low_in, high, high_in)

    def walk(self, sort: list[tuple[str, int]]) -> Iterator[Any] | None:
        for order in self.orders:
            walked = order.walk(sort)
            if walked is not None:
                return walked
        return None


_REGEX_SPECIAL = frozenset(".^$*+?{}[]|()\\")


def _literal_prefix(pattern: Any, options: Any) -> str | None:
    """What ``^literal`` (case-sensitive, no options) matches the start of; None for any
    other regex. Escaped characters other than letters and digits are literal (what
    ``re.escape`` writes), as in MongoDB's and Python's regexes."""
    if not isinstance(pattern, str) or options != "" or not pattern.startswith("^"):
        return None
    literal: list[str] = []
    chars = iter(pattern[1:])
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            if not char or char.isalnum() or char == "_":
                return None  # \d, \b, \1…: not a literal
        elif char in _REGEX_SPECIAL:
            return None
        literal.append(char)
    return "".join(literal)


def _both(a: set[Any] | None, b: set[Any] | None) -> set[Any] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


SMALL = 256  # documents: below this a scan is cheaper than keeping indexes


def _indexes(store: CollectionStore, *, build: bool = False) -> _Indexes | None:
    """The collection's indexes, once it has grown past ``SMALL`` (built then, in one pass,
    and kept from then on); None while a scan is cheaper, unless ``build``."""
    found: _Indexes | None = store.__dict__.get("_embedded_indexes")
    if found is None and not build and len(store._documents) < SMALL:
        return None
    if found is None or found.names != set(store.indexes):
        found = _Indexes(store)
        store.__dict__["_embedded_indexes"] = found
    return found


# --- the patches -------------------------------------------------------------------------

WALK_FRACTION = 8  # candidates above 1/8 of the collection: walk an index in sort order
SORT_AT_MOST = 256  # and above this many: walking (skipping the others) finds a page sooner


def _iter_documents(self: Collection, filter: Any) -> Iterator[Doc]:
    store = self._store
    if store.is_empty:
        filtering.filter_applies(filter, {})  # validates the filter, as mongomock does
        return iter(())
    indexes = _indexes(store)
    wanted = None if indexes is None else indexes.candidates(filter)
    documents = store._documents
    if indexes is None or wanted is None:
        return (d for d in list(documents.values()) if filtering.filter_applies(filter, d))
    # In natural order, as the scan would give them.
    present = sorted((oid for oid in wanted if oid in documents), key=indexes.seq.__getitem__)
    if not present:
        filtering.filter_applies(filter, {})  # a bad filter still says so, as the scan would
    picked = [documents[oid] for oid in present]
    return (d for d in picked if filtering.filter_applies(filter, d))


_original_get_dataset = Collection._get_dataset
_original_update = Collection._update
_original_setitem = CollectionStore.__setitem__
_original_delitem = CollectionStore.__delitem__
_original_drop = CollectionStore.drop
_original_compute = Cursor._compute_results
_original_aggregate = Collection.aggregate


def _get_dataset(self: Collection, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
    indexes = _indexes(self._store)
    if indexes is not None and sort and not isinstance(sort, dict):
        wanted = indexes.candidates(spec)
        # Walk the index when the candidates are many (a page of them is then found in a
        # few steps, the others skipped by id); sort them when they are few (a date window,
        # a rare word): sorting all of a search's 2,500 matches to show 10 of them cost
        # 15x the walk at 50,000 releases.
        total = len(self._store._documents)
        many = wanted is None or len(wanted) > min(SORT_AT_MOST, total // WALK_FRACTION)
        order = indexes.walk(list(sort)) if many else None
        if order is not None:
            return _walked(self, spec, fields, as_class, order, wanted)
    return _original_get_dataset(self, spec, sort, fields, as_class)


def _walked(
    self: Collection,
    spec: Any,
    fields: Any,
    as_class: Any,
    order: Iterator[Any],
    wanted: set[Any] | None,
) -> Iterator[Any]:
    """The documents in ``order`` that match; only ``wanted`` ones are looked at (None: all)."""
    self._store._remove_expired_documents()  # as the scan would first
    filtering.filter_applies(spec, {})  # a bad filter says so even on an empty walk
    documents = self._store._documents
    for oid in order:
        if wanted is not None and oid not in wanted:
            continue
        doc = documents.get(oid)
        if doc is not None and filtering.filter_applies(spec, doc):
            yield self._copy_only_fields(doc, fields, as_class)


def _update(self: Collection, spec: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
    indexes = _indexes(self._store)
    if indexes is None:
        return _original_update(self, spec, document, *args, **kwargs)
    matched = helpers.patch_datetime_awareness_in_document(spec)  # as the update will match
    touched = [_hashable(d["_id"]) for d in self._iter_documents(matched)]
    indexes.dirty.update(touched)
    try:
        return _original_update(self, spec, document, *args, **kwargs)
    finally:  # updated in place, replaced or rolled back: index what is stored now
        indexes.dirty.difference_update(touched)
        for oid in touched:
            indexes.refresh(oid)


def _hashable(oid: Any) -> Any:
    """An ``_id`` as mongomock keys its documents (a sub-document one as a hashdict)."""
    return helpers.hashdict(oid) if isinstance(oid, dict) else oid


def _setitem(self: CollectionStore, key: Any, value: Any) -> None:
    _original_setitem(self, key, value)
    indexes = _indexes(self)
    if indexes is not None:
        indexes.refresh(key)


def _delitem(self: CollectionStore, key: Any) -> None:
    _original_delitem(self, key)
    indexes = _indexes(self)
    if indexes is not None:
        indexes.refresh(key)


def _drop(self: CollectionStore) -> None:
    _original_drop(self)
    self.__dict__.pop("_embedded_indexes", None)


def _compute_results(self: Cursor, with_limit_and_skip: bool = False) -> Any:
    """With a limit, take only ``skip + limit`` documents from the (lazy) dataset. A partial
    list is thrown away when asked for more (no limit, another skip or limit: a rewind)."""
    partial = self.__dict__.get("_partial_for")
    if partial is not None and (
        not with_limit_and_skip or partial != (self._skip, self._limit, self._factory)
    ):
        self._results, self.__dict__["_partial_for"] = None, None
    if self._limit and with_limit_and_skip and not self._results:
        self.__dict__["_partial_for"] = (self._skip, self._limit, self._factory)
        wanted = self._skip + abs(self._limit)
        self._results = list(itertools.islice(self._factory(), wanted))
        if self.collection.codec_options.tz_aware:
            self._results = [
                helpers.make_datetime_timezone_aware_in_document(r) for r in self._results
            ]
        self._factory_last_generated_results = self._factory
        return self._results[self._skip :][: abs(self._limit)]
    return _original_compute(self, with_limit_and_skip)


def _aggregate(self: Collection, pipeline: Any, session: Any = None, **kwargs: Any) -> Any:
    """The pipeline's leading ``$match``, ``$sort``, ``$skip``, ``$limit`` and an inclusion
    ``$project`` (in this order, each optional) as a find, so the indexes serve them and only
    the projected fields are copied; mongomock runs the rest on what it found. A stage it
    would refuse is left to it, to refuse as it does."""
    stages = list(pipeline) if isinstance(pipeline, list | tuple) else []
    find: dict[str, Any] = {}
    for name, accepts in _SERVED:
        stage = stages[len(find)] if len(find) < len(stages) else None
        if isinstance(stage, dict) and list(stage) == [name] and accepts(stage[name]):
            find[name] = stage[name]
    if not find or session:
        return _original_aggregate(self, pipeline, session, **kwargs)
    projection = find.get("$project")  # a copy: mongomock's find adds _id to it
    cursor = self.find(find.get("$match", {}), dict(projection) if projection else None)
    if "$sort" in find:
        cursor = cursor.sort(list(find["$sort"].items()))
    cursor = cursor.skip(find.get("$skip", 0)).limit(find.get("$limit", 0))
    return aggregate.process_pipeline(list(cursor), self.database, stages[len(find) :], None)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _plain_sort(sort: Any) -> bool:
    """By fields, each ascending or descending (not by ``$meta``, say)."""
    if not isinstance(sort, dict) or not sort:
        return False
    return all(not str(k).startswith("$") and v in (1, -1) for k, v in sort.items())


def _inclusion(projection: Any) -> bool:
    """Top-level fields, each included (a card's projection): what a find projects alike."""
    if not isinstance(projection, dict) or not projection:
        return False
    return all(
        isinstance(k, str) and not k.startswith("$") and "." not in k and v in (1, True)
        for k, v in projection.items()
    )


_SERVED: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("$match", lambda spec: isinstance(spec, dict)),
    ("$sort", _plain_sort),
    ("$skip", _count),
    ("$limit", _count),
    ("$project", _inclusion),
)


def _union_with(in_collection: Any, database: Any, options: Any) -> list[Any]:
    """``{$unionWith: {coll, pipeline}}`` (or just the collection's name): the documents so
    far, then those of the pipeline run on that collection."""
    if isinstance(options, str):
        options = {"coll": options}
    if (
        not isinstance(options, dict)
        or not isinstance(options.get("coll"), str)
        or not set(options) <= {"coll", "pipeline"}
        or not isinstance(options.get("pipeline", []), list)
    ):
        raise OperationFailure("$unionWith takes {coll: <collection name>, pipeline: [stages]}")
    union = database.get_collection(options["coll"]).aggregate(options.get("pipeline", []))
    return [*in_collection, *union]


_ORIGINALS = (
    (Collection, "_iter_documents", Collection._iter_documents),
    (Collection, "_get_dataset", _original_get_dataset),
    (Collection, "_update", _original_update),
    (CollectionStore, "__setitem__", _original_setitem),
    (CollectionStore, "__delitem__", _original_delitem),
    (CollectionStore, "drop", _original_drop),
    (Cursor, "_compute_results", _original_compute),
    (Collection, "aggregate", _original_aggregate),
)


def disable() -> None:
    """mongomock as shipped: every query a scan (the differential test compares both),
    ``$unionWith`` kept."""
    for owner, name, original in _ORIGINALS:
        setattr(owner, name, original)


def enable() -> None:
    """Make mongomock use the declared indexes (see the module docstring). Idempotent."""
    Collection._iter_documents = _iter_documents  # type: ignore[method-assign]
    Collection._get_dataset = _get_dataset  # type: ignore[method-assign]
    Collection._update = _update  # type: ignore[method-assign]
    CollectionStore.__setitem__ = _setitem  # type: ignore[method-assign]
    CollectionStore.__delitem__ = _delitem  # type: ignore[method-assign]
    CollectionStore.drop = _drop  # type: ignore[method-assign]
    Cursor._compute_results = _compute_results  # type: ignore[method-assign]
    Collection.aggregate = _aggregate  # type: ignore[method-assign]
    aggregate._PIPELINE_HANDLERS["$unionWith"] = _union_with
