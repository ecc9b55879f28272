from __future__ import annotations

from polars.testing import assert_frame_equal

from tandem.ingest import read_servicenow_events
from tandem.ingest.tests.helpers import FIXTURES, holds, tickets


def test_event_log_gives_one_ticket_per_incident() -> None:
    got = read_servicenow_events(FIXTURES / "servicenow_events.csv")
    expected = tickets(
        {
            # the last event's values: priority raised to 2 - High, group B
            "ticket_id": "INC9000001", "kind": "incident", "priority": "P2",
            "priority_raw": "2 - High", "opened_at": "2025-03-03 08:00:00",
            "responded_at": "2025-03-03 08:20:00",  # first event no longer New
            "resolved_at": "2025-03-04 12:00:00", "closed_at": "2025-03-09 12:00:00",
            "assignment_group": "Group B", "category": "Category 1",
            "reassignment_count": 1, "reopen_count": 0,
        },
        {
            # events out of order in the file; the New event logged before opened_at
            "ticket_id": "INC9000002", "kind": "incident", "priority": "P1",
            "priority_raw": "1 - Critical", "opened_at": "2025-03-13 10:00:00",
            "responded_at": "2025-03-13 10:30:00", "assignment_group": "Group A",
            "reassignment_count": 0, "reopen_count": 0,
        },
        {
            "ticket_id": "INC9000003", "kind": "incident", "priority": "P4",
            "priority_raw": "4 - Low", "opened_at": "2025-03-14 10:00:00",
            "responded_at": "2025-03-14 11:00:00", "closed_at": "2025-03-15 10:00:00",
            "category": "Category 2", "reassignment_count": 0, "reopen_count": 0,
        },
    )  # fmt: skip
    assert_frame_equal(got.tickets, expected)
    assert got.rows_read == 12
    assert got.format == "servicenow-events"


def test_event_log_holds() -> None:
    got = read_servicenow_events(FIXTURES / "servicenow_events.csv")
    expected = holds(
        # Awaiting User Info then Awaiting Vendor: one hold, ended by the next Active event
        ("INC9000001", "2025-03-03 09:00:00", "2025-03-03 13:00:00"),
        # awaiting at the last (non-junk) event, neither resolved nor closed: still open
        ("INC9000002", "2025-03-13 10:30:00", None),
        # awaiting at the last event, not resolved: ends when closed
        ("INC9000003", "2025-03-14 11:00:00", "2025-03-15 10:00:00"),
    )
    assert_frame_equal(got.holds, expected)


def test_event_log_extras_and_junk_states() -> None:
    got = read_servicenow_events(FIXTURES / "servicenow_events.csv")
    assert got.extras is not None
    assert got.extras.rows() == [("INC9000001", False), ("INC9000002", True), ("INC9000003", True)]
    assert got.warnings == [
        "incident_state: 1 event(s) with unknown state '-100' (first on row 11) are ignored "
        "for holds and response"
    ]


def test_event_log_in_a_time_zone() -> None:
    got = read_servicenow_events(FIXTURES / "servicenow_events.csv", timezone="Europe/Lisbon")
    # March 2025 in Lisbon is UTC+0 until the 30th: the same instants.
    assert got.tickets["opened_at"].to_list()[0].isoformat() == "2025-03-03T08:00:00+00:00"
    got = read_servicenow_events(FIXTURES / "servicenow_events.csv", timezone="Asia/Kolkata")
    assert got.tickets["opened_at"].to_list()[0].isoformat() == "2025-03-03T02:30:00+00:00"
