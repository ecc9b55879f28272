"""Riverside's demo tickets: a deterministic generator of the canonical ``TICKETS`` and
``HOLDS`` frames (``tandem.analytics.frames``) that tells the story of ``scenario``.

Pure numpy and Polars, vectorised (no Python loop per ticket): 150,000 tickets take about
a second. The same ``n`` and ``seed`` give the same frames, row for row.

How a ticket is made:

1. **When it opens.** Months share the volume (slow growth, a quieter December, the go-live
   month at 2.5 times); three streams fill them. The business stream (about 90%) opens on
   weekdays in office hours, a little on weekends and holidays; the clinical 24x7 stream
   (about 10%, more P1 and P2) opens around the clock; the go-live stream crowds the days
   after the cut-over. Local wall-clock times become UTC through the time-zone rules (a
   time in the spring-forward gap moves an hour on).
2. **What it is.** Priority, group, kind and category by stream and group; side by group.
3. **Whether it meets its targets.** In each month × side × priority cell, the share of
   response and resolution misses is the scenario's rate for that cell, made exact by
   ranking the cell's tickets on a random key (stochastic rounding of the count), so the
   story holds at 3,000 tickets as at 150,000.
4. **How long it takes**, in business seconds of the target's calendar (the 24x7 one for
   P1): a lognormal draw kept below the target for a met clock, above it for a miss, longer
   in the go-live month and for Northwind in its bad months.
5. **Its timeline.** Business seconds become instants on the calendar's axis (``axis``),
   with 0-3 holds (a third of the tickets) laid between working stretches: each hold lasts
   wall-clock time, possibly over a night or a weekend, so the engine measures exactly the
   business time drawn in step 4 (``DemoTickets.clocks`` says what it must find).
6. **The export** (``export``). Whatever happens after ``scenario.AS_OF`` is not in it:
   those responses, resolutions, closures and hold ends are empty (a few tickets are open
   at the end). Numbers run INC0100001… and RITM0100001… in order of opening. No free text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tandem.analytics.frames import TICKETS
from tandem.analytics.policy import Policy, parse_policy
from tandem.service.demo import scenario
from tandem.service.demo.axis import Axis, timeline
from tandem.service.demo.export import holds_frame, tickets_frame

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

# Volume ---------------------------------------------------------------------------------

#: Month-of-year factors: New Year password resets, a quieter summer and December.
SEASON = {1: 1.06, 2: 1.0, 3: 1.02, 4: 1.0, 5: 1.0, 6: 0.97}
SEASON |= {7: 0.94, 8: 0.98, 9: 1.02, 10: 1.03, 11: 0.97, 12: 0.9}
#: Monthly growth of the base volume (more clinics onboarded).
GROWTH = 0.012
#: Share of a usual month's tickets in the clinical 24x7 stream.
ROUND_THE_CLOCK = 0.10

BUSINESS, CLOCK, GO_LIVE = 0, 1, 2
#: Opening hour weights (local hour 0-23) per stream.
HOURS = {
    BUSINESS: (0.2, 0.15, 0.1, 0.1, 0.15, 0.4, 1.0, 3.5, 7.5, 9.5, 9.5, 8.5)
    + (6.5, 8.0, 8.5, 8.0, 7.0, 5.5, 3.5, 1.8, 1.0, 0.7, 0.5, 0.3),
    CLOCK: (2.0, 1.8, 1.6, 1.5, 1.5, 1.8, 2.5, 3.5, 4.5, 5.0, 5.0, 4.8)
    + (4.5, 4.6, 4.6, 4.5, 4.2, 3.8, 3.5, 3.2, 3.0, 2.8, 2.5, 2.2),
}
HOURS[GO_LIVE] = HOURS[CLOCK]  # the command center ran around the clock
#: Day weights (weekday, Saturday, Sunday, holiday) per stream.
DAYS = {BUSINESS: (1.0, 0.2, 0.15, 0.3), CLOCK: (1.0, 0.8, 0.8, 0.85)}
#: Go-live tickets arrive this many days after the cut-over on average.
GO_LIVE_DECAY_DAYS = 6.0

# What a ticket is -------------------------------------------------------------------------

#: P1-P4 mix per stream: overall about 0.5% / 4% / 70% / 25.5%.
PRIORITY_MIX = {
    BUSINESS: (0.0033, 0.0333, 0.7022, 0.2612),
    CLOCK: (0.02, 0.10, 0.68, 0.20),
    GO_LIVE: (0.006, 0.05, 0.75, 0.194),
}
#: Group mix per stream, in the order of ``scenario.GROUPS``.
GROUP_MIX = {
    BUSINESS: (0.13, 0.15, 0.08, 0.42, 0.11, 0.11),
    CLOCK: (0.0, 0.15, 0.0, 0.50, 0.25, 0.10),
    GO_LIVE: (0.05, 0.15, 0.0, 0.10, 0.70, 0.0),
}

# Service levels ---------------------------------------------------------------------------

CLIENT, VENDOR = 0, 1
#: Usual miss rates [side][priority], resolution and response. A month has only 20-60 P1
#: clocks, so two misses can sink a 95% goal: a P1 rate times a month's count stays below
#: one per side and metric (at most one miss a month: the vendor's resolution, the
#: internal team's response at night), and a credit is due only when the story says so.
RESOLUTION_MISSES = ((0.0, 0.06, 0.07, 0.08), (0.012, 0.04, 0.05, 0.06))
RESPONSE_MISSES = ((0.02, 0.07, 0.06, 0.07), (0.0, 0.03, 0.04, 0.05))
#: Extra resolution misses [priority] in the go-live month, both sides.
GO_LIVE_MISSES = (0.0, 0.02, 0.03, 0.03)
#: Northwind's resolution miss rates [priority] in its bad months and after them.
SLIP_MISSES = (0.30, 0.28, 0.08, 0.06)
RECOVERY_MISSES = (0.0, 0.02, 0.04, 0.05)
SHAKY_MISSES = (0.04, 0.085, 0.05, 0.06)
#: Median of a met clock as a share of its target, and the spread (log scale) [priority].
RESOLUTION_MEDIAN = (0.35, 0.30, 0.22, 0.25)
RESOLUTION_SIGMA = (0.55, 0.7, 0.9, 0.9)
RESPONSE_MEDIAN = (0.3, 0.25, 0.2, 0.2)
RESPONSE_SIGMA = 0.8
#: How far past the target a miss runs (log scale), usually and in a bad month.
OVERRUN_SIGMA, SLIP_OVERRUN_SIGMA = 0.5, 0.9
#: Durations stretch in the go-live month, and for Northwind in its bad months.
GO_LIVE_STRETCH, SLIP_STRETCH = 1.35, 1.6

#: Hold count probabilities (0, 1, 2, 3 holds): P1 tickets rarely wait on anyone.
HOLD_COUNTS = {True: (0.88, 0.10, 0.02, 0.0), False: (0.63, 0.23, 0.10, 0.04)}
#: Hold length (wall clock): median and log spread; P1 holds are short.
HOLD_MEDIAN_SECONDS = {True: 1_800.0, False: 9_000.0}
HOLD_SIGMA = 1.2
HOLD_LONGEST = 9 * 86_400

_DAY = 86_400


@dataclass(frozen=True)
class DemoTickets:
    """The generated export: ``TICKETS`` and ``HOLDS`` frames, ticket rows in opening order,
    and what the engine should measure (``CLOCKS``, for tests)."""

    tickets: pl.DataFrame
    holds: pl.DataFrame
    clocks: pl.DataFrame


#: Per ticket, the business seconds drawn for each clock: what ``measure()`` must find once
#: the clock has stopped (in the target's calendar, holds paused for resolution).
CLOCKS: dict[str, pl.DataType] = {
    "ticket_id": pl.String(),
    "response_seconds": pl.Int64(),
    "resolution_seconds": pl.Int64(),
}


def policies() -> list[tuple[date, Policy]]:
    """The scenario's policy versions, parsed: ``(effective_from, policy)``."""
    return [(start, parse_policy(text)) for _, _, start, text in scenario.POLICIES]


def generate(n: int = scenario.TICKETS, *, seed: int = scenario.SEED) -> DemoTickets:
    """``n`` tickets (at least 100) of the scenario; the same arguments, the same frames."""
    if n < 100:
        raise ValueError(f"n: {n} is too few tickets to tell the story (at least 100)")
    rng = np.random.default_rng(seed)
    versions = policies()
    calendars = versions[0][1].calendars
    business, always = calendars["business"], calendars["always"]

    month, stream, opened = _openings(n, rng, business.closed_dates)
    n = len(opened)
    priority = _pick(rng, stream, PRIORITY_MIX)
    group = _pick(rng, stream, GROUP_MIX)
    side = (group >= len(scenario.CLIENT_GROUPS)).astype(np.int64)
    version = (month >= scenario.month_index(scenario.AMENDMENT_FROM)).astype(np.int64)

    within = {
        metric: np.array(
            [[_within(policy, p, metric) for p in range(4)] for _, policy in versions]
        )[version, priority]
        for metric in ("response", "resolution")
    }
    res_rate, resp_rate, stretch, overrun = _rates(month, side, priority)
    res_miss = _misses(rng, month, side, priority, res_rate)
    resp_miss = _misses(rng, month, side, priority, resp_rate)

    resolution = _durations(
        rng,
        within["resolution"],
        np.array(RESOLUTION_MEDIAN)[priority] * stretch,
        np.array(RESOLUTION_SIGMA)[priority],
        res_miss,
        overrun,
    )
    response = _durations(
        rng,
        within["response"],
        np.array(RESPONSE_MEDIAN)[priority] * stretch,
        np.full(n, RESPONSE_SIGMA),
        resp_miss,
        np.full(n, OVERRUN_SIGMA),
    )
    # A met resolution may not come before the response; a response never after resolution.
    resolution = np.where(
        res_miss,
        np.maximum(resolution, response),
        np.minimum(np.maximum(resolution, response), within["resolution"]),
    )
    response = np.minimum(response, resolution)

    p1 = priority == 0
    hold_count = np.where(
        p1,
        rng.choice(4, size=n, p=HOLD_COUNTS[True]),
        rng.choice(4, size=n, p=HOLD_COUNTS[False]),
    )
    hold_length = np.clip(
        np.where(p1, HOLD_MEDIAN_SECONDS[True], HOLD_MEDIAN_SECONDS[False])
        * np.exp(HOLD_SIGMA * rng.standard_normal((3, n))),
        300,
        HOLD_LONGEST,
    ).astype(np.int64)
    # Where the holds fall in the working time: sorted cuts between response and resolution.
    cuts = response + (np.sort(rng.random((3, n)), axis=0) * (resolution - response)).astype(
        np.int64
    )

    responded = np.empty(n, dtype=np.int64)
    resolved = np.empty(n, dtype=np.int64)
    hold_start = np.empty((3, n), dtype=np.int64)
    hold_end = np.empty((3, n), dtype=np.int64)
    first, last = int(np.min(opened)), int(np.max(opened)) + 120 * _DAY
    for calendar_mask, calendar in ((p1, always), (~p1, business)):
        index = np.flatnonzero(calendar_mask)
        times = timeline(
            Axis(calendar, first, last),
            opened[index],
            response[index],
            resolution[index],
            cuts[:, index],
            hold_count[index],
            hold_length[:, index],
        )
        responded[index], resolved[index], hold_start[:, index], hold_end[:, index] = times

    tickets = tickets_frame(
        rng, opened, responded, resolved, priority, group, stream == GO_LIVE, res_miss
    )
    holds = holds_frame(tickets, hold_count, hold_start, hold_end)
    order = tickets["index"].to_numpy()
    clocks = pl.DataFrame(
        {
            "ticket_id": tickets["ticket_id"],
            "response_seconds": response[order],
            "resolution_seconds": resolution[order],
        },
        schema=CLOCKS,
    )
    return DemoTickets(tickets.select(list(TICKETS)), holds, clocks)


# Openings ------------------------------------------------------------------------------------


def _openings(
    n: int, rng: np.random.Generator, closed_dates: Callable[[int], frozenset[date]]
) -> tuple[Ints, Ints, Ints]:
    """Month index, stream and opening instant (UTC epoch seconds) of each ticket."""
    base = np.array(
        [(1 + GROWTH * m) * SEASON[scenario.month_start(m).month] for m in range(scenario.MONTHS)]
    )
    go_live = scenario.month_index(scenario.GO_LIVE_MONTH)
    weights = base.copy()
    weights[go_live] *= scenario.GO_LIVE_VOLUME
    counts = _split(n, weights)
    extra = round(counts[go_live] * (1 - 1 / scenario.GO_LIVE_VOLUME))
    holidays: set[date] = set()
    for year in range(scenario.FIRST_MONTH.year, scenario.month_start(scenario.MONTHS).year + 1):
        holidays |= closed_dates(year)

    months, streams, days, seconds = [], [], [], []
    for m, count in enumerate(counts):
        start = scenario.month_start(m)
        month_days = [
            start + timedelta(d) for d in range((scenario.month_start(m + 1) - start).days)
        ]
        extra_here = extra if m == go_live else 0
        clock = round((count - extra_here) * ROUND_THE_CLOCK)
        for stream, size in ((BUSINESS, count - extra_here - clock), (CLOCK, clock)):
            weight = np.array([_day_weight(day, holidays, DAYS[stream]) for day in month_days])
            chosen = rng.choice(len(month_days), size=size, p=weight / weight.sum())
            days.append(np.array([d.toordinal() for d in month_days])[chosen])
            streams.append(np.full(size, stream))
            months.append(np.full(size, m))
        if extra_here:
            last = (scenario.month_start(m + 1) - scenario.GO_LIVE).days
            offset = np.floor(rng.exponential(GO_LIVE_DECAY_DAYS, extra_here)).astype(np.int64)
            days.append(scenario.GO_LIVE.toordinal() + offset % last)
            streams.append(np.full(extra_here, GO_LIVE))
            months.append(np.full(extra_here, m))
    stream_of = np.concatenate(streams)
    for stream in (BUSINESS, CLOCK, GO_LIVE):
        picked = stream_of == stream
        hours = np.array(HOURS[stream])
        hour = rng.choice(24, size=int(picked.sum()), p=hours / hours.sum())
        seconds.append((stream, hour * 3600 + rng.integers(0, 3600, size=len(hour))))
    second_of_day = np.empty(len(stream_of), dtype=np.int64)
    for stream, values in seconds:
        second_of_day[stream_of == stream] = values
    local_day = np.concatenate(days) - date(1970, 1, 1).toordinal()
    opened = _utc_seconds(local_day * _DAY + second_of_day)
    return np.concatenate(months), stream_of, opened


def _split(n: int, weights: Floats) -> Ints:
    """``n`` split in proportion to ``weights`` (largest remainders)."""
    exact = n * weights / weights.sum()
    counts: Ints = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(counts - exact, kind="stable")[:short]] += 1
    return counts


def _day_weight(day: date, holidays: set[date], weights: tuple[float, ...]) -> float:
    if day in holidays:
        return weights[3]
    return weights[min(max(day.weekday() - 4, 0), 2)]  # Mon-Fri, Sat, Sun


def _utc_seconds(local: Ints) -> Ints:
    """Local wall-clock seconds (naive, since 1970) as UTC epoch seconds in the time zone;
    a time in the spring-forward gap moves on an hour, a repeated time takes the first."""
    naive = pl.Series("t", local * 1_000_000).cast(pl.Datetime("us"))

    def convert(values: pl.Series) -> pl.Series:
        return values.dt.replace_time_zone(
            scenario.TIME_ZONE, ambiguous="earliest", non_existent="null"
        )

    aware = convert(naive)
    gap = aware.is_null()
    if gap.any():
        aware = aware.zip_with(~gap, convert(naive + timedelta(hours=1)))
    return aware.dt.epoch("s").to_numpy().astype(np.int64)


def _pick(rng: np.random.Generator, stream: Ints, mixes: Mapping[int, tuple[float, ...]]) -> Ints:
    result = np.empty(len(stream), dtype=np.int64)
    for key, mix in mixes.items():
        picked = stream == key
        p = np.array(mix) / sum(mix)
        result[picked] = rng.choice(len(mix), size=int(picked.sum()), p=p)
    return result


# Service levels ------------------------------------------------------------------------------


def _within(policy: Policy, priority: int, metric: str) -> int:
    name = f"P{priority + 1}"
    return next(
        t.within_seconds for t in policy.targets if t.priority == name and t.metric == metric
    )


def _rates(month: Ints, side: Ints, priority: Ints) -> tuple[Floats, Floats, Floats, Floats]:
    """Per ticket: resolution and response miss rates, the duration stretch, the overrun."""
    res = np.array(RESOLUTION_MISSES)[side, priority]
    resp = np.array(RESPONSE_MISSES)[side, priority]
    stretch = np.ones(len(month))
    overrun = np.full(len(month), OVERRUN_SIGMA)
    go_live = month == scenario.month_index(scenario.GO_LIVE_MONTH)
    res = np.where(go_live, res + np.array(GO_LIVE_MISSES)[priority], res)
    stretch = np.where(go_live, GO_LIVE_STRETCH, stretch)
    vendor = side == VENDOR
    for months, rates in (
        (scenario.SLIP_MONTHS, SLIP_MISSES),
        (scenario.RECOVERY_MONTHS, RECOVERY_MISSES),
        ((scenario.SHAKY_MONTH,), SHAKY_MISSES),
    ):
        for when in months:
            here = vendor & (month == scenario.month_index(when))
            res = np.where(here, np.array(rates)[priority], res)
            if rates is SLIP_MISSES:
                stretch = np.where(here, SLIP_STRETCH, stretch)
                overrun = np.where(here, SLIP_OVERRUN_SIGMA, overrun)
    return res, resp, stretch, overrun


def _misses(
    rng: np.random.Generator, month: Ints, side: Ints, priority: Ints, rate: Floats
) -> NDArray[np.bool_]:
    """Exactly ``floor(rate × count + u)`` misses in each month × side × priority cell
    (``u`` uniform per cell), on the tickets ranking first on a random key."""
    cell = (month * 2 + side) * 4 + priority
    cells = int(np.max(cell)) + 1
    order = np.lexsort((rng.random(len(cell)), cell))
    sorted_cell = cell[order]
    sizes = np.bincount(cell, minlength=cells)
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(cell)) - firsts[sorted_cell]
    cell_rate = np.zeros(cells)
    cell_rate[cell] = rate  # one rate per cell
    wanted = np.floor(cell_rate * sizes + rng.random(cells)).astype(np.int64)
    miss = np.empty(len(cell), dtype=bool)
    miss[order] = rank < wanted[sorted_cell]
    return miss


def _durations(
    rng: np.random.Generator,
    within: Ints,
    median_share: Floats,
    sigma: Floats,
    miss: NDArray[np.bool_],
    overrun: Floats,
) -> Ints:
    """Business seconds: lognormal below ``within`` for a met clock (the first of six draws
    that fits, else a uniform share), beyond it for a miss."""
    n = len(within)
    draws = (median_share * within) * np.exp(sigma * rng.standard_normal((6, n)))
    fits = draws <= within
    first = np.argmax(fits, axis=0)
    met = np.where(
        fits.any(axis=0),
        draws[first, np.arange(n)],
        within * rng.uniform(0.3, 1.0, n),
    )
    missed = within * np.exp(np.abs(overrun * rng.standard_normal(n))) + 60
    seconds = np.where(miss, np.ceil(missed), np.floor(met)).astype(np.int64)
    return np.where(miss, np.maximum(seconds, within + 1), np.clip(seconds, 30, within))
