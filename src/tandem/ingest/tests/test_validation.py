"""What storing would refuse is refused when the file is read, by every reader, naming file,
row and column: text over its database column, NUL characters, negative counts, offsets
beyond ±14:00, years outside 1990-2100. And what storing accepts reads as before."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tandem.ingest import IngestError, read_export
from tandem.ingest.validation import YEARS

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group,category,"
HEADER += "reassignment_count,reopen_count\n"
GOOD = "T1,P2,2025-03-03T09:00:00Z,,2025-03-03T11:00:00Z,Desk,Email,0,1\n"


def problems(*rows: str, text: str = HEADER) -> list[str]:
    data = (text + GOOD + "".join(rows)).encode()
    with pytest.raises(IngestError) as raised:
        read_export(io.BytesIO(data), "generic", file_name="t.csv")
    return [str(p) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            f"{'X' * 101},P2,2025-03-03T09:00:00Z,,,Desk,Email,0,1\n",
            "t.csv, row 3, column 'ticket_id': 101 characters, over the limit of 100 for ticket_id",
        ),
        (
            f"T2,P2,2025-03-03T09:00:00Z,,,{'é' * 201},Email,0,1\n",
            "t.csv, row 3, column 'assignment_group': 201 characters, over the limit of 200 "
            "for assignment_group",
        ),
        (
            f"T2,P2,2025-03-03T09:00:00Z,,,Desk,{'c' * 201},0,1\n",
            "t.csv, row 3, column 'category': 201 characters, over the limit of 200 for category",
        ),
        (
            "T2,P2,2025-03-03T09:00:00Z,,,Desk,Email,-1,1\n",
            "t.csv, row 3, column 'reassignment_count': '-1' is negative: a count is never below 0",
        ),
        (
            "T2,P2,2025-03-03T09:00:00Z,,,Desk,Email,0,-1\n",
            "t.csv, row 3, column 'reopen_count': '-1' is negative: a count is never below 0",
        ),
        (
            "T2,P2,2025-03-03T09:00:00+25:00,,,Desk,Email,0,1\n",
            "t.csv, row 3, column 'opened_at': '2025-03-03T09:00:00+25:00' has a UTC offset "
            "beyond ±14:00",
        ),
        (
            "T2,P2,2025-03-03 09:00:00 -1401,,,Desk,Email,0,1\n",
            "t.csv, row 3, column 'opened_at': '2025-03-03 09:00:00 -1401' has a UTC offset "
            "beyond ±14:00",
        ),
        (
            "T2,P2,2025-03-03T09:00:00+05:60,,,Desk,Email,0,1\n",
            "t.csv, row 3, column 'opened_at': '2025-03-03T09:00:00+05:60' has a UTC offset "
            "beyond ±14:00",
        ),
        (
            "T2,P2,1989-12-31T23:59:59Z,,,Desk,Email,0,1\n",
            "t.csv, row 3, column 'opened_at': '1989-12-31T23:59:59Z' is outside the years "
            "1990-2100",
        ),
        (
            "T2,P2,2025-03-03T09:00:00Z,,2101-01-01T00:00:00Z,Desk,Email,0,1\n",
            "t.csv, row 3, column 'resolved_at': '2101-01-01T00:00:00Z' is outside the years "
            "1990-2100",
        ),
        (
            "T2,P2,2025-03-03T09:00:00Z,,,Desk,Email,0,1,extra\n",
            "t.csv, row 3: this row has 10 fields, the header 9",
        ),
    ],
    ids=[
        "id over 100",
        "group over 200 (characters, not bytes)",
        "category over 200",
        "negative reassignments",
        "negative reopens",
        "+25:00",
        "-14:01 without a colon",
        "minutes past 59",
        "1989",
        "2101",
        "ragged row",
    ],
)
def test_what_storing_refuses_is_refused_with_row_and_column(row: str, expected: str) -> None:
    assert problems(row) == [expected]


def test_nul_past_the_sniffed_head() -> None:
    """A NUL in the first 64 KiB makes the file binary; past it, the value is named."""
    padding = "".join(f"P{i},P2,2025-03-03T09:00:00Z,,,Desk,Email,0,1\n" for i in range(2_000))
    assert problems(padding + "T2,P2,2025-03-03T09:00:00Z,,,De\x00sk,Email,0,1\n") == [
        "t.csv, row 2003, column 'assignment_group': the value holds a NUL character"
    ]


def test_the_edges_are_accepted() -> None:
    rows = (
        f"{'X' * 100},P2,1990-01-01T00:00:00Z,,,{'é' * 200},{'c' * 200},0,0\n"
        "T3,P2,2025-03-03T09:00:00+14:00,,2100-12-31T23:59:59Z,Desk,Email,2147483647,0\n"
        "T4,P2,2025-03-03T09:00:00-14:00,,,Desk,Email,,\n"
    )
    got = read_export(io.BytesIO((HEADER + GOOD + rows).encode()), "generic")
    assert got.tickets.height == 4


def test_every_reader_applies_the_rules() -> None:
    """The rules live in the steps all readers share: a ServiceNow list, a Jira export and
    a GLPI export refuse a year out of range and an over-long group the same way."""
    servicenow = (
        "Number,Priority,Opened,Resolved,Assignment group\n"
        f"INC1,1 - Critical,2025-03-03 09:00:00,,{'G' * 201}\n"
        "INC2,1 - Critical,1899-03-03 09:00:00,,Desk\n"
    )
    jira = "Issue key,Priority,Created,Resolved\nSD-1,High,12/Mar/1989 3:04 PM,\n"
    glpi = "id,date,priority,Assigned to - Group,waiting_duration\n1,2025-03-03 09:00:00,3,D,-5\n"
    found = {}
    for fmt, text in (("servicenow", servicenow), ("jira", jira), ("glpi", glpi)):
        with pytest.raises(IngestError) as raised:
            read_export(io.BytesIO(text.encode()), fmt, file_name=f"{fmt}.csv")
        found[fmt] = [str(p) for p in raised.value.problems]
    assert found["servicenow"] == [
        "servicenow.csv, row 3, column 'Opened': '1899-03-03 09:00:00' is outside the years "
        "1990-2100",
        "servicenow.csv, row 2, column 'Assignment group': 201 characters, over the limit of "
        "200 for assignment_group",
    ]
    assert found["jira"] == [
        "jira.csv, row 2, column 'Created': '12/Mar/1989 3:04 PM' is outside the years 1990-2100"
    ]
    assert found["glpi"] == [
        "glpi.csv, row 2, column 'waiting_duration': '-5' is negative: a count is never below 0"
    ]


@given(
    st.integers(0, 23),
    st.integers(0, 99),
    st.sampled_from("+-"),
    st.booleans(),
)
def test_offsets_are_refused_exactly_beyond_fourteen_hours(
    hours: int, minutes: int, sign: str, colon: bool
) -> None:
    offset = f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"
    text = HEADER + f"T1,P2,2025-06-03T09:00:00{offset},,,Desk,Email,0,1\n"
    allowed = minutes <= 59 and hours * 60 + minutes <= 14 * 60
    try:
        got = read_export(io.BytesIO(text.encode()), "generic", file_name="t.csv")
    except IngestError as e:
        assert not allowed
        assert [p.reason for p in e.problems] == [
            f"'2025-06-03T09:00:00{offset}' has a UTC offset beyond ±14:00"
        ]
    else:
        assert allowed
        east = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
        expected = 9 * 3600 - east * 60
        opened = got.tickets["opened_at"][0]
        assert opened.hour * 3600 + opened.minute * 60 == expected % 86_400


@given(st.integers(1000, 9999))
def test_years_are_refused_exactly_outside_the_range(year: int) -> None:
    text = HEADER + f"T1,P2,{year:04d}-06-03T09:00:00Z,,,Desk,Email,0,1\n"
    try:
        read_export(io.BytesIO(text.encode()), "generic", file_name="t.csv")
    except IngestError as e:
        assert not YEARS[0] <= year <= YEARS[1]
        assert [str(p) for p in e.problems] == [
            f"t.csv, row 2, column 'opened_at': '{year:04d}-06-03T09:00:00Z' is outside the "
            "years 1990-2100"
        ]
    else:
        assert YEARS[0] <= year <= YEARS[1]
