"""`python -m scripts.audit`: verify an export (OK, BROKEN naming the line, or unreadable),
and export-demo then verify as CI runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.audit_files import CSV_COLUMNS, csv_cells, csv_line, ndjson_line
from scripts.audit import BROKEN, OK, UNREADABLE, main
from tests.support import World
from tests.test_audit_chain import REL, _changes, exported

ROOT = Path(__file__).resolve().parents[1]


def write_ndjson(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(ndjson_line(r) for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, records: list[dict[str, Any]]) -> Path:
    rows = [csv_line(list(CSV_COLUMNS))] + [csv_line(csv_cells(r)) for r in records[1:]]
    path.write_text("".join(rows), encoding="utf-8")
    return path


def verify(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["verify", str(path)])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


async def test_an_untouched_export_is_ok(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _changes(world)
    records = await exported(world)

    as_ndjson = verify(write_ndjson(tmp_path / "a.ndjson", records), capsys)
    as_csv = verify(write_csv(tmp_path / "a.csv", records), capsys)

    assert as_ndjson == (OK, "OK: 1 release, 6 entries verified", "")
    assert as_csv == as_ndjson


async def test_entries_from_before_the_chain_are_counted_apart(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _changes(world)
    records = await exported(world)
    first = next(i for i, r in enumerate(records) if r["kind"] == "entry")
    # an entry written before the chain existed: no place in it, no hash
    old = {**records[first], "id": "0" * 24, "seq": 0, "prev_hash": "", "hash": ""}
    records.insert(first, old)
    records[-1]["entries"] += 1  # the end record counts it

    code, out, _ = verify(write_ndjson(tmp_path / "old.ndjson", records), capsys)

    assert (code, out) == (
        OK,
        "OK: 1 release, 6 entries verified (1 from before the chain, not verifiable)",
    )


async def test_an_edited_comment_is_broken_at_its_line(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _changes(world)
    records = await exported(world)
    line = next(n for n, r in enumerate(records, start=1) if r.get("seq") == 4)
    records[line - 1]["comment"] = "run 1 (nothing failed)"

    as_ndjson = verify(write_ndjson(tmp_path / "b.ndjson", records), capsys)
    as_csv = verify(write_csv(tmp_path / "b.csv", records), capsys)

    said = f"{REL} entry 4: its content does not match its hash (edited)"
    assert as_ndjson == (BROKEN, f"BROKEN at line {line}: {said}", "")
    # The CSV has no header record but a row of column names: the same line.
    assert as_csv == (BROKEN, f"BROKEN at line {line}: {said}", "")


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "cannot read"),
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("just some notes\n", "neither an NDJSON export's header nor a CSV export's column"),
        ('{"kind": "entry", "seq": 1}\n', "not the header of a releasebot audit export"),
        (
            '{"kind": "header", "format": "releasebot.audit", "version": 9, '
            '"algorithm": "sha256"}\n',
            "this verifier reads version 1",
        ),
        (
            '{"kind": "header", "format": "releasebot.audit", "version": 1, '
            '"algorithm": "sha256"}\n{"kind": "entry", "seq": \n',
            "line 2 is not JSON",
        ),
        (
            '{"kind": "header", "format": "releasebot.audit", "version": 1, '
            '"algorithm": "sha256"}\n["a list"]\n',
            "line 2 is not an audit entry",
        ),
        (",".join(CSV_COLUMNS) + "\nentry,x,REL-1,one\n", "line 2 does not have the 14 columns"),
        (",".join(CSV_COLUMNS) + "\nentry" + ",{" * 13 + "\n", "line 2 cannot be read: its seq"),
    ],
)
def test_a_file_that_is_not_an_export_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, said: str
) -> None:
    path = tmp_path / "export.ndjson"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    code, out, err = verify(path, capsys)

    assert (code, out) == (UNREADABLE, "")
    assert err.startswith("error: ") and said in err and "\n" not in err


def test_not_utf8_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "export.ndjson"
    path.write_bytes(b'{"kind": "header"}\n\xff\xfe\n')

    code, _, err = verify(path, capsys)

    assert code == UNREADABLE and "not UTF-8 text" in err


def test_export_demo_then_verify_as_ci_runs_them(tmp_path: Path) -> None:
    target = tmp_path / "demo.ndjson"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scripts.audit", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    exported_demo = run("export-demo", str(target))
    checked = run("verify", str(target))

    assert exported_demo.returncode == 0, exported_demo.stderr
    assert "demo data's audit chain" in exported_demo.stdout
    header = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert header["kind"] == "header" and header["exported_by"] == "admin"
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK: 4 releases, ")
