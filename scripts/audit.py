"""The audit chain's command line: check an export, or write the demo data's.

    python -m scripts.audit verify FILE        # an NDJSON or CSV export (API or Slack)
    python -m scripts.audit export-demo FILE   # the demo data's full export, as NDJSON

``verify`` recomputes every entry's hash and link (``core/rules/audit.py``) and prints one
line: ``OK: …`` (exit 0), ``BROKEN at line N: …`` naming the first broken link (exit 1), or
why the file cannot be checked (exit 2). ``export-demo`` seeds the demo data into the
embedded engine of this process only (never MONGO_URI) and exports it as the admin persona,
so CI can check the chain the demo data builds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from blocks.text import plural
from core.audit_files import CSV_COLUMNS, csv_record, ndjson_line
from core.rules import audit
from core.seeds.demo import seed_demo_data
from core.services.audit import FORMAT, VERSION
from core.services.container import build_services
from storage.engine import connect
from storage.wiring import open_repositories

OK, BROKEN, UNREADABLE = 0, 1, 2
RECORD_KINDS = frozenset({"header", "entry", "head", "end"})
EMBEDDED = "mongomock://"
DEMO_AUDITOR = "admin"


class Unreadable(Exception):
    """The file is not an audit export this verifier can read; the message says why."""


# --- verify --------------------------------------------------------------------------------


def verify_file(path: Path) -> tuple[int, str]:
    """The exit code and the line to print for the export at ``path``."""
    try:
        with path.open(encoding="utf-8", newline="") as file:
            result = audit.verify(export_records(file))
    except Unreadable as error:
        return UNREADABLE, f"error: {path}: {error}"
    except UnicodeDecodeError:
        return UNREADABLE, f"error: {path} is not UTF-8 text, so not an audit export."
    except OSError as error:
        return UNREADABLE, f"error: cannot read {path}: {error.strerror or error}."
    if result.broken is not None:
        return BROKEN, f"BROKEN at {result.broken}"
    verified = f"{plural(result.releases, 'release')}, {plural(result.entries, 'entry', 'entries')}"
    before = (
        f" ({result.unchained} from before the chain, not verifiable)" if result.unchained else ""
    )
    return OK, f"OK: {verified} verified{before}"


def export_records(file: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, record) of an NDJSON or CSV export, told apart by its first line."""
    lines = [file.readline()]
    while lines[-1] and not lines[-1].strip():
        lines.append(file.readline())
    if not lines[-1]:
        raise Unreadable("the file is empty, so not an audit export.")
    if lines[-1].lstrip().startswith("{"):
        return _ndjson(itertools.chain(lines, file))
    return _csv(lines[-1], len(lines), file)


def _ndjson(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    read = 0

    def counted() -> Iterator[str]:
        nonlocal read
        for text in lines:
            read += 1
            yield text

    records = audit.ndjson_records(counted())
    try:
        first, header = next(records)
        _check_header(header)
        yield first, header  # its ``from`` says whether each chain must start at entry 1
        for line, record in records:
            yield line, _checked(line, record)
    except json.JSONDecodeError as error:
        raise Unreadable(f"line {read} is not JSON ({error.msg}).") from None


def _check_header(record: dict[str, Any]) -> None:
    if record.get("kind") != "header" or record.get("format") != FORMAT:
        raise Unreadable(
            f"its first line is not the header of a releasebot audit export ({FORMAT}); "
            "export one with GET /api/v1/audit/export or `/release audit <release>`."
        )
    if record.get("version") != VERSION or record.get("algorithm") != audit.ALGORITHM:
        raise Unreadable(
            f"it is an export of version {record.get('version')} with "
            f"{record.get('algorithm')}; this verifier reads version {VERSION} with "
            f"{audit.ALGORITHM}: use the releasebot that made it."
        )


def _csv(first: str, before: int, rest: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    """``before``: lines up to the column names, which are the last of them."""
    if next(csv.reader([first]), []) != list(CSV_COLUMNS):
        raise Unreadable(
            "its first line is neither an NDJSON export's header nor a CSV export's column "
            f"names ({','.join(CSV_COLUMNS)})."
        )
    reader = csv.DictReader(rest, fieldnames=CSV_COLUMNS, strict=True)
    line = before
    try:
        for row in reader:
            line = before + reader.line_num
            if None in row or any(value is None for value in row.values()):
                raise Unreadable(
                    f"line {line} does not have the {len(CSV_COLUMNS)} columns of an export."
                )
            try:
                record = csv_record(row)
            except ValueError as error:
                raise Unreadable(f"line {line} cannot be read: {error}.") from None
            yield line, _checked(line, record)
    except csv.Error as error:
        raise Unreadable(f"line {line + 1} is not CSV ({error}).") from None


def _checked(line: int, record: object) -> dict[str, Any]:
    """A record of the kinds ``verify`` reads, with the fields it counts on."""
    if not isinstance(record, dict) or record.get("kind") not in RECORD_KINDS:
        raise Unreadable(f"line {line} is not an audit entry, a release's head or the end.")
    if record["kind"] == "header":
        return record
    if record["kind"] == "end":
        if not isinstance(record.get("entries"), int):
            raise Unreadable(f"line {line} is an end record without a whole-number count.")
        return record
    if not isinstance(record.get("seq"), int) or not isinstance(record.get("hash"), str):
        raise Unreadable(f"line {line} has no whole-number seq or no text hash.")
    return record


# --- export-demo ---------------------------------------------------------------------------


async def export_demo(path: Path) -> int:
    """Seed the demo data into this process's embedded engine and write its full export
    to ``path``; the number of records written."""
    client, db = connect(EMBEDDED, "releasebot_audit_demo")
    try:
        repos = await open_repositories(db)
        await seed_demo_data(repos)
        services = build_services(repos)
        auditor = await services.identity.actor_for(await repos.users.get_by_username(DEMO_AUDITOR))
        written = 0
        with path.open("w", encoding="utf-8", newline="\n") as file:
            async for record in services.audit.export(auditor):
                file.write(ndjson_line(record))
                written += 1
        return written
    finally:
        client.close()


# --- the command line ----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.audit", description="Check releasebot audit exports."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check an NDJSON or CSV export's chain")
    check.add_argument("file", type=Path)
    demo = commands.add_parser("export-demo", help="write the demo data's export (NDJSON)")
    demo.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "export-demo":
        try:
            written = asyncio.run(export_demo(args.file))
        except OSError as error:
            print(f"error: cannot write {args.file}: {error.strerror or error}.", file=sys.stderr)
            return UNREADABLE
        print(f"Wrote {plural(written, 'record')} of the demo data's audit chain to {args.file}")
        return OK
    code, said = verify_file(args.file)
    print(said, file=sys.stderr if code == UNREADABLE else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
