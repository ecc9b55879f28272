"""A reader given a deadline (``Limits.deadline``) stops at its next step once it has passed:
between its stages and inside its chunked loops (gzip decompression, the line-length pass,
the workbook's XML scan, openpyxl's and the csv module's rows), raising ``ReadingStopped``
that names the file and the budget. Within the deadline nothing changes."""

from __future__ import annotations

import gzip
import io
import time
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from tandem.ingest import IngestError, ReadingStopped, read_export, read_holds_csv
from tandem.ingest import limits as limits_module
from tandem.ingest._common import sources, workbook
from tandem.ingest.limits import Limits
from tandem.ingest.tests.helpers import FIXTURES
from tandem.ingest.tests.test_limits import CSV_FORMATS, HEADER, SN, rows

PASSED = Limits(deadline=0.0, budget=5)  # time.monotonic() is past 0 on any running system
FAR = Limits(deadline=time.monotonic() + 3600, budget=3600)


class Clock:
    """``time`` for the limits module: the deadline passes at the ``after``-th look
    (never when None); counts the looks."""

    def __init__(self, after: int | None = None) -> None:
        self.after = after
        self.looks = 0

    def monotonic(self) -> float:
        self.looks += 1
        return 1e12 if self.after is not None and self.looks >= self.after else 0.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(limits_module, "time", fake)
    return fake


def stopped_in(raised: pytest.ExceptionInfo[ReadingStopped]) -> str:
    """The function whose look at the clock stopped the reading."""
    frames = [entry.name for entry in raised.traceback]
    assert frames[-1] == "check_time", frames
    return frames[-2]


def test_a_deadline_is_a_number_or_none() -> None:
    for bad in ("10", True, [1]):
        with pytest.raises(ValueError, match="deadline must be seconds"):
            Limits(deadline=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="budget must be seconds"):
        Limits(budget="5")  # type: ignore[arg-type]
    before = time.monotonic()
    lasting = Limits(max_rows=7).lasting(2.5)
    assert lasting.max_rows == 7 and lasting.budget == 2.5
    assert (
        lasting.deadline is not None and before + 2.5 <= lasting.deadline <= time.monotonic() + 2.5
    )
    lasting.check_time("x.csv")  # not yet
    Limits().check_time("x.csv")  # no deadline: never


@pytest.mark.parametrize("as_stream", [False, True], ids=["path", "stream"])
@pytest.mark.parametrize("format", sorted(CSV_FORMATS))
def test_every_format_stops_once_its_deadline_has_passed(format: str, as_stream: bool) -> None:
    path, _ = CSV_FORMATS[format]
    source: Path | io.BytesIO = io.BytesIO(path.read_bytes()) if as_stream else path
    with pytest.raises(ReadingStopped) as raised:
        read_export(source, format, file_name=path.name, limits=PASSED)
    assert str(raised.value) == (
        f"{path.name}: stopped: the reading took longer than 5 s; nothing was imported"
    )
    assert not isinstance(raised.value, IngestError)  # the file is not at fault
    assert raised.value.file == path.name and raised.value.budget == 5


@pytest.mark.parametrize("format", sorted(CSV_FORMATS))
def test_within_the_deadline_every_format_reads_as_before(format: str) -> None:
    path, _ = CSV_FORMATS[format]
    before = read_export(path, format)
    after = read_export(path, format, limits=FAR)
    assert after.tickets.equals(before.tickets) and after.holds.equals(before.holds)
    assert after.warnings == before.warnings


@pytest.mark.parametrize("format", sorted(CSV_FORMATS))
def test_every_step_of_every_format_looks_at_the_clock(format: str, clock: Clock) -> None:
    """A full read looks at the clock a few times (the line pass, before and after the
    scan, after parsing the times); a deadline passing at any one of them stops it there."""
    path, _ = CSV_FORMATS[format]
    read_export(path, format, limits=FAR)
    looks = clock.looks
    assert looks >= 4, looks
    where = set()
    for after in range(1, looks + 1):
        clock.after, clock.looks = after, 0
        with pytest.raises(ReadingStopped) as raised:
            read_export(path, format, limits=FAR)
        assert clock.looks == after  # stopped at that look, read nothing more
        where.add(stopped_in(raised))
    assert {"_check_line_lengths", "scan_csv", "check_frame_limits"} <= where, where


def test_the_line_pass_looks_at_the_clock_per_chunk(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_CHUNK", 64)
    path = tmp_path / "t.csv"
    path.write_text(HEADER + rows(50))  # 50 lines of 40 bytes: 30+ chunks
    clock.after = 5
    with pytest.raises(ReadingStopped) as raised:
        read_export(path, "generic", limits=FAR)
    assert stopped_in(raised) == "_check_line_lengths"


def test_gzip_stops_inside_its_decompression(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_CHUNK", 256)
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress((HEADER + rows(200)).encode()))  # 8 KB: 30+ chunks
    assert read_export(path, "generic", limits=FAR).tickets.height == 200
    chunks = clock.looks
    assert chunks > 60  # once per chunk, in each of the two passes
    for after in (3, chunks // 2 + 3):  # in the counting pass, then in the spilling pass
        clock.after, clock.looks = after, 0
        with pytest.raises(ReadingStopped) as raised:
            read_export(path, "generic", limits=FAR)
        assert stopped_in(raised) == "_inflate"
    with pytest.raises(ReadingStopped):
        read_export(path, "generic", limits=PASSED)  # an already passed deadline: at once


def test_holds_stop_too(clock: Clock) -> None:
    tickets = read_export(FIXTURES / "generic_tickets.csv", "generic").tickets
    holds = FIXTURES / "generic_holds.csv"
    read_holds_csv(holds, tickets=tickets, limits=FAR)
    looks = clock.looks
    for after in range(1, looks + 1):
        clock.after, clock.looks = after, 0
        with pytest.raises(ReadingStopped):
            read_holds_csv(holds, tickets=tickets, limits=FAR)


def _workbook(path: Path, n: int) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(SN)
    for i in range(n):
        wb.active.append([f"INC{i}", "2 - High", "2025-03-03 09:00:00", None, "Desk"])
    wb.save(path)
    return path


def test_a_workbook_stops_in_its_xml_scan_and_in_its_rows(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _workbook(tmp_path / "t.xlsx", 100)
    with pytest.raises(ReadingStopped):
        read_export(path, limits=PASSED)
    assert read_export(path, limits=FAR).tickets.height == 100

    monkeypatch.setattr(workbook, "_CHUNK", 512)  # the sheet's XML in many chunks
    clock.looks = 0
    read_export(path, limits=FAR)
    scan = clock.looks
    clock.after, clock.looks = 10, 0
    with pytest.raises(ReadingStopped) as raised:
        read_export(path, limits=FAR)
    assert stopped_in(raised) == "_check_part"

    monkeypatch.setattr(workbook, "ROWS_PER_CHECK", 7)  # a look every 8 rows
    clock.after, clock.looks = None, 0
    read_export(path, limits=FAR)
    assert clock.looks >= scan + 100 // 8
    clock.after, clock.looks = clock.looks - 5, 0  # a few looks before the end: in the rows
    with pytest.raises(ReadingStopped) as raised:
        read_export(path, limits=FAR)
    assert stopped_in(raised) == "read_xlsx"


def test_the_ragged_row_search_looks_at_the_clock(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After Polars refuses a ragged file, the csv module looks for the row: a look at the
    clock every ``ROWS_PER_CHECK + 1`` rows."""
    monkeypatch.setattr(sources, "ROWS_PER_CHECK", 3)
    path = tmp_path / "t.csv"
    path.write_text(HEADER + rows(40) + "T99,P2,2025-03-03T09:00:00Z,,,Desk,extra\n")
    with pytest.raises(IngestError, match="row 42: this row has 7 fields"):
        read_export(path, "generic", limits=FAR)
    looks = clock.looks
    clock.after, clock.looks = looks - 2, 0
    with pytest.raises(ReadingStopped) as raised:
        read_export(path, "generic", limits=FAR)
    assert stopped_in(raised) == "_first_ragged_row"
