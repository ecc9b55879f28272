"""The generated tickets as the canonical frames of an export taken at ``scenario.AS_OF``.

Whatever happens after the export (a response, a resolution, a closure, the end of a hold)
is not in it: those instants are empty. Ticket numbers run INC0100001… for incidents and
RITM0100001… for requests in order of opening; the generator's row order is kept in an
``index`` column so its other arrays can follow the sort.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.frames import HOLDS, UTC_INSTANT
from tandem.service.demo import scenario

Ints = NDArray[np.int64]

#: Share of incidents (the rest are requests) per priority.
INCIDENT_SHARE = (1.0, 1.0, 0.65, 0.35)
#: Category weights: a group's first category is the commonest.
CATEGORY_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
#: Resolved tickets close automatically this long after resolution.
AUTO_CLOSE_SECONDS = 3 * 86_400
MISSING = np.iinfo(np.int64).min


def tickets_frame(
    rng: np.random.Generator,
    opened: Ints,
    responded: Ints,
    resolved: Ints,
    priority: Ints,
    group: Ints,
    go_live: NDArray[np.bool_],
    res_miss: NDArray[np.bool_],
) -> pl.DataFrame:
    """The ``TICKETS`` columns (and ``index``, the generator's row) sorted by opening; kind,
    category, reassignments and reopens drawn here (more of both for a missed resolution,
    more reassignments for a go-live ticket)."""
    n = len(opened)
    as_of = int(scenario.AS_OF.timestamp())
    closed = resolved + AUTO_CLOSE_SECONDS + rng.integers(0, 7200, n)
    incident = rng.random(n) < np.array(INCIDENT_SHARE)[priority]
    category = np.empty(n, dtype=object)
    for index, (_, _, names) in enumerate(scenario.GROUPS):
        here = group == index
        weights = np.array(CATEGORY_WEIGHTS[: len(names)])
        category[here] = np.array(names, dtype=object)[
            rng.choice(len(names), size=int(here.sum()), p=weights / weights.sum())
        ]
    reassignments = rng.poisson(0.35 + 0.9 * res_miss + 0.6 * go_live)
    reopen_draw = rng.random(n)
    reopens = (reopen_draw < 0.02 + 0.06 * res_miss).astype(np.int64) + (reopen_draw < 0.003)
    frame = pl.DataFrame(
        {
            "index": np.arange(n),
            "tiebreak": rng.random(n),
            "kind": np.where(incident, "incident", "request"),
            "priority": np.array(["P1", "P2", "P3", "P4"])[priority],
            "priority_raw": np.array(scenario.PRIORITY_RAW)[priority],
            "opened_at": _instants(opened, as_of + 1),
            "responded_at": _instants(responded, as_of),
            "resolved_at": _instants(resolved, as_of),
            "closed_at": _instants(np.where(resolved <= as_of, closed, MISSING), as_of),
            "assignment_group": np.array(scenario.GROUP_NAMES)[group],
            "category": category.astype(str),
            "reassignment_count": reassignments.astype(np.int32),
            "reopen_count": reopens.astype(np.int32),
        }
    ).sort("opened_at", "tiebreak")
    number = pl.col("kind").cum_count().over("kind") + 100_000
    prefix = pl.when(pl.col("kind") == "incident").then(pl.lit("INC")).otherwise(pl.lit("RITM"))
    return frame.with_columns(
        (prefix + number.cast(pl.String).str.zfill(7)).alias("ticket_id")
    ).drop("tiebreak")


def _instants(seconds: Ints, as_of: int) -> pl.Series:
    """Epoch seconds as UTC instants; those after ``as_of`` (not yet happened) are null."""
    kept = np.where((seconds <= as_of) & (seconds != MISSING), seconds, 0) * 1_000_000
    missing = pl.Series((seconds > as_of) | (seconds == MISSING))
    return pl.select(
        pl.when(missing).then(None).otherwise(pl.lit(pl.Series(kept)).cast(UTC_INSTANT))
    ).to_series()


def holds_frame(
    tickets: pl.DataFrame, hold_count: Ints, hold_start: Ints, hold_end: Ints
) -> pl.DataFrame:
    """One row per hold that had started by the export; a hold still running has no end."""
    as_of = int(scenario.AS_OF.timestamp())
    slot = np.arange(3)[:, None]
    used = (slot < hold_count[None, :]) & (hold_start < as_of)
    which = np.nonzero(used)
    ids = np.empty(len(hold_count), dtype=object)
    ids[tickets["index"].to_numpy()] = tickets["ticket_id"].to_numpy()
    frame = pl.DataFrame(
        {
            "ticket_id": ids[which[1]].astype(str),
            "start": _instants(hold_start[which], as_of),
            "end": _instants(hold_end[which], as_of),
        }
    )
    return frame.sort("ticket_id", "start").select(list(HOLDS)).cast(HOLDS)  # type: ignore[arg-type]
