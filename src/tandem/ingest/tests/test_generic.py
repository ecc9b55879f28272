from __future__ import annotations

import io

import pytest
from polars.testing import assert_frame_equal

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.ingest import IngestError, read_generic, read_holds_csv
from tandem.ingest.tests.helpers import FIXTURES, holds, tickets


def test_generic_tickets_read_exactly() -> None:
    got = read_generic(FIXTURES / "generic_tickets.csv")
    expected = tickets(
        {
            "ticket_id": "T-1", "kind": "incident", "priority": "P1", "priority_raw": "P1",
            "opened_at": "2025-03-03 08:00:00", "responded_at": "2025-03-03 08:10:30",
            "resolved_at": "2025-03-03 11:59:59", "assignment_group": "Service Desk",
            "category": "Network",
        },
        {
            "ticket_id": "T-2", "kind": "request", "priority": "P3", "priority_raw": "P3",
            "opened_at": "2025-03-03 15:15:00",
            "resolved_at": "2025-03-04 23:00:00",  # .750 dropped: whole seconds
            "assignment_group": "Northwind Apps",
        },
        {
            "ticket_id": "T-3", "kind": "other", "priority": "P4", "priority_raw": "p4",
            "opened_at": "2025-03-05 18:00:00", "responded_at": "2025-03-05 18:30:00",
            "assignment_group": "Northwind Apps", "category": "Access",
        },
        {
            "ticket_id": "T-4", "kind": "other", "opened_at": "2025-03-06 10:00:00",
            "assignment_group": "Service Desk",
        },
    )  # fmt: skip
    assert_frame_equal(got.tickets, expected)
    assert got.tickets.schema == TICKETS
    assert got.format == "generic"
    assert got.rows_read == 4
    assert got.warnings == []
    assert got.holds.schema == HOLDS and got.holds.height == 0


def test_free_text_is_dropped_unless_kept() -> None:
    got = read_generic(FIXTURES / "generic_tickets.csv")
    assert "short_description" not in got.tickets.columns
    assert "Doe" not in str(got.tickets.rows())
    kept = read_generic(FIXTURES / "generic_tickets.csv", keep_text=True)
    assert kept.tickets.columns == [*TICKETS, "short_description"]
    assert kept.tickets["short_description"][1] == "Patient J. Doe cannot log in"


def test_naive_times_read_in_chicago_across_dst() -> None:
    got = read_generic(FIXTURES / "generic_chicago.csv", timezone="America/Chicago")
    t = got.tickets
    # 22:00 CST (UTC-6) the evening before spring-forward; 04:00 CDT (UTC-5) after it.
    assert t["opened_at"].to_list()[0].isoformat() == "2025-03-09T04:00:00+00:00"
    assert t["responded_at"].to_list()[0].isoformat() == "2025-03-09T05:00:00+00:00"
    assert t["resolved_at"].to_list()[0].isoformat() == "2025-03-09T09:00:00+00:00"
    # 01:30 on fall-back day happens twice: read as the first (CDT), with a warning.
    assert t["opened_at"].to_list()[1].isoformat() == "2025-11-02T04:30:00+00:00"
    assert t["resolved_at"].to_list()[1].isoformat() == "2025-11-02T06:30:00+00:00"
    # An explicit offset settles which 01:30.
    assert t["opened_at"].to_list()[2].isoformat() == "2025-11-02T06:30:00+00:00"
    assert t["resolved_at"].to_list()[2].isoformat() == "2025-11-02T07:30:00+00:00"
    assert len(got.warnings) == 1
    assert "resolved_at: 1 time(s) occur twice in America/Chicago" in got.warnings[0]
    assert "row 3" in got.warnings[0]


def test_time_skipped_by_spring_forward_is_a_problem() -> None:
    data = "ticket_id,priority,opened_at,resolved_at\nX,P1,2025-03-09 02:30:00,\n"
    with pytest.raises(IngestError) as e:
        read_generic(io.BytesIO(data.encode()), timezone="America/Chicago", file_name="t.csv")
    assert str(e.value.problems[0]) == (
        "t.csv, row 2, column 'opened_at': '2025-03-09 02:30:00' does not exist in "
        "America/Chicago (the clocks skip that hour)"
    )


def test_column_mapping() -> None:
    data = "Ref,Prio,Opened,Fixed\nA,1,2025-01-01T00:00:00Z,2025-01-01T01:00:00Z\n"
    got = read_generic(
        io.BytesIO(data.encode()),
        mapping={
            "ticket_id": "Ref",
            "priority": "Prio",
            "opened_at": "Opened",
            "resolved_at": "Fixed",
        },
    )
    assert got.tickets.row(0, named=True)["priority"] == "P1"
    assert got.tickets["resolved_at"].to_list()[0].isoformat() == "2025-01-01T01:00:00+00:00"


def test_holds_csv() -> None:
    t = read_generic(FIXTURES / "generic_tickets.csv").tickets
    got = read_holds_csv(FIXTURES / "generic_holds.csv", tickets=t)
    expected = holds(
        ("T-1", "2025-03-03 09:00:00", "2025-03-03 09:30:00"),
        ("T-2", "2025-03-03 16:00:00", "2025-03-04 15:00:00"),
        ("T-3", "2025-03-05 19:00:00", None),
    )
    assert_frame_equal(got.holds, expected)
    assert got.tickets.height == 0 and got.tickets.schema == TICKETS
