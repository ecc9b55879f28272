"""The ServiceNow list, Jira and GLPI readers on hand-made exports."""

from __future__ import annotations

import io

import openpyxl  # type: ignore[import-untyped]
import pytest
from polars.testing import assert_frame_equal

from tandem.analytics.frames import TICKETS
from tandem.ingest import IngestError, detect_format, read_glpi, read_jira, read_servicenow
from tandem.ingest.tests.helpers import FIXTURES, holds, tickets

SN_EXPECTED = tickets(
    {
        "ticket_id": "INC0010001", "kind": "incident", "priority": "P1",
        "priority_raw": "1 - Critical", "opened_at": "2025-03-03 14:00:00",
        "resolved_at": "2025-03-03 15:30:15", "closed_at": "2025-03-05 16:00:00",
        "assignment_group": "Biomed Desk", "category": "Hardware",
        "reassignment_count": 2, "reopen_count": 0,
    },
    {
        "ticket_id": "INC0010002", "kind": "incident", "priority": "P3",
        "priority_raw": "3 - Moderate", "opened_at": "2025-03-04 19:45:00",
        "resolved_at": "2025-03-06 14:00:00", "assignment_group": "Northwind Network",
        "category": "Network", "reassignment_count": 0, "reopen_count": 1,
    },
    {
        "ticket_id": "INC0010003", "kind": "incident", "priority": None,
        "priority_raw": "5 - Planning", "opened_at": "2025-03-05 13:00:00",
        "assignment_group": "Northwind Apps", "category": "Software",
        "reassignment_count": 1024, "reopen_count": 0,
    },
)  # fmt: skip


def test_servicenow_list_csv() -> None:
    got = read_servicenow(FIXTURES / "servicenow_list.csv", timezone="America/Chicago")
    assert_frame_equal(got.tickets, SN_EXPECTED)
    assert got.warnings == [
        "Priority: 1 ticket(s) have priority '5 - Planning' (first on row 4), which is none "
        "of P1-P4: their priority is left empty and no priority target applies"
    ]
    assert "Smith" not in str(got.tickets.rows()) and "Berg" not in str(got.tickets.rows())


def test_servicenow_list_xlsx(tmp_path: pytest.TempPathFactory) -> None:
    import csv
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    with (FIXTURES / "servicenow_list.csv").open() as f:
        for i, row in enumerate(csv.reader(f)):
            cells: list[object] = [v or None for v in row]
            if i == 1:  # a real Excel date cell, as ServiceNow writes them
                cells[1] = dt.datetime(2025, 3, 3, 8, 0, 0)
            ws.append(cells)
    path = tmp_path / "incidents.xlsx"  # type: ignore[operator]
    wb.save(path)
    got = read_servicenow(path, timezone="America/Chicago")
    assert_frame_equal(got.tickets, SN_EXPECTED)
    assert detect_format(path) == "servicenow"
    with path.open("rb") as f:
        assert detect_format(f.read(100), "incidents.xlsx") == "servicenow"


def test_servicenow_day_first_and_month_first_are_detected() -> None:
    dmy = read_servicenow(FIXTURES / "servicenow_list_dmy.csv").tickets
    mdy = read_servicenow(FIXTURES / "servicenow_list_mdy.csv").tickets
    for t in (dmy, mdy):
        assert t["opened_at"].dt.strftime("%F %T").to_list() == [
            "2025-03-03 08:00:00",
            "2025-03-04 09:00:00",
        ]
        assert t["resolved_at"].dt.strftime("%F %T").to_list()[0] == "2025-03-13 09:00:00"
        assert t["priority"].to_list() == ["P2", "P4"]


def test_servicenow_ambiguous_dates_are_refused() -> None:
    data = "Number,Opened,Priority\nINC1,03-04-2025 08:00:00,2 - High\n"
    with pytest.raises(IngestError) as e:
        read_servicenow(io.BytesIO(data.encode()), file_name="sn.csv")
    assert [str(p) for p in e.value.problems] == [
        "sn.csv, row 2, column 'Opened': the dates are ambiguous: 'dd-mm-yyyy' and "
        "'mm-dd-yyyy' read every timestamp in the file, differently (1 value read as different "
        "dates: row 2 '03-04-2025 08:00:00'; the first is 03 April 2025 as 'dd-mm-yyyy', "
        "04 March 2025 as 'mm-dd-yyyy'). Choose the date format: 'dd-mm-yyyy' or 'mm-dd-yyyy'."
    ]
    assert e.value.dates is not None and e.value.dates.ambiguous
    assert e.value.dates.readable == ("dd-mm-yyyy", "mm-dd-yyyy")
    got = read_servicenow(io.BytesIO(data.encode()), date_format="MM-dd-yyyy HH:mm:ss")
    assert got.tickets["opened_at"].dt.strftime("%F").to_list() == ["2025-03-04"]
    for choice in ("dd-mm-yyyy", "%d-%m-%Y %H:%M:%S"):
        got = read_servicenow(io.BytesIO(data.encode()), date_format=choice)
        assert got.tickets["opened_at"].dt.strftime("%F").to_list() == ["2025-04-03"]


def test_jira() -> None:
    got = read_jira(FIXTURES / "jira.csv", timezone="Europe/London")
    expected = tickets(
        {
            "ticket_id": "ITS-101", "kind": "incident", "priority": "P1",
            "priority_raw": "Highest", "opened_at": "2024-03-12 15:04:00",
            "resolved_at": "2024-03-12 17:30:00", "category": "Desktop",
        },
        {
            "ticket_id": "ITS-102", "kind": "request", "priority": "P3",
            "priority_raw": "Medium", "opened_at": "2024-03-10 23:59:00",
            "resolved_at": "2024-03-11 00:15:00",  # 12:15 AM is just after midnight
        },
        {
            # 12:00 PM is noon; 1 April is British Summer Time (UTC+1)
            "ticket_id": "ITS-103", "kind": "other", "priority": "P4",
            "priority_raw": "Lowest", "opened_at": "2024-04-01 11:00:00", "category": "Network",
        },
    )  # fmt: skip
    assert_frame_equal(got.tickets, expected)
    assert "boot" not in str(got.tickets.rows())
    kept = read_jira(FIXTURES / "jira.csv", keep_text=True)
    assert kept.tickets["short_description"][0] == "Ward 3 PC does not boot"


def test_glpi() -> None:
    got = read_glpi(FIXTURES / "glpi.csv", timezone="Europe/Paris")
    expected = tickets(
        {
            "ticket_id": "17", "kind": "incident", "priority": "P1", "priority_raw": "6",
            "opened_at": "2024-05-02 06:15:00", "resolved_at": "2024-05-02 09:00:00",
            "closed_at": "2024-05-03 09:00:00", "category": "12",
        },
        {
            "ticket_id": "18", "kind": "request", "priority": "P4", "priority_raw": "2",
            "opened_at": "2024-05-02 08:00:00", "category": "3",
        },
        {
            "ticket_id": "19", "kind": "incident", "priority": "P3", "priority_raw": "3",
            "opened_at": "2024-05-03 12:00:00", "resolved_at": "2024-05-03 13:00:00",
        },
    )  # fmt: skip
    assert_frame_equal(got.tickets, expected)
    assert_frame_equal(
        got.holds,
        holds(
            ("17", "2024-05-02 07:00:00", "2024-05-02 07:30:00"),  # 1800 s of waiting
            ("18", "2024-05-02 08:30:00", None),  # waiting now
        ),
    )
    assert "patient" not in str(got.tickets.rows())


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("generic_tickets.csv", "generic"),
        ("servicenow_list.csv", "servicenow"),
        ("servicenow_list_dmy.csv", "servicenow"),
        ("servicenow_events.csv", "servicenow-events"),
        ("jira.csv", "jira"),
        ("glpi.csv", "glpi"),
    ],
)
def test_detect_format(fixture: str, expected: str) -> None:
    assert detect_format(FIXTURES / fixture) == expected
    head = (FIXTURES / fixture).read_bytes()[:200]
    assert detect_format(head, fixture) == expected


def test_detect_format_refuses_unknown_headers() -> None:
    with pytest.raises(IngestError) as e:
        detect_format(b"foo,bar\n1,2\n", "x.csv")
    assert str(e.value.problems[0]).startswith(
        "x.csv, row 1: cannot tell which export this is from its header ('foo', 'bar')"
    )


def test_every_reader_gives_the_canonical_schema() -> None:
    for frame in (
        read_jira(FIXTURES / "jira.csv").tickets,
        read_glpi(FIXTURES / "glpi.csv").tickets,
        read_servicenow(FIXTURES / "servicenow_list.csv").tickets,
    ):
        assert frame.schema == TICKETS


@pytest.mark.parametrize(
    "fixture",
    ["generic_tickets.csv", "servicenow_list.csv", "servicenow_events.csv", "jira.csv", "glpi.csv"],
)
def test_read_export_detects_the_format(fixture: str) -> None:
    from tandem.ingest import read_export

    by_path = read_export(FIXTURES / fixture)
    with (FIXTURES / fixture).open("rb") as f:
        by_stream = read_export(f, timezone="UTC")
    assert_frame_equal(by_path.tickets, by_stream.tickets)
    assert by_path.format == detect_format(FIXTURES / fixture)
    with pytest.raises(IngestError, match="unknown format 'csv'"):
        read_export(FIXTURES / fixture, "csv")
