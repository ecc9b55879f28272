"""Every kind of bad input gives a problem naming file, row, column and reason; nothing is
returned (imports are all-or-nothing)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tandem.ingest import (
    IngestError,
    Problem,
    check_size,
    read_generic,
    read_holds_csv,
    read_servicenow,
    read_servicenow_events,
)
from tandem.ingest.errors import MAX_PROBLEMS
from tandem.ingest.tests.helpers import FIXTURES

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group\n"


def problems_of(text: str | bytes, reader=read_generic, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(IngestError) as e:
        reader(io.BytesIO(data), file_name="t.csv", **kw)
    return [str(p) for p in e.value.problems]


def test_unparseable_and_invalid_timestamps() -> None:
    found = problems_of(
        HEADER
        + "A,P1,yesterday,,,G\n"
        + "B,P1,2025-02-30T10:00:00Z,,,G\n"
        + "C,P1,2025-03-01T10:00:00Z,,03/01/2025 11:00,G\n"
    )
    # first, one problem per column naming its bad rows and what would read them
    no_format = (
        "No common date format reads every timestamp in the file (of its 4 timestamps, "
        "'iso' 1, 'dd/mm/yyyy' 1, 'mm/dd/yyyy' 1). Fix those rows, or give the date format "
        "as a strftime pattern such as %d/%m/%Y %H:%M."
    )
    iso = "with the file's date format (ISO 8601, e.g. 2025-03-01T09:00:00Z)"
    assert found[:2] == [
        f"t.csv, row 2, column 'opened_at': 2 values cannot be read {iso}: row 2 'yesterday'; "
        f"row 3 '2025-02-30T10:00:00Z'. {no_format}",
        f"t.csv, row 4, column 'resolved_at': 1 value cannot be read {iso}: "
        f"row 4 '03/01/2025 11:00'. {no_format}",
    ]
    assert found[2:] == [
        "t.csv, row 2, column 'opened_at': cannot read 'yesterday' as a timestamp "
        "(ISO 8601, e.g. 2025-03-01T09:00:00Z)",
        "t.csv, row 3, column 'opened_at': '2025-02-30T10:00:00Z' is not a valid date and time",
        "t.csv, row 4, column 'resolved_at': cannot read '03/01/2025 11:00' as a timestamp "
        "(ISO 8601, e.g. 2025-03-01T09:00:00Z)",
    ]


def test_resolved_before_opened() -> None:
    assert problems_of(HEADER + "A,P1,2025-03-01T10:00:00Z,,2025-03-01T09:59:59Z,G\n") == [
        "t.csv, row 2, column 'resolved_at': resolved at 2025-03-01 09:59:59 UTC is before "
        "opened at 2025-03-01 10:00:00 UTC"
    ]


def test_unknown_priority() -> None:
    assert problems_of(HEADER + "A,urgent,2025-03-01T10:00:00Z,,,G\n") == [
        "t.csv, row 2, column 'priority': unknown priority 'urgent' (expected P1-P4)"
    ]
    # ... unless mapped
    got = read_generic(
        io.BytesIO((HEADER + "A,urgent,2025-03-01T10:00:00Z,,,G\n").encode()),
        priority_map={"Urgent": "P1"},
    )
    assert got.tickets["priority"].to_list() == ["P1"]


def test_duplicate_ticket_ids() -> None:
    row = "A,P1,2025-03-01T10:00:00Z,,,G\n"
    assert problems_of(HEADER + row + "B,P2,2025-03-01T10:00:00Z,,,G\n" + row) == [
        "t.csv, row 4, column 'ticket_id': duplicate ticket id 'A' (first on row 2)"
    ]


def test_missing_required_values() -> None:
    assert problems_of(HEADER + ",P1,2025-03-01T10:00:00Z,,,G\nB,P1,,,,G\n") == [
        "t.csv, row 2, column 'ticket_id': the ticket id is missing",
        "t.csv, row 3, column 'opened_at': the opened time is missing",
    ]


def test_all_problems_are_reported_and_the_message_is_capped() -> None:
    rows = "".join(f"T{i},P9,2025-03-01T10:00:00Z,,,G\n" for i in range(30))
    with pytest.raises(IngestError) as e:
        read_generic(io.BytesIO((HEADER + rows).encode()), file_name="t.csv")
    assert len(e.value.problems) == 30
    text = str(e.value)
    assert text.startswith("30 problems found; nothing was imported\n")
    assert "t.csv, row 21, column 'priority'" in text
    assert "row 22," not in text
    assert text.endswith("... and 10 more (row numbers count the header as row 1)")


def test_problem_collection_stops_at_the_cap() -> None:
    rows = "".join(f"T{i},P9,2025-03-01T10:00:00Z,,,G\n" for i in range(MAX_PROBLEMS + 50))
    with pytest.raises(IngestError) as e:
        read_generic(io.BytesIO((HEADER + rows).encode()), file_name="t.csv")
    assert len(e.value.problems) == MAX_PROBLEMS and e.value.truncated
    assert str(e.value).startswith(f"{MAX_PROBLEMS}+ problems found")


def test_holds_end_before_start_or_outside_their_ticket() -> None:
    t = read_generic(FIXTURES / "generic_tickets.csv").tickets
    assert problems_of(
        "ticket_id,start,end\n"
        "T-1,2025-03-03T10:00:00Z,2025-03-03T09:00:00Z\n"  # ends before it starts
        "T-9,2025-03-03T10:00:00Z,\n"  # no such ticket
        "T-1,2025-03-03T07:00:00Z,2025-03-03T09:00:00Z\n"  # before T-1 opened (08:00)
        "T-1,2025-03-03T11:00:00Z,2025-03-03T12:30:00Z\n",  # after T-1 resolved (11:59:59)
        read_holds_csv,
        tickets=t,
    ) == [
        "t.csv, row 2, column 'end': hold ends at 2025-03-03 09:00:00 UTC, before it starts "
        "(2025-03-03 10:00:00 UTC)",
        "t.csv, row 3, column 'ticket_id': hold for ticket 'T-9', which is not among the tickets",
        "t.csv, row 4, column 'start': hold starts at 2025-03-03 07:00:00 UTC, before its "
        "ticket opened (2025-03-03 08:00:00 UTC)",
        "t.csv, row 5, column 'end': hold ends at 2025-03-03 12:30:00 UTC, after its ticket "
        "was resolved (2025-03-03 11:59:59 UTC)",
    ]


def test_empty_files() -> None:
    assert problems_of(b"") == ["t.csv: the file is empty (0 bytes)"]
    assert problems_of(HEADER) == ["t.csv: the file has a header but no data rows"]
    assert problems_of(b"", read_servicenow_events) == ["t.csv: the file is empty (0 bytes)"]


def test_wrong_format() -> None:
    jira = (FIXTURES / "jira.csv").read_bytes()
    assert problems_of(jira, read_servicenow) == [
        "t.csv, row 1, column 'Number': column 'Number' not found; this looks like a Jira "
        "Service Management export (format 'jira')",
        "t.csv, row 1, column 'Opened': column 'Opened' not found; this looks like a Jira "
        "Service Management export (format 'jira')",
    ]
    events = (FIXTURES / "servicenow_events.csv").read_bytes()
    assert problems_of(events, read_generic)[0] == (
        "t.csv, row 1, column 'ticket_id': column 'ticket_id' not found; this looks like a "
        "ServiceNow event-log export (format 'servicenow-events')"
    )
    assert problems_of("a;b;c\n1;2;3\n")[0] == (
        "t.csv, row 1, column 'ticket_id': column 'ticket_id' not found; "
        "is this a comma-separated file?"
    )


def test_binary_junk() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert problems_of(png) == ["t.csv: not a text file (binary data: NUL bytes)"]
    assert problems_of(bytes(range(128, 256)) * 8) == [
        "t.csv: not UTF-8 text (byte 0): export the file as UTF-8 CSV"
    ]
    xlsx_as_csv = b"PK\x03\x04" + b"\x14" * 100
    assert problems_of(xlsx_as_csv) == ["t.csv: this is an XLSX workbook, not a CSV file"]
    assert problems_of(xlsx_as_csv, read_servicenow)[0].startswith(
        "t.csv: not a readable XLSX workbook"
    )


def test_ragged_csv() -> None:
    # Polars refuses the unclosed quote; the csv module then finds the row to name
    assert problems_of(HEADER + 'A,P1,2025-03-01T10:00:00Z,,,G,extra,"more\n') == [
        "t.csv, row 2: this row has 8 fields, the header 6"
    ]


def test_unknown_time_zone() -> None:
    assert problems_of(HEADER, timezone="Mars/Olympus") == [
        "t.csv: unknown time zone 'Mars/Olympus'"
    ]


def test_event_log_bad_update_time() -> None:
    events = (FIXTURES / "servicenow_events.csv").read_text()
    broken = events.replace("3/3/2025 09:00,Category 1", "3/3/2025 9h,Category 1")
    found = problems_of(broken, read_servicenow_events)
    assert found[0].startswith(
        "t.csv, row 4, column 'sys_updated_at': 1 value cannot be read with the file's date "
        "format (dd/MM/yyyy HH:mm:ss): row 4 '3/3/2025 9h'. No common date format reads"
    )
    assert found[1:] == [
        "t.csv, row 4, column 'sys_updated_at': cannot read '3/3/2025 9h' as a timestamp "
        "(dd/MM/yyyy HH:mm:ss)"
    ]


def test_check_size(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2_000)
    check_size(path, 2_000)
    with pytest.raises(IngestError) as e:
        check_size(path, 1_000)
    assert e.value.problems == [
        Problem(
            "big.csv",
            None,
            None,
            "file is 2,000 bytes, over the limit of 1,000 bytes; split the export (for "
            "example by month) and import the parts",
        )
    ]
