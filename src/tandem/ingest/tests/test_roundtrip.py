"""Canonical tickets written as a generic CSV read back unchanged."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tandem.analytics.frames import TICKETS
from tandem.ingest import read_generic
from tandem.ingest._common import MISSING

TEXT = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", categories=("L", "N", "P", "Zs"), exclude_characters="\r\n"
        ),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(lambda s: s != "" and s not in MISSING)
)
# within the years validation accepts (1990-2100), 400 days of later instants included
INSTANT = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
LATER = st.one_of(st.none(), st.integers(0, 400 * 86_400))


@st.composite
def ticket_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    ids = draw(st.lists(TEXT, min_size=1, max_size=20, unique=True))
    rows: list[dict[str, object]] = []
    for tid in ids:
        opened = draw(INSTANT)
        later = [draw(LATER) for _ in range(3)]
        priority = draw(st.sampled_from([None, "P1", "P2", "P3", "P4"]))
        rows.append(
            {
                "ticket_id": tid,
                "kind": draw(st.sampled_from(["incident", "request", "other"])),
                "priority": priority,
                "priority_raw": priority,
                "opened_at": opened,
                **{
                    c: None if s is None else opened + timedelta(seconds=s)
                    for c, s in zip(
                        ("responded_at", "resolved_at", "closed_at"), later, strict=True
                    )
                },
                "assignment_group": draw(st.one_of(st.none(), TEXT)),
                "category": draw(st.one_of(st.none(), TEXT)),
                "reassignment_count": draw(st.one_of(st.none(), st.integers(0, 10**6))),
                "reopen_count": draw(st.one_of(st.none(), st.integers(0, 50))),
            }
        )
    return rows


def to_generic_csv(frame: pl.DataFrame, offset_hours: int) -> bytes:
    """The frame as a generic CSV, instants written with a UTC offset of ``offset_hours``."""
    fmt = "%Y-%m-%dT%H:%M:%S%:z" if offset_hours else "%Y-%m-%dT%H:%M:%SZ"
    zone = f"Etc/GMT{-offset_hours:+d}" if offset_hours else "UTC"
    out = frame.drop("priority_raw").with_columns(
        pl.col(c).dt.convert_time_zone(zone).dt.strftime(fmt)
        for c in ("opened_at", "responded_at", "resolved_at", "closed_at")
    )
    buffer = io.BytesIO()
    out.write_csv(buffer)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(ticket_rows(), st.sampled_from([0, -6, 5, 13]))
def test_generic_csv_round_trip(rows: list[dict[str, object]], offset_hours: int) -> None:
    frame = pl.DataFrame(rows, schema=TICKETS, orient="row")
    back = read_generic(io.BytesIO(to_generic_csv(frame, offset_hours)), timezone="Asia/Tokyo")
    assert_frame_equal(back.tickets, frame)
    assert back.warnings == []
