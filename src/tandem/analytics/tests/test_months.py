"""``months.local_months`` against the Polars conversion attainment uses (``stop_month``)."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

import numpy as np
import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tandem.analytics import months
from tandem.analytics.attainment import stop_month
from tandem.analytics.months import CELL, first_days, local_months
from tandem.analytics.tests.helpers import at
from tandem.analytics.tests.strategies import ANCHORS, OTHER_ANCHORS, ZONES

#: Zones whose clocks change at midnight (a month's first midnight can be skipped, or come
#: twice, so a month can start, end and start again) and one that changed offset by seconds.
MIDNIGHT_ZONES = ["America/Havana", "America/Santiago", "Asia/Beirut", "America/Asuncion"]
ALL_ZONES = [*ZONES, *MIDNIGHT_ZONES, "Africa/Monrovia", "Pacific/Apia", "Asia/Kathmandu"]
ANCHOR_INSTANTS = [*OTHER_ANCHORS, *(a for anchors in ANCHORS.values() for a in anchors)]


def expected(instants: list[int], zone: str) -> list[object]:
    micros = pl.Series([t * 1_000_000 for t in instants], dtype=pl.Int64)
    stopped = micros.cast(pl.Datetime("us", "UTC"))
    frame = pl.DataFrame({"stopped_at": stopped})
    return frame.select(stop_month(zone)).to_series().to_list()


def month_starts() -> st.SearchStrategy[int]:
    """Instants near some month's first local midnight, 1970-2037: the first midnight UTC
    moved by a whole-hour zone offset and up to 90 minutes either way (a DST change)."""
    return st.builds(
        lambda year, month, hours, shift: (
            int(datetime(year, month, 1, tzinfo=UTC).timestamp()) + hours * 3600 + shift
        ),
        st.integers(1970, 2037),
        st.integers(1, 12),
        st.integers(-14, 12),
        st.integers(-5400, 5400),
    )


instants = st.one_of(
    month_starts(),
    st.builds(lambda a, s: a + s, st.sampled_from(ANCHOR_INSTANTS), st.integers(-7200, 7200)),
    st.integers(0, 2**31),
)


@given(
    st.sampled_from(ALL_ZONES),
    st.lists(instants, min_size=1, max_size=40),
    st.sampled_from([months._CELL_BITS, 21]),
)
@settings(max_examples=400)
@example("America/Chicago", [at("2025-03-08T00:00Z"), at("2025-04-01T05:30Z")], 21)
def test_local_months_agree_with_the_polars_conversion(
    zone: str, values: list[int], bits: int
) -> None:
    # With cells of 2**21 s (24 days), many cells hold a DST change before a month's start:
    # the instant-by-instant path is then what makes the answer right.
    with patch.object(months, "_CELL_BITS", bits), patch.object(months, "CELL", 1 << bits):
        found = local_months(np.array(values, dtype=np.int64), zone)
    assert first_days(found).to_list() == expected(values, zone)


def test_a_transition_inside_a_cell_is_converted_instant_by_instant() -> None:
    # Chicago's fall-back on 2025-11-02 at 07:00 UTC.
    change = int(datetime(2025, 11, 2, 7, tzinfo=UTC).timestamp())
    values = [change - 1, change, change + 1, change - CELL, change + CELL]
    months = local_months(np.array(values, dtype=np.int64), "America/Chicago")
    assert first_days(months).to_list() == expected(values, "America/Chicago")
    # Santiago moves its clocks back at midnight local on the first Sunday of April 2024
    # (00:00 -> 23:00 the day before): a month boundary crossed, then crossed back.
    back = int(datetime(2024, 4, 7, 3, tzinfo=UTC).timestamp())
    values = list(range(back - 2 * CELL, back + 2 * CELL, 97))
    months = local_months(np.array(values, dtype=np.int64), "America/Santiago")
    assert first_days(months).to_list() == expected(values, "America/Santiago")


def test_no_instants_no_months() -> None:
    assert len(local_months(np.zeros(0, dtype=np.int64), "UTC")) == 0
