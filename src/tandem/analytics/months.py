"""The month, on a time zone's wall clock, of many UTC instants at once.

Attainment counts a clock in the month, in the engagement's time zone, in which it stopped
(``attainment.stop_month`` is the same rule as a Polars expression). Converting a million
instants to a zone one by one costs a few hundred milliseconds; this does it with integer
arithmetic and two small tables:

* the zone's UTC offset is read once per cell of :data:`CELL` seconds (at the cell's first
  and last second) over the span of the instants; where both agree, every instant of the
  cell has that offset, its wall-clock second is ``t + offset``;
* a cell where they differ holds a transition (a DST change, a zone's new rule): its
  instants are converted one by one, exactly, as ``stop_month`` does;
* a wall-clock second's day (``// 86400``) finds its month in a table of the days spanned.

The one assumption: no zone changes its offset twice within one cell (about 68 minutes) and
back. The time-zone database has no such pair; transitions lie days apart at least.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

Seconds = NDArray[np.int64]

#: log2 of the cell width, in seconds (4,096 s).
_CELL_BITS = 12
CELL = 1 << _CELL_BITS
_DAY = 86_400


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
    cell = instants - low
    cell >>= _CELL_BITS
    wall = offset.take(cell)
    wall += instants
    if mixed.any():
        odd = np.flatnonzero(mixed.take(cell))
        if len(odd):
            wall[odd] = _wall(instants.take(odd), timezone)
    return _months_of_days(np.floor_divide(wall, _DAY))


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


def _months_of_days(days: Seconds) -> NDArray[np.int64]:
    low = int(np.min(days))
    span = np.arange(low, int(np.max(days)) + 1, dtype=np.int64)
    month = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return month.take(days - low)


def first_days(months: NDArray[np.int64]) -> pl.Series:
    """Months since 1970-01 as the Date of their first day."""
    return pl.Series(months.astype("datetime64[M]").astype("datetime64[D]")).cast(pl.Date)
