"""The audit chain: every timeline entry of a release carries the hash of the entry before it.

One chain per release. Its entries are written in the same conditional write as the change
they record (the release's outbox, ``core/services/release_changes.py``), and the release
keeps the chain's head (``audit_seq``, ``audit_head``), so the chain grows exactly as the
release does: two replicas never both append entry N. One chain for the whole installation
would need a write to one shared document with every change of every release.

An entry's hash is SHA-256 over its canonical encoding: the audited fields (not the domain
events, which only drive reactions) as JSON with sorted keys, no spaces, UTF-8, and times as
UTC ISO-8601 to the millisecond (what MongoDB keeps). Changing any audited field of any
entry, removing or reordering entries, changes a hash or breaks a link; ``verify`` names the
first one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.models.release import Release
from core.models.timeline import TimelineEvent

ALGORITHM = "sha256"
AUDITED = (
    "id",
    "release_oid",
    "release_id",
    "seq",
    "prev_hash",
    "actor",
    "action",
    "target",
    "before",
    "after",
    "comment",
    "at",
)


def plain(value: Any) -> Any:
    """JSON values as stored: times in UTC to the millisecond, tuples as lists."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def audited(entry: TimelineEvent) -> dict[str, Any]:
    """The audited fields of an entry, as plain JSON values (what an export carries)."""
    data = entry.model_dump(include=set(AUDITED))
    return {name: plain(data[name]) for name in AUDITED}


def canonical(fields: dict[str, Any]) -> bytes:
    values = {name: plain(fields.get(name)) for name in AUDITED}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def chain(release: Release, entry: TimelineEvent) -> TimelineEvent:
    """Append ``entry`` to ``release``'s chain: its place, the link, its hash; the release's
    head moves to it (written together, in one write)."""
    entry.seq = release.audit_seq + 1
    entry.prev_hash = release.audit_head
    entry.hash = digest(audited(entry))
    release.audit_seq, release.audit_head = entry.seq, entry.hash
    return entry


# --- verifying an export ---------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first broken link: where, and what is wrong."""

    release_id: str
    seq: int
    line: int
    problem: str

    def __str__(self) -> str:
        if not self.release_id:
            return f"line {self.line}: {self.problem}"
        return f"line {self.line}: {self.release_id} entry {self.seq}: {self.problem}"


@dataclass(frozen=True)
class Verified:
    releases: int
    entries: int
    unchained: int  # entries from before the chain existed: not verifiable
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


@dataclass
class _Chain:
    seq: int
    hash: str
    line: int


CUT_SHORT = "the file ends early: its end record is missing (cut short?)"
AFTER_END = "records after the end record (two files joined?)"


def verify(records: Iterable[tuple[int, dict[str, Any]]]) -> Verified:
    """Check an export's records (line number, parsed record): each entry's hash is that of
    its fields, each links to the one before it in its release's chain (the first of a
    release in the file is taken as it is: an export may start mid-chain), a release's last
    entry is its head when the file carries it, and the end record counts every entry. Stops
    at the first break."""
    chains: dict[str, _Chain] = {}
    entries = unchained = last = 0
    ended = whole = False
    for line, record in records:
        kind, last = record.get("kind"), line
        if ended:
            return Verified(len(chains), entries, unchained, Break("", 0, line, AFTER_END))
        if kind == "end":
            ended = True
            if record.get("entries") != entries + unchained:
                counted = entries + unchained
                problem = f"the file ends with {record.get('entries')} entries but has {counted}"
                return Verified(len(chains), entries, unchained, Break("", 0, line, problem))
        elif kind == "header":  # an export from the first entry: each chain starts at 1
            whole = record.get("from") is None
        elif kind == "entry":
            found = _check_entry(chains, line, record, whole=whole)
            if isinstance(found, Break):
                return Verified(len(chains), entries, unchained, found)
            entries += found
            unchained += not found
        elif kind == "head":
            broken = _check_head(chains, line, record)
            if broken is not None:
                return Verified(len(chains), entries, unchained, broken)
    if not ended:
        return Verified(len(chains), entries, unchained, Break("", 0, last + 1, CUT_SHORT))
    return Verified(len(chains), entries, unchained, None)


def _check_entry(
    chains: dict[str, _Chain], line: int, record: dict[str, Any], *, whole: bool
) -> Break | bool:
    """A break, or whether the entry is chained (True) or from before the chain (False).
    ``whole``: the export starts at each release's first entry, so a chain must start at 1."""
    release, seq = str(record.get("release_oid")), int(record.get("seq") or 0)
    name = str(record.get("release_id"))
    before = chains.get(release)
    if not record.get("hash"):
        if before is not None:
            return Break(name, seq, line, "an entry without a hash after the chain began")
        return False
    if digest(record) != record["hash"]:
        return Break(name, seq, line, "its content does not match its hash (edited)")
    if before is None and whole and (seq != 1 or record.get("prev_hash")):
        return Break(name, seq, line, f"the chain starts at entry {seq}: its first are missing")
    if before is not None:
        if seq != before.seq + 1:
            return Break(name, seq, line, f"expected entry {before.seq + 1} (missing or moved)")
        if record.get("prev_hash") != before.hash:
            return Break(name, seq, line, "it does not link to the entry before it")
    chains[release] = _Chain(seq, str(record["hash"]), line)
    return True


def _check_head(chains: dict[str, _Chain], line: int, record: dict[str, Any]) -> Break | None:
    release, name = str(record.get("release_oid")), str(record.get("release_id"))
    seq, head = int(record.get("seq") or 0), str(record.get("hash") or "")
    last = chains.get(release)
    if last is None:
        return None if seq == 0 else Break(name, seq, line, "the release's entries are missing")
    if (last.seq, last.hash) != (seq, head):
        return Break(
            name,
            last.seq + 1,
            line,
            f"the chain ends at entry {last.seq} but the release's head is entry {seq}",
        )
    return None


def ndjson_records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(lines, start=1):
        if text.strip():
            yield number, json.loads(text)
