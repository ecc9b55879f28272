"""Every reader stops at the limits while it reads: each hostile file of the corpus is refused
in seconds with bounded memory, naming the file and the limit (or row and column); every
limit, for every format, at exactly one past it; files within them read as before."""

from __future__ import annotations

import gzip
import io
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from tandem.ingest import IngestError, read_export, read_holds_csv
from tandem.ingest.limits import DEFAULT_LIMITS, Limits
from tandem.ingest.testing.hostile import EXPECTED, HOSTILE_FILES
from tandem.ingest.tests.helpers import FIXTURES

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group\n"


def rows(n: int) -> str:
    return "".join(f"T{i},P2,2025-03-03T09:00:00Z,,,Desk\n" for i in range(n))


def refusal(source: Path | io.BytesIO, **kw: object) -> str:
    with pytest.raises(IngestError) as raised:
        read_export(source, **kw)  # type: ignore[arg-type]
    return str(raised.value)


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_every_hostile_file_is_refused_in_seconds_with_bounded_memory(
    name: str, tmp_path: Path
) -> None:
    path = HOSTILE_FILES[name](tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    message = refusal(path)
    seconds = time.perf_counter() - began
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert EXPECTED[name] in message, message
    assert message.startswith("1 problem found; nothing was imported") or "problems" in message
    assert seconds < 20, f"{name}: {seconds:.1f} s"
    # The peak of this process only grows: what reading added is bounded. Most files stop
    # before anything is built; 5,000,000 empty lines are 5,000,000 rows of string views
    # (16 bytes a cell), read before the empty rows are refused.
    assert grown_mb < 1024, f"{name}: {grown_mb:.0f} MB more"


def test_limits_are_positive_integers() -> None:
    assert Limits() == DEFAULT_LIMITS
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="max_rows must be a positive integer"):
            Limits(max_rows=bad)  # type: ignore[arg-type]


CSV_FORMATS = {
    "generic": (FIXTURES / "generic_tickets.csv", "ticket_id"),
    "servicenow": (FIXTURES / "servicenow_list.csv", "Number"),
    "servicenow-events": (FIXTURES / "servicenow_events.csv", "number"),
    "jira": (FIXTURES / "jira.csv", "Issue key"),
    "glpi": (FIXTURES / "glpi.csv", "id"),
}


def data_rows(path: Path) -> int:
    import csv

    with path.open(newline="", encoding="utf-8-sig") as f:
        return sum(1 for _ in csv.reader(f)) - 1


@pytest.mark.parametrize("format", sorted(CSV_FORMATS))
def test_the_row_limit_in_every_format_at_exactly_one_past_it(format: str) -> None:
    path, _ = CSV_FORMATS[format]
    n = data_rows(path)
    read_export(path, format, limits=Limits(max_rows=n))  # at the limit: read
    message = refusal(path, format=format, limits=Limits(max_rows=n - 1))
    assert f"{path.name}: more than {n - 1:,} data rows (the limit); split the export" in message
    assert f"stopped reading at row {n + 1:,}" in message


@pytest.mark.parametrize("format", sorted(CSV_FORMATS))
def test_the_size_column_and_cell_limits_in_every_format(format: str) -> None:
    path, id_column = CSV_FORMATS[format]
    size = path.stat().st_size
    read_export(path, format, limits=Limits(max_bytes=size))
    assert f"{path.name}: the file is {size:,} bytes, over the limit of {size - 1:,}" in refusal(
        path, format=format, limits=Limits(max_bytes=size - 1)
    )
    header = path.read_text("utf-8-sig").splitlines()[0]
    columns = len(next(iter(__import__("csv").reader([header]))))
    read_export(path, format, limits=Limits(max_columns=columns))
    assert f"{path.name}, row 1: the header has {columns:,} columns, over the limit of" in (
        refusal(path, format=format, limits=Limits(max_columns=columns - 1))
    )
    # the header's names are cells too; then the ticket id, a cell every reader reads
    longest_name = max(len(name) for name in header.split(","))
    assert f"{path.name}, row 1: a column name: a cell of {longest_name} characters" in (
        refusal(path, format=format, limits=Limits(max_cell_chars=longest_name - 1))
    )
    padded = path.read_text("utf-8-sig").splitlines()
    first = padded[1].split(",")[0]
    long_id = (first.strip('"') + "9" * (longest_name + 5)).join('""')
    padded[1] = long_id + padded[1][len(first) :]
    copy = io.BytesIO("\n".join(padded).encode())
    message = refusal(
        copy, file_name=path.name, format=format, limits=Limits(max_cell_chars=len(long_id) - 3)
    )
    assert (
        f"{path.name}, row 2, column '{id_column}': a cell of {len(long_id) - 2} characters"
        in message
    )


def test_a_cell_over_the_limit_names_row_and_column() -> None:
    text = HEADER + rows(3) + "T9,P2,2025-03-03T09:00:00Z,,," + "é" * 41 + "\n"
    message = refusal(
        io.BytesIO(text.encode()), file_name="t.csv", limits=Limits(max_cell_chars=40)
    )
    assert "t.csv, row 5, column 'assignment_group': a cell of 41 characters, over the limit" in (
        message
    )
    # 41 characters of two bytes each: the bytes alone do not decide
    ok = HEADER + "T9,P2,2025-03-03T09:00:00Z,,," + "é" * 40 + "\n"
    read_export(io.BytesIO(ok.encode()), limits=Limits(max_cell_chars=40))


def test_a_stream_is_read_no_further_than_the_limit() -> None:
    class Endless(io.RawIOBase):
        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            assert size > 0, "read without a bound"
            self.given += size
            return (HEADER + rows(1)).encode()[:1] * size

    source = Endless()
    message = refusal(source, format="generic", limits=Limits(max_bytes=10_000))  # type: ignore[arg-type]
    assert "upload: the file is more than 10,000 bytes (the limit); split the export" in message
    assert source.given == 10_001


def test_gzip_reads_like_the_plain_file_and_stops_at_the_limit(tmp_path: Path) -> None:
    plain = FIXTURES / "generic_tickets.csv"
    packed = tmp_path / "tickets.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    a, b = read_export(plain), read_export(packed)
    assert a.tickets.equals(b.tickets) and a.format == b.format == "generic"
    size = plain.stat().st_size
    message = refusal(packed, limits=Limits(max_bytes=size - 1))
    assert f"tickets.csv.gz: decompressed, the file expands to more than {size - 1:,} bytes" in (
        message
    )
    # two members read as one file; a truncated one is refused
    half = len(plain.read_bytes()) // 2
    two = gzip.compress(plain.read_bytes()[:half]) + gzip.compress(plain.read_bytes()[half:])
    packed.write_bytes(two)
    assert read_export(packed).tickets.equals(a.tickets)
    packed.write_bytes(gzip.compress(plain.read_bytes())[:-20])
    assert "tickets.csv.gz: the gzip file is truncated" in refusal(packed)


def test_gzip_holds_are_limited_too(tmp_path: Path) -> None:
    holds = tmp_path / "holds.csv.gz"
    holds.write_bytes(gzip.compress((FIXTURES / "generic_holds.csv").read_bytes()))
    tickets = read_export(FIXTURES / "generic_tickets.csv").tickets
    assert read_holds_csv(holds, tickets=tickets).holds.height == 3
    with pytest.raises(IngestError, match="holds.csv.gz: more than 2 data rows"):
        read_holds_csv(holds, tickets=tickets, limits=Limits(max_rows=2))


def workbook(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


SN: list[object] = ["Number", "Priority", "Opened", "Resolved", "Assignment group"]


def test_a_workbook_at_and_past_each_limit(tmp_path: Path) -> None:
    data = [[f"INC{i}", "2 - High", "2025-03-03 09:00:00", None, "Desk"] for i in range(5)]
    path = workbook(tmp_path / "t.xlsx", [SN, *data])
    assert read_export(path, limits=Limits(max_rows=5)).tickets.height == 5
    assert "t.xlsx: more than 4 data rows (the limit)" in refusal(path, limits=Limits(max_rows=4))
    assert "t.xlsx, row 1: the header has more columns, over the limit of 4" in refusal(
        path, limits=Limits(max_columns=4)
    )
    assert "t.xlsx, row 2, column 'Number': a cell of 4 characters, over the limit of 3" in (
        refusal(path, limits=Limits(max_cell_chars=3))
    )
    assert "t.xlsx: the workbook's XML" in refusal(
        path, limits=Limits(max_bytes=path.stat().st_size + 100)
    )


def test_workbook_rows_keep_the_spreadsheet_numbers(tmp_path: Path) -> None:
    """Empty rows are skipped, not renumbered: row 5 is row 5 in the spreadsheet too."""
    rows: list[list[object]] = [SN, ["INC1", "2 - High", "2025-03-03 09:00:00", None, "Desk"]]
    rows += [[None], [None]]
    rows.append(["INC2", "urgent", "2025-03-03 09:00:00", None, "Desk"])
    message = refusal(workbook(tmp_path / "t.xlsx", rows))
    assert "t.xlsx, row 5, column 'Priority': unknown priority 'urgent'" in message
