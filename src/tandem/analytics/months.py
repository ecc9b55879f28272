"""The month, on a time zone's wall clock, of many UTC instants at once.

Attainment counts a clock in the month, in the engagement's time zone, in which it stopped
(``attainment.stop_month`` is the same rule as a Polars expression). Converting a million
instants to a zone one by one costs a few hundred milliseconds; this does it with a few
integer operations and two small tables:

* time is cut into cells of :data:`CELL` seconds (about 18 hours) over the span of the
  instants; the zone's UTC offset is read at each cell's first and last second;
* where both agree, the cell has one offset throughout, so it holds at most one month
  boundary (cells are shorter than a month) at a known UTC instant: an instant's month is
  the cell's first month, plus one from that boundary on;
* a cell where they differ holds a transition (a DST change, a zone's new rule): its
  instants are converted one by one, exactly, as ``stop_month`` does.

The one assumption: no zone changes its offset and back within one cell. The time-zone
database has no such pair; transitions lie weeks apart at least.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

Seconds = NDArray[np.int64]

#: log2 of the cell width, in seconds (65,536 s, about 18 hours).
_CELL_BITS = 16
CELL = 1 << _CELL_BITS


def local_months(instants: Seconds, timezone: str) -> NDArray[np.int64]:
    """For each UTC instant (epoch seconds), its month on ``timezone``'s wall clock, as
    months since 1970-01 (``(year - 1970) * 12 + month - 1``)."""
    if len(instants) == 0:
        return np.zeros(0, dtype=np.int64)
    low = int(np.min(instants))
    cells = ((int(np.max(instants)) - low) >> _CELL_BITS) + 1
    first = low + (np.arange(cells, dtype=np.int64) << _CELL_BITS)
    offset = _wall(first, timezone) - first
    last = first + (CELL - 1)
    mixed = (_wall(last, timezone) - last) != offset
    opening = _months_of(first + offset)
    # The UTC instant the next month starts at, where the cell keeps its offset.
    following = opening.astype("datetime64[M]") + np.timedelta64(1, "M")
    boundary = following.astype("datetime64[s]").astype(np.int64) - offset
    cell = instants - low
    cell >>= _CELL_BITS
    month = opening.take(cell)
    month += instants >= boundary.take(cell)
    if mixed.any():
        odd = np.flatnonzero(mixed.take(cell))
        if len(odd):
            month[odd] = _months_of(_wall(instants.take(odd), timezone))
    return month


def _wall(instants: Seconds, timezone: str) -> Seconds:
    """The wall-clock seconds (as if that clock read UTC) of UTC instants in ``timezone``."""
    local = (
        pl.Series(instants * 1_000_000, dtype=pl.Int64)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone(timezone)
        .dt.replace_time_zone(None)
        .dt.epoch("s")
    )
    return local.to_numpy().astype(np.int64, copy=False)


def _months_of(wall: Seconds) -> NDArray[np.int64]:
    """The months of wall-clock seconds (read as if UTC)."""
    return wall.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


def first_days(months: NDArray[np.int64]) -> pl.Series:
    """Months since 1970-01 as the Date of their first day."""
    return pl.Series(months.astype("datetime64[M]").astype("datetime64[D]")).cast(pl.Date)
