"""Benchmark the SLA clocks against a row-wise businesstimedelta loop (issue 3, item 8).

    .venv/bin/python bench/sla.py [--n 1000000] [--sample 2000] [--seed 1]

Generates N synthetic tickets (opened mostly in business hours, lognormal response and
resolution times, a third with 1-3 holds, three calendars: Chicago business hours with DST
and US holidays, a split-shift London calendar, a New York 24x7 one), then times, in the same
run:

* ``clocks``: the vectorized clocks on arrays already out of the frames (what the engine
  does per target);
* ``measure``: ``measure()`` end to end from the in-memory Polars frames (validation, hold
  grouping, every target, the MEASUREMENTS frame); the line after the table is its overhead
  over the bare clocks (matching holds to tickets by id, the duplicate check, the output);
* ``baseline``: a row-wise loop over a sample with ``businesstimedelta`` (what a typical
  Python user writes: one ``difference()`` per clock and per hold), scaled to tickets/s.

Calendars are built once before timing (they are cached per calendar and year range; the
cold build is printed too). The CSV/Parquet and CLI timings come with the CLI.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

import businesstimedelta
import holidays
import numpy as np
import polars as pl
import pytz

from tandem.analytics.calendar import open_intervals_covering
from tandem.analytics.clocks import elapsed_seconds
from tandem.analytics.measure import _holds_by_ticket, _restrict, _seconds, measure
from tandem.analytics.policy import Policy, parse_policy

POLICY = """
[calendars.business]
timezone = "America/Chicago"
holiday_country = "US"
[calendars.business.weekly]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]
thu = ["08:00-17:00"]
fri = ["08:00-17:00"]
[calendars.extended]
timezone = "Europe/London"
[calendars.extended.weekly]
mon = ["07:00-12:00", "13:00-19:00"]
tue = ["07:00-12:00", "13:00-19:00"]
wed = ["07:00-12:00", "13:00-19:00"]
thu = ["07:00-12:00", "13:00-19:00"]
fri = ["07:00-12:00", "13:00-19:00"]
sat = ["07:00-12:00", "13:00-19:00"]
[calendars.always]
timezone = "America/New_York"
weekly = "24x7"
"""
TARGETS = [
    # priority, metric, calendar, within, pause_on_hold
    ("P1", "response", "always", "15m", False),
    ("P1", "resolution", "always", "4h", True),
    ("P2", "response", "extended", "30m", False),
    ("P2", "resolution", "extended", "8h", True),
    ("P3", "response", "business", "4h", False),
    ("P3", "resolution", "business", "27h", True),
    ("P4", "response", "business", "9h", False),
    ("P4", "resolution", "business", "45h", True),
]


def policy() -> Policy:
    text = POLICY + "".join(
        f'[[targets]]\npriority = "{p}"\nmetric = "{m}"\ncalendar = "{c}"\n'
        f'within = "{w}"\npause_on_hold = {str(h).lower()}\ngoal = 0.9\n'
        for p, m, c, w, h in TARGETS
    )
    return parse_policy(text)


def synthetic(n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """N tickets over 2024-2025 and their holds, in the TICKETS / HOLDS schemas."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 730, n)
    weekday = (day + 0) % 7  # 2024-01-01 is a Monday
    day = np.where((weekday >= 5) & (rng.random(n) < 0.8), day - weekday + 4, day)  # fewer weekends
    in_hours = rng.random(n) < 0.85
    local = np.where(in_hours, rng.integers(8 * 3600, 17 * 3600, n), rng.integers(0, 86_400, n))
    opened_naive = pl.Series(
        (day * 86_400 + local + int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())) * 1_000_000
    ).cast(pl.Datetime("us"))
    opened = (
        opened_naive.dt.replace_time_zone(
            "America/Chicago", ambiguous="earliest", non_existent="null"
        )
        .fill_null(strategy="forward")
        .dt.convert_time_zone("UTC")
    )
    opened_s = opened.dt.epoch("s").to_numpy()
    response = np.rint(rng.lognormal(np.log(1200), 1.0, n)).astype(np.int64)
    resolution = response + np.rint(rng.lognormal(np.log(6 * 3600), 1.5, n)).astype(np.int64)
    responded_s = opened_s + response
    resolved_s = opened_s + resolution
    open_ticket = rng.random(n) < 0.03
    unresponded = open_ticket & (rng.random(n) < 0.3)
    priority = rng.choice(np.array(["P1", "P2", "P3", "P4"]), n, p=[0.05, 0.15, 0.5, 0.3])
    ids = pl.Series("ticket_id", np.arange(n)).cast(pl.String).str.pad_start(8, "0")
    ids = "INC" + ids

    def instants(seconds: np.ndarray[Any, Any], missing: np.ndarray[Any, Any]) -> pl.Series:
        values = pl.Series(seconds * 1_000_000).cast(pl.Datetime("us", "UTC"))
        return values.set(pl.Series(missing), None) if missing.any() else values

    tickets = pl.DataFrame(
        {
            "ticket_id": ids,
            "priority": priority,
            "opened_at": opened,
            "responded_at": instants(responded_s, unresponded),
            "resolved_at": instants(resolved_s, open_ticket),
        }
    )

    # A third of the tickets get 1-3 holds somewhere in their life, possibly overlapping.
    held = np.flatnonzero(rng.random(n) < 1 / 3)
    count = rng.integers(1, 4, len(held))
    owner = np.repeat(held, count)
    begin = opened_s[owner] + (rng.random(len(owner)) * resolution[owner]).astype(np.int64)
    length = np.rint(rng.lognormal(np.log(2 * 3600), 1.0, len(owner))).astype(np.int64)
    holds = pl.DataFrame(
        {
            "ticket_id": ids.gather(owner),
            "start": instants(begin, np.zeros(len(owner), bool)),
            "end": instants(begin + length, rng.random(len(owner)) < 0.02),
        }
    )
    return tickets, holds


def clocks_only(tickets: pl.DataFrame, holds: pl.DataFrame, rules: Policy) -> Callable[[], int]:
    """The clocks on arrays already out of the frames: the engine's inner work per target."""
    opened = _seconds(tickets, "opened_at")
    ends = {
        "response": _seconds(tickets, "responded_at"),
        "resolution": _seconds(tickets, "resolved_at"),
    }
    grouped = _holds_by_ticket(tickets, holds)
    prepared = []
    for target in rules.targets:
        end = ends[target.metric]
        selected = (tickets["priority"] == target.priority).to_numpy() & (end >= 0)
        index = np.flatnonzero(selected)
        sub = _restrict(grouped, selected, index) if target.pause_on_hold else None
        intervals = open_intervals_covering(
            rules.calendars[target.calendar], int(opened[index].min()), int(end[index].max())
        )
        prepared.append((intervals, opened[index], end[index], sub, target.within_seconds))

    def run() -> int:
        met = 0
        for intervals, start, stop, sub, within in prepared:
            met += int(np.count_nonzero(elapsed_seconds(intervals, start, stop, sub) <= within))
        return met

    return run


def baseline_rules() -> dict[str, businesstimedelta.Rules]:
    """The three calendars as businesstimedelta rules (pytz zones, as its docs show)."""
    chicago, london, new_york = (
        pytz.timezone(z) for z in ("America/Chicago", "Europe/London", "America/New_York")
    )
    us = holidays.country_holidays("US", years=range(2023, 2027))
    return {
        "business": businesstimedelta.Rules(
            [
                businesstimedelta.WorkDayRule(clock_time(8), clock_time(17), range(5), tz=chicago),
                businesstimedelta.HolidayRule(us, tz=chicago),
            ]
        ),
        "extended": businesstimedelta.Rules(
            [
                businesstimedelta.WorkDayRule(clock_time(7), clock_time(19), range(6), tz=london),
                businesstimedelta.LunchTimeRule(
                    clock_time(12), clock_time(13), range(6), tz=london
                ),
            ]
        ),
        "always": businesstimedelta.Rules(
            [
                businesstimedelta.WorkDayRule(
                    clock_time(0), clock_time(23, 59, 59), range(7), tz=new_york
                )
            ]
        ),
    }


def baseline(tickets: pl.DataFrame, holds: pl.DataFrame, rules: Policy) -> Callable[[], int]:
    """Row-wise: for each ticket and target, one difference() for the clock and one per hold."""
    calendars = baseline_rules()
    targets = {}
    for target in rules.targets:
        targets.setdefault(target.priority, []).append(target)
    by_ticket: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for ticket_id, start, end in holds.iter_rows():
        by_ticket.setdefault(ticket_id, []).append((start, end))
    rows = tickets.select(
        "ticket_id", "priority", "opened_at", "responded_at", "resolved_at"
    ).rows()

    def seconds(rule: businesstimedelta.Rules, a: datetime, b: datetime) -> int:
        if b <= a:
            return 0
        delta = rule.difference(a, b)
        return int(delta.hours * 3600 + delta.seconds)

    def run() -> int:
        met = 0
        for ticket_id, priority, opened, responded, resolved in rows:
            for target in targets.get(priority, ()):
                end = responded if target.metric == "response" else resolved
                if end is None:
                    continue
                rule = calendars[target.calendar]
                elapsed = seconds(rule, opened, end)
                if target.pause_on_hold:
                    for start, stop in by_ticket.get(ticket_id, ()):
                        a, b = max(start, opened), min(stop or end, end)
                        elapsed -= seconds(rule, a, b)
                met += elapsed <= target.within_seconds
        return met

    return run


def timed(function: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="tickets (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=2_000, help="baseline sample size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    began = time.perf_counter()
    tickets, holds = synthetic(args.n, args.seed)
    print(
        f"generated {len(tickets):,} tickets and {len(holds):,} holds "
        f"in {time.perf_counter() - began:.2f} s"
    )
    rules = policy()
    began = time.perf_counter()
    for calendar in rules.calendars.values():
        open_intervals_covering(calendar, 1_704_067_200 - 86_400, 1_767_225_600 + 86_400 * 60)
    print(f"calendars built (cold, 3 calendars x 5 years) in {time.perf_counter() - began:.3f} s")

    measured = measure(tickets, holds, rules)
    print(f"measurements: {len(measured):,} rows, met {measured['met'].mean():.1%}")

    n = len(tickets)
    clock_seconds = timed(clocks_only(tickets, holds, rules))
    measure_seconds = timed(lambda: measure(tickets, holds, rules))
    sample = tickets.sample(min(args.sample, n), seed=args.seed)
    sample_holds = holds.join(sample.select("ticket_id"), on="ticket_id", how="semi")
    baseline_seconds = timed(baseline(sample, sample_holds, rules), repeat=1)
    baseline_rate = len(sample) / baseline_seconds

    print()
    print(f"{'':<36}{'seconds':>10}{'tickets/s':>16}{'x baseline':>12}")
    for name, seconds, count in [
        ("clocks (arrays, 8 targets, holds)", clock_seconds, n),
        ("measure() from frames in memory", measure_seconds, n),
        (f"businesstimedelta row-wise ({len(sample):,})", baseline_seconds, len(sample)),
    ]:
        rate = count / seconds
        print(f"{name:<36}{seconds:>10.3f}{rate:>16,.0f}{rate / baseline_rate:>12,.0f}")
    print(
        f"\nmeasure() overhead over the clocks: {measure_seconds - clock_seconds:.3f} s "
        f"({measure_seconds / clock_seconds:.1f}x the clocks alone)"
    )


if __name__ == "__main__":
    main()
