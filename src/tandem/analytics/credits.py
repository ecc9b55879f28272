"""Service credits: what the vendor owes back when a month misses its service levels.

The pool model (BRIEF.md §3, the Texas DIR model): each month a share of the monthly fee is
*at risk* (the pool, ``fee × at_risk_percent``); each credit-bearing target has an
*allocation* of that pool. For every month in which a target's attainment is below its goal:

    credit = monthly_fee × at_risk_percent / 100 × allocation_percent / 100

rounded half-up to cents on each line. A month's credits together never exceed the pool
(itself rounded half-up to cents): lines take from the pool in the policy's target order, so
when the pool runs out, the later targets' lines are cut (``capped``). The policy refuses
allocations that add up to more than 100%, so with a policy read from TOML the cap only ever
absorbs rounding; it is enforced anyway for policies built in code.

**Earn-back.** A target with ``earn_back_months = N`` and ``earn_back_goal = g`` waives a
month's credit when each of the N months that follow has attainment >= g for that target.
A following month with no stopped clocks for the target counts as *not met*: the vendor
earns credits back by performing, not by an empty month. So a credit whose window reaches
past the data stays due until the data is there; ``earn_back_until`` says which month
decides it. Earn-back only ever zeroes a credit, never raises one. :func:`earn_back` says
why, month by month (:class:`EarnBack`): the pages explain the outcome with it, and the
credit lines are decided by it.

Attainment is compared with goals exactly, as fractions: ``met / count`` against the goal as
written in the policy (``0.95`` is 19/20, not the nearest binary float), so 19 of 20 meets a
95% goal. Money is ``Decimal`` from the policy text to the frame (``Decimal(38, 2)``
columns), never a float. Months without any stopped clock for a target get no line: there
is nothing to measure, hence nothing to credit. Each line's tickets are
``tickets_behind(measurements, tickets, timezone=..., month=..., metric=..., priority=...)``
(``aggregate.py``).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

import polars as pl

from tandem.analytics.policy import Policy, Target

CENT = Decimal("0.01")
MONEY = pl.Decimal(38, 2)

#: The columns of :func:`credits`: one line per month and credit-bearing target.
CREDITS: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "metric": pl.String(),
    "priority": pl.String(),
    "count": pl.UInt32(),  # stopped clocks that month
    "met": pl.UInt32(),  # of which met their target
    "goal": pl.Float64(),
    "missed": pl.Boolean(),  # met / count < goal, exactly
    "allocation_percent": pl.Decimal(38, 4),
    "currency": pl.String(),
    "credit": MONEY,  # fee × at-risk % × allocation %, rounded; 0 when the goal was met
    "capped": MONEY,  # the credit after the month's pool cap
    "earn_back_until": pl.Date(),  # the last month of the earn-back window; null: none
    "earned_back": pl.Boolean(),
    "due": MONEY,  # capped, or 0 when earned back
}


class _Line(NamedTuple):
    month: date
    order: int
    target: Target
    stopped: int
    met: int
    missed: bool
    allocation: Decimal
    credit: Decimal
    until: date | None
    earned: bool


def credits(monthly: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The credit lines for ``monthly``, the frame of ``attainment(..., timezone=...)``
    (``month``, ``metric``, ``priority``, ``count``, ``met``); sorted by month, then target
    order. Empty when the policy has no ``[credits]`` table or no allocations."""
    terms = policy.credits
    targets = [t for t in policy.targets if t.credit_allocation_percent is not None]
    if terms is None or not targets:
        return pl.DataFrame(schema=CREDITS)
    counts: dict[tuple[str, str], dict[date, tuple[int, int]]] = {}
    for month, metric, priority, count, met in monthly.select(
        "month", "metric", "priority", "count", "met"
    ).iter_rows():
        counts.setdefault((metric, priority), {})[month] = (int(count), int(met))

    with decimal.localcontext() as context:
        context.prec = 60  # fee × two percentages stays exact before the rounding
        pool = _cents(terms.monthly_fee * terms.at_risk_percent / 100)
        lines: list[_Line] = []
        for order, target in enumerate(targets):
            allocation = target.credit_allocation_percent
            assert allocation is not None and target.goal is not None  # the policy checks
            amount = _cents(terms.monthly_fee * terms.at_risk_percent / 100 * allocation / 100)
            months = counts.get((target.metric, target.priority), {})
            for month, (count, met) in months.items():
                missed = _below(met, count, target.goal)
                until = _earn_back(target, month, months) if missed else (None, False)
                credit = amount if missed else Decimal("0.00")
                lines.append(
                    _Line(month, order, target, count, met, missed, allocation, credit, *until)
                )
        lines.sort(key=lambda line: (line.month, line.order))
        left: dict[date, Decimal] = {}
        rows = []
        for line in lines:
            capped = min(line.credit, left.setdefault(line.month, pool))
            left[line.month] -= capped
            due = Decimal("0.00") if line.earned else capped
            target = line.target
            rows.append(
                (line.month, target.metric, target.priority, line.stopped, line.met, target.goal)
                + (line.missed, line.allocation, terms.currency, line.credit, capped)
                + (line.until, line.earned, due)
            )
    return pl.DataFrame(rows, schema=CREDITS, orient="row")


def credit_totals(lines: pl.DataFrame) -> pl.DataFrame:
    """Per month: the currency and the sums of ``credit``, ``capped`` and ``due`` (Decimal)."""
    return (
        lines.group_by("month", "currency")
        .agg(pl.col("credit").sum(), pl.col("capped").sum(), pl.col("due").sum())
        .sort("month")
        .cast({"credit": MONEY, "capped": MONEY, "due": MONEY})
    )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _below(met: int, count: int, goal: float) -> bool:
    """``met / count < goal`` exactly, the goal read as written (``str``: 0.95 is 19/20)."""
    return Fraction(met, count) < Fraction(str(goal))


def _earn_back(
    target: Target, month: date, months: dict[date, tuple[int, int]]
) -> tuple[date | None, bool]:
    """The last month of the earn-back window and whether every month in it met the goal."""
    if target.earn_back_months is None or target.earn_back_goal is None:
        return None, False
    window = earn_back(
        month, months=target.earn_back_months, goal=target.earn_back_goal, attainment=months
    )
    return window.until, window.earned


@dataclass(frozen=True)
class WindowMonth:
    """One month of an earn-back window: its stopped clocks for the target, how many met,
    and whether that reaches the earn-back goal (a month without clocks never does)."""

    month: date
    count: int
    met: int
    reached: bool

    @property
    def attainment(self) -> float | None:
        return self.met / self.count if self.count else None


@dataclass(frozen=True)
class EarnBack:
    """Why a missed month's credit was (or was not) earned back: the goal and each month of
    the window that follows it, in order. Earned back when every one reached the goal."""

    credit_month: date
    goal: float
    window: tuple[WindowMonth, ...]

    @property
    def until(self) -> date:
        return self.window[-1].month

    @property
    def earned(self) -> bool:
        return all(month.reached for month in self.window)

    @property
    def missing(self) -> tuple[WindowMonth, ...]:
        """The window's months without a stopped clock (not yet measured, or empty)."""
        return tuple(month for month in self.window if month.count == 0)

    @property
    def short(self) -> tuple[WindowMonth, ...]:
        """The window's months with clocks whose attainment fell below the goal."""
        return tuple(month for month in self.window if month.count and not month.reached)


def earn_back(
    month: date, *, months: int, goal: float, attainment: Mapping[date, tuple[int, int]]
) -> EarnBack:
    """The earn-back of a credit for ``month``: each of the ``months`` months after it, with
    its ``(count, met)`` from ``attainment`` (the target's months; absent: no clock) and
    whether ``met / count >= goal`` exactly (the goal read as written)."""
    if months < 1:
        raise ValueError(f"earn-back months: expected at least 1, got {months}")
    window = []
    for k in range(1, months + 1):
        later = _add_months(month, k)
        count, met = attainment.get(later, (0, 0))
        reached = count > 0 and not _below(met, count, goal)
        window.append(WindowMonth(later, count, met, reached))
    return EarnBack(month, goal, tuple(window))


def _add_months(month: date, k: int) -> date:
    year, index = divmod(month.month - 1 + k, 12)
    return date(month.year + year, index + 1, 1)
