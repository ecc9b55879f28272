"""The real, anonymised ServiceNow event log (UCI, Amaral, Fantinato and Peres, CC BY 4.0).

It lives beside the clone in ``../shared/data/`` and is read from its zip; the tests skip
when it is missing.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from tandem.ingest import Imported, read_servicenow_events

ZIP = (
    Path(__file__).resolve().parents[4]
    / ".."
    / "shared"
    / "data"
    / "uci-incident-event-log"
    / "incident_event_log.zip"
)


@pytest.fixture(scope="module")
def log() -> Iterator[Imported]:
    if not ZIP.is_file():
        pytest.skip(f"the UCI incident event log is not at {ZIP} (see shared/data/README)")
    started = time.perf_counter()
    with zipfile.ZipFile(ZIP) as z, z.open("incident_event_log.csv") as f:
        imported = read_servicenow_events(f, file_name="incident_event_log.csv")
    assert time.perf_counter() - started < 20
    yield imported


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def test_counts(log: Imported) -> None:
    assert log.rows_read == 141_712
    assert log.tickets.height == 24_918
    assert log.tickets["ticket_id"].n_unique() == 24_918
    mix = dict(log.tickets.group_by("priority").len().sort("priority").iter_rows())
    assert mix == {"P1": 270, "P2": 408, "P3": 23_466, "P4": 774}  # mostly moderate (P3)
    assert log.tickets["resolved_at"].null_count() == 1_556  # as the README says
    assert log.tickets["closed_at"].null_count() == 0
    assert log.tickets["responded_at"].null_count() == 0
    assert log.holds.height == 6_231
    assert log.holds["ticket_id"].n_unique() == 5_818
    assert log.holds["end"].null_count() == 0
    assert log.extras is not None
    assert dict(log.extras.group_by("made_sla").len().iter_rows()) == {True: 15_803, False: 9_115}
    assert log.warnings == [
        "incident_state: 5 event(s) with unknown state '-100' (first on row 115643) are "
        "ignored for holds and response"
    ]


def test_no_free_text(log: Imported) -> None:
    # caller_id, opened_by, assigned_to ... are not kept
    assert "Caller" not in str(log.tickets.head(100).rows())


def ticket(log: Imported, number: str) -> dict[str, object]:
    return log.tickets.filter(pl.col("ticket_id") == number).row(0, named=True)


def holds_of(log: Imported, number: str) -> list[tuple[datetime, datetime | None]]:
    return log.holds.filter(pl.col("ticket_id") == number).select("start", "end").rows()


def test_incident_with_hold_open_until_closed(log: Imported) -> None:
    # Raw rows (state, sys_updated_at): New 15/2/2017 11:58, Active 14:15, Active 14:53,
    # Active 16:44, Awaiting User Info 16:44, Closed 16/2/2017 09:51; opened_at 15/2/2017
    # 11:58, resolved_at ?, closed_at 16/2/2017 09:51, 3 - Moderate, made_sla true.
    t = ticket(log, "INC0120495")
    assert t["opened_at"] == at("2017-02-15 11:58:00")
    assert t["responded_at"] == at("2017-02-15 14:15:00")
    assert t["resolved_at"] is None
    assert t["closed_at"] == at("2017-02-16 09:51:00")
    assert (t["priority"], t["priority_raw"]) == ("P3", "3 - Moderate")
    assert holds_of(log, "INC0120495") == [(at("2017-02-15 16:44:00"), at("2017-02-16 09:51:00"))]


def test_incident_whose_priority_changes(log: Imported) -> None:
    # Awaiting User Info 2/3/2016 10:20 (3 - Moderate), again 3/3 10:18 and 11/3 10:49
    # (1 - Critical), Resolved 30/3/2016 16:23, Closed 4/4/2016 16:59 (made_sla false).
    t = ticket(log, "INC0001112")
    assert (t["priority"], t["priority_raw"]) == ("P1", "1 - Critical")  # the last event's
    assert t["opened_at"] == at("2016-03-02 10:20:00")
    assert t["responded_at"] == at("2016-03-02 10:20:00")  # its first event is not New
    assert t["resolved_at"] == at("2016-03-30 16:23:00")
    assert t["closed_at"] == at("2016-04-04 16:59:00")
    assert holds_of(log, "INC0001112") == [(at("2016-03-02 10:20:00"), at("2016-03-30 16:23:00"))]


def test_incident_moving_between_awaiting_states(log: Imported) -> None:
    # New 7/3/2016 09:31, 8/3 11:34, 9/3 16:03; Awaiting Problem 9/3 16:52; Awaiting User
    # Info 11/3 16:40, 17/3 08:36, 22/3 16:00; Resolved 23/3/2016 14:46; Closed 28/3 14:59.
    t = ticket(log, "INC0003145")
    assert t["opened_at"] == at("2016-03-07 09:23:00")
    assert t["responded_at"] == at("2016-03-09 16:52:00")
    assert t["resolved_at"] == at("2016-03-23 14:46:00")
    assert t["closed_at"] == at("2016-03-28 14:59:00")
    assert holds_of(log, "INC0003145") == [(at("2016-03-09 16:52:00"), at("2016-03-23 14:46:00"))]
