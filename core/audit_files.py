"""The audit export's two file formats, defined once: the API writes them, the Slack command
sends the NDJSON one, and ``python -m scripts.audit verify`` reads both back.

- NDJSON: one record a line, as ``core.services.audit`` yields them (header, entries, heads,
  end).
- CSV: a row of column names (``CSV_COLUMNS``), then a header row (its ``at`` cell: the
  export's ``from``, empty from the first entry), then one row per entry, head or end. The
  columns in ``JSON_COLUMNS`` hold JSON values, so a row gives back exactly the record it
  came from (``comment`` too: no comment, ``null``,
  differs from an empty one, and a comment's line breaks stay inside its cell). The end row
  carries the number of entries in its ``seq`` cell.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

CSV_COLUMNS = (
    "kind",
    "release_oid",
    "release_id",
    "seq",
    "at",
    "actor",
    "action",
    "target",
    "before",
    "after",
    "comment",
    "id",
    "prev_hash",
    "hash",
)
JSON_COLUMNS = frozenset({"actor", "target", "before", "after", "comment"})
HEAD_COLUMNS = ("kind", "release_oid", "release_id", "seq", "hash")


def ndjson_line(record: Mapping[str, Any]) -> str:
    """One record as a line of NDJSON (UTF-8 text, no spaces, ends with a newline)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def csv_cells(record: Mapping[str, Any]) -> list[str]:
    """A record's CSV row, in ``CSV_COLUMNS`` order: the header's says from when (``at``)."""
    if record.get("kind") == "end":
        record = {"kind": "end", "seq": record.get("entries")}
    elif record.get("kind") == "header":
        record = {"kind": "header", "at": record.get("from")}
    cells = []
    for column in CSV_COLUMNS:
        if column not in record:
            cells.append("")
        elif column in JSON_COLUMNS:
            cells.append(json.dumps(record[column], ensure_ascii=False, sort_keys=True))
        else:
            cells.append("" if record[column] is None else str(record[column]))
    return cells


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def csv_record(row: Mapping[str, str]) -> dict[str, Any]:
    """The record a CSV row was made from (raises ``ValueError`` for a cell that cannot be)."""
    kind = row.get("kind", "")
    if kind == "end":
        return {"kind": "end", "entries": _whole(row.get("seq") or "")}
    if kind == "header":
        return {"kind": "header", "from": row.get("at") or None}
    columns = HEAD_COLUMNS if kind == "head" else CSV_COLUMNS
    record: dict[str, Any] = {}
    for column in columns:
        cell = row.get(column) or ""
        if column == "seq":
            record[column] = _whole(cell)
        elif column in JSON_COLUMNS:
            try:
                record[column] = json.loads(cell)
            except json.JSONDecodeError:
                raise ValueError(f"its {column} is not JSON") from None
        else:
            record[column] = cell
    return record


def _whole(cell: str) -> int:
    if not cell.isdigit():
        raise ValueError("its seq is not a whole number")
    return int(cell)


def export_filename(header: Mapping[str, Any], release: str | None, extension: str) -> str:
    """``releasebot-audit-REL-2026.12-20261201T090000Z.ndjson``: what, and when it was made."""
    stamp = str(header.get("exported_at") or "").replace("-", "").replace(":", "")[:15]
    name = f"releasebot-audit-{release or 'all'}-{stamp}Z.{extension}"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
