"""Reading what an SLA run stored, for the service-level pages, the API and the exports.

Nothing here writes. Every function takes a run the caller may see (the run belongs to an
engagement the caller was allowed into): the rows hang off the run, so they are scoped by it.

- :func:`attainment_matrix`: month × priority cells of one metric from the aggregates, each
  with its goal and whether it fell below it (exactly, ``met < goal × count``).
- :func:`parity_report`: client and vendor side by side from the run's side-level aggregates
  (months) and its side totals (the whole period), through ``tandem.analytics.parity``: no
  clock is read, however many the run measured.
- :func:`at_risk` / :func:`breaches`: the measurement querysets behind those lists.
- :func:`duration`: "4 h 12 min", the way the pages show business seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from django.db.models import F, Max, QuerySet, Sum
from django.db.models.lookups import GreaterThanOrEqual

from tandem.analytics import parity as parity_engine
from tandem.analytics.credits import EarnBack, WindowMonth, earn_back
from tandem.service.choices import AggregateLevel, MeasuredSide, Metric, Priority
from tandem.service.models import (
    ServiceCredit,
    SlaAggregate,
    SlaMeasurement,
    SlaPolicy,
    SlaRun,
)

#: An open clock is at risk from this share of its target used (and "critical" from the next).
AT_RISK_PERCENT = 75
CRITICAL_PERCENT = 90


# Durations ----------------------------------------------------------------------------------


def duration(seconds: int | None) -> str:
    """Business seconds as people read them: "45 s", "12 min", "4 h 12 min", "-1 h 5 min".

    No days: a business day's length depends on the calendar (the policy counts in h, m, s).
    Seconds show only under an hour, where they matter.
    """
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours} h {minutes} min" if minutes else f"{sign}{hours} h"
    if minutes:
        return f"{sign}{minutes} min {secs} s" if secs else f"{sign}{minutes} min"
    return f"{sign}{secs} s"


def percent(share: float | None, places: int = 1) -> str:
    return "—" if share is None else f"{share * 100:.{places}f} %"


def month_label(month: date | None) -> str:
    return "open" if month is None else month.strftime("%b %Y")


# Runs and months ----------------------------------------------------------------------------


def run_months(run: SlaRun) -> tuple[date, date, bool]:
    """The two months the headline shows, in the run's time zone, and whether the first is
    still running: the run's own month and the one before it, or, when no clock stopped that
    late (an old export measured today), the last month with stopped clocks and the one before.
    """
    local = run.as_of.astimezone(ZoneInfo(run.time_zone or "UTC"))
    as_of_month = date(local.year, local.month, 1)
    latest = SlaAggregate.objects.filter(run=run).aggregate(latest=Max("month"))["latest"]
    this_month = min(as_of_month, latest) if latest else as_of_month
    last = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)
    return this_month, last, this_month == as_of_month


# Measurement querysets ----------------------------------------------------------------------


def breaches(measurements: QuerySet[SlaMeasurement]) -> QuerySet[SlaMeasurement]:
    """Clocks over their target: stopped late, or still open and already past it."""
    return measurements.filter(met=False)


def at_risk(measurements: QuerySet[SlaMeasurement]) -> QuerySet[SlaMeasurement]:
    """Open clocks still within target with at least 75 % of it used (integers: no rounding)."""
    return measurements.filter(
        GreaterThanOrEqual(F("elapsed_seconds") * 100, F("target_seconds") * AT_RISK_PERCENT),
        month__isnull=True,
        met=True,
    )


def at_risk_counts(measurements: QuerySet[SlaMeasurement]) -> tuple[int, int]:
    """How many clocks are at risk, and how many of them have used 90 % of their target."""
    risky = at_risk(measurements)
    critical = risky.filter(
        GreaterThanOrEqual(F("elapsed_seconds") * 100, F("target_seconds") * CRITICAL_PERCENT)
    )
    return risky.count(), critical.count()


# The dashboard's matrix ---------------------------------------------------------------------


@dataclass
class Cell:
    """One month × priority of a metric: the aggregate behind it, or nothing measured."""

    month: date
    priority: str
    count: int = 0
    met: int = 0
    goal: Decimal | None = None
    aggregate_id: int | None = None

    @property
    def attainment(self) -> float | None:
        return self.met / self.count if self.count else None

    @property
    def below_goal(self) -> bool:
        return self.goal is not None and self.count > 0 and self.met < self.goal * self.count

    @property
    def attainment_text(self) -> str:
        return percent(self.attainment)

    @property
    def goal_text(self) -> str:
        return percent(float(self.goal)) if self.goal is not None else "—"


@dataclass
class Matrix:
    metric: str
    months: list[date]
    priorities: list[str]
    rows: list[tuple[date, list[Cell]]] = field(default_factory=list)
    goals: dict[str, Decimal | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(Metric(self.metric).label)

    @property
    def goal_texts(self) -> list[str]:
        return [
            percent(float(g)) if g is not None else "—"
            for g in (self.goals.get(p) for p in self.priorities)
        ]

    def cell(self, month: date, priority: str) -> Cell | None:
        for row_month, cells in self.rows:
            if row_month == month:
                return next((c for c in cells if c.priority == priority), None)
        return None


def aggregate_rows(
    run: SlaRun,
    *,
    metrics: list[str] | None = None,
    priorities: list[str] | None = None,
    sides: list[str] | None = None,
) -> QuerySet[SlaAggregate]:
    """Priority-level rows, or side-level ones when sides are asked for (summed by the caller)."""
    rows = SlaAggregate.objects.filter(run=run)
    if sides:
        rows = rows.filter(level=AggregateLevel.SIDE, side__in=sides)
    else:
        rows = rows.filter(level=AggregateLevel.PRIORITY)
    if metrics:
        rows = rows.filter(metric__in=metrics)
    if priorities:
        rows = rows.filter(priority__in=priorities)
    return rows


def attainment_matrices(
    run: SlaRun,
    *,
    metrics: list[str] | None = None,
    priorities: list[str] | None = None,
    sides: list[str] | None = None,
) -> list[Matrix]:
    """One month × priority matrix per metric measured (side rows summed when filtered)."""
    cells: dict[tuple[str, date, str], Cell] = {}
    rows = aggregate_rows(run, metrics=metrics, priorities=priorities, sides=sides)
    for row in rows.values("pk", "metric", "month", "priority", "count", "met", "goal"):
        key = (row["metric"], row["month"], row["priority"])
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(month=row["month"], priority=row["priority"])
            cell.aggregate_id = row["pk"]
        else:
            cell.aggregate_id = None  # several side rows: no single aggregate page
        cell.count += row["count"]
        cell.met += row["met"]
        cell.goal = row["goal"]
    matrices = []
    order = [p.value for p in Priority]
    for metric in [m.value for m in Metric]:
        mine = {k: c for k, c in cells.items() if k[0] == metric}
        if not mine:
            continue
        months = sorted({k[1] for k in mine})
        present = sorted({k[2] for k in mine}, key=order.index)
        matrix = Matrix(metric=metric, months=months, priorities=present)
        for month in months:
            matrix.rows.append(
                (month, [mine.get((metric, month, p)) or Cell(month, p) for p in present])
            )
        for (_m, _month, priority), cell in sorted(mine.items(), key=lambda kv: kv[0][1]):
            matrix.goals[priority] = cell.goal  # the latest month's goal (policy versions)
        matrices.append(matrix)
    return matrices


#: KPI cards headline no month with fewer stopped clocks than this for the metric (all the
#: priorities shown together): 3 of 4 met is "75 %" and means nothing to a board. The card
#: says so, and which later months it passed over.
HEADLINE_MIN_TICKETS = 20


def headline_month(
    volumes: dict[date, int], *, minimum: int, up_to: date | None = None
) -> tuple[date | None, list[date]]:
    """The month to headline: the latest (up to ``up_to``) with at least ``minimum`` tickets,
    and the later months with some but too few tickets that it passed over (latest first)."""
    skipped = []
    for month in sorted(volumes, reverse=True):
        if up_to is not None and month > up_to:
            continue
        if volumes[month] >= minimum:
            return month, skipped
        if volumes[month]:
            skipped.append(month)
    return None, skipped


@dataclass
class Tile:
    """One KPI card: a metric's attainment in one month, all priorities together."""

    metric: str
    label: str
    month: date | None
    count: int
    met: int
    below: int
    cells: int
    #: The headline month (the latest with enough tickets), or the one before it.
    headline: bool = True
    #: Later months passed over for too few tickets (latest first) and that minimum.
    skipped: list[date] = field(default_factory=list)
    minimum: int = HEADLINE_MIN_TICKETS

    @property
    def attainment(self) -> float | None:
        return self.met / self.count if self.count else None

    @property
    def attainment_text(self) -> str:
        return percent(self.attainment)


def _tile(matrix: Matrix, month: date | None, **extra: Any) -> Tile:
    cells = []
    if month is not None:
        cells = [c for c in (matrix.cell(month, p) for p in matrix.priorities) if c and c.count]
    return Tile(
        metric=matrix.metric,
        label=matrix.label,
        month=month,
        count=sum(c.count for c in cells),
        met=sum(c.met for c in cells),
        below=sum(c.below_goal for c in cells),
        cells=len(cells),
        **extra,
    )


def headline_tiles(
    matrices: list[Matrix], up_to: date, *, minimum: int = HEADLINE_MIN_TICKETS
) -> list[Tile]:
    """Per metric, two cards: the latest month up to ``up_to`` with at least ``minimum``
    stopped clocks (all priorities together), and the month with enough before it; each
    says how many priorities fell below their goal. A later month with too few tickets is
    not headlined: the headline card names it instead."""
    tiles = []
    for matrix in matrices:
        volumes = {month: sum(c.count for c in cells if c.count) for month, cells in matrix.rows}
        month, skipped = headline_month(volumes, minimum=minimum, up_to=up_to)
        tiles.append(_tile(matrix, month, skipped=skipped, minimum=minimum))
        if month is None:
            continue
        before = {m: v for m, v in volumes.items() if m < month}
        previous, _ = headline_month(before, minimum=minimum)
        if previous is not None:
            tiles.append(_tile(matrix, previous, headline=False, minimum=minimum))
    return tiles


def credits_due(run: SlaRun) -> dict[str, Decimal]:
    """The run's credits due per currency (usually one)."""
    rows = (
        ServiceCredit.objects.filter(run=run)
        .values("currency")
        .annotate(total=Sum("due"))
        .order_by("currency")
    )
    # SQLite sums decimals without their scale (1500, not 1500.00): put the cents back.
    cent = Decimal("0.01")
    return {row["currency"]: (row["total"] or Decimal(0)).quantize(cent) for row in rows}


# Earn-back, explained ------------------------------------------------------------------------


@dataclass
class EarnBackNote:
    """Why a credit line was or was not earned back, for a page: the engine's window
    (:class:`tandem.analytics.credits.EarnBack`) and the sentence that says it."""

    window: EarnBack
    text: str

    @property
    def earned(self) -> bool:
        return self.window.earned


def earn_back_notes(run: SlaRun, lines: list[ServiceCredit]) -> dict[int, EarnBackNote]:
    """For each line of ``run`` with an earn-back window (``earn_back_until`` set): which
    months followed it, their attainment against the earn-back goal of the line's policy
    version, and so whether the credit was earned back. Two queries however many lines."""
    windowed = [line for line in lines if line.earn_back_until is not None]
    if not windowed:
        return {}
    policies = SlaPolicy.objects.filter(
        engagement_id=run.engagement_id, version__in={line.policy_version for line in windowed}
    )
    terms: dict[tuple[int, str, str], tuple[int, float]] = {}
    for policy in policies:
        try:
            parsed = policy.parsed()
        except ValueError:
            continue  # a version that no longer parses explains nothing; the line stands
        for target in parsed.targets:
            if target.earn_back_months is not None and target.earn_back_goal is not None:
                key = (policy.version, target.metric, target.priority)
                terms[key] = (target.earn_back_months, target.earn_back_goal)
    months: dict[tuple[str, str], dict[date, tuple[int, int]]] = {}
    rows = SlaAggregate.objects.filter(
        run=run,
        level=AggregateLevel.PRIORITY,
        metric__in={line.metric for line in windowed},
        priority__in={line.priority for line in windowed},
    ).values_list("metric", "priority", "month", "count", "met")
    for metric, priority, month, count, met in rows:
        months.setdefault((metric, priority), {})[month] = (count, met)
    notes = {}
    for line in windowed:
        found = terms.get((line.policy_version, line.metric, line.priority))
        if found is None:
            continue
        window = earn_back(
            line.month,
            months=found[0],
            goal=found[1],
            attainment=months.get((line.metric, line.priority), {}),
        )
        notes[line.pk] = EarnBackNote(window, earn_back_text(window, line))
    return notes


def earn_back_text(window: EarnBack, line: ServiceCredit) -> str:
    """E.g. "Earned back: Apr 2019 (97.2 %, 35 of 36) and May 2019 (98.0 %, 49 of 50) each
    reached the 97 % earn-back goal, so the 1,500.00 USD credit of March 2019 is waived"."""
    goal = percent(window.goal, places=_places(window.goal))
    credit = f"the {line.capped:,.2f} {line.currency} credit of {line.month:%B %Y}"

    def said(month: WindowMonth) -> str:
        if not month.count:
            return f"{month.month:%b %Y} (no stopped clock)"
        return (
            f"{month.month:%b %Y} ({percent(month.attainment)}, {month.met:,} of {month.count:,})"
        )

    if window.earned:
        return (
            f"Earned back: {_and(said(m) for m in window.window)} "
            f"{'each ' if len(window.window) > 1 else ''}reached the {goal} earn-back goal, "
            f"so {credit} is waived."
        )
    reasons = []
    if window.short:
        reasons.append(f"{_and(said(m) for m in window.short)} fell below the {goal} goal")
    if window.missing:
        reasons.append(f"{_and(said(m) for m in window.missing)} had none, which counts as not met")
    needed = (
        f"each of the {len(window.window)} months after needed {goal}"
        if len(window.window) > 1
        else f"the month after needed {goal}"
    )
    return f"Not earned back: {needed}; {'; '.join(reasons)}. So {credit} stays due."


def _places(share: float) -> int:
    """Places enough to print a goal as written: 0.97 -> 97 %, 0.995 -> 99.5 %."""
    text = f"{share * 100:.4f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def _and(parts: Any) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# Parity --------------------------------------------------------------------------------------


PARITY_KEYS = ("metric", "priority")


def parity_clocks(
    run: SlaRun, *, metrics: list[str] | None = None, priorities: list[str] | None = None
) -> pl.DataFrame:
    """The run's stopped client and vendor clocks as the frame ``analytics.parity`` reads."""
    rows = _chosen(
        SlaMeasurement.objects.filter(
            run=run, month__isnull=False, side__in=[MeasuredSide.CLIENT, MeasuredSide.VENDOR]
        ),
        metrics,
        priorities,
    )
    columns = ("month", "metric", "priority", "side", "elapsed_seconds", "met")
    data = list(rows.order_by().values_list(*columns).iterator(chunk_size=10_000))
    schema = {
        "month": pl.Date(),
        "metric": pl.String(),
        "priority": pl.String(),
        "side": pl.String(),
        "elapsed_seconds": pl.Int64(),
        "met": pl.Boolean(),
    }
    return pl.DataFrame(data, schema=schema, orient="row")


#: The side totals ``analytics.parity.compare_sides`` reads (``month`` for the months only).
SIDE_TOTALS: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "metric": pl.String(),
    "priority": pl.String(),
    "side": pl.String(),
    "count": pl.Int64(),
    "met": pl.Int64(),
    "median_seconds": pl.Int64(),
}


def parity_totals(
    run: SlaRun, *, metrics: list[str] | None = None, priorities: list[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per side, the counts parity compares: per month (the side-level aggregates) and for
    the whole period (``run.side_totals``; a run stored before it kept them: from its
    clocks). A handful of rows either way."""
    months = _chosen(
        SlaAggregate.objects.filter(run=run, level=AggregateLevel.SIDE), metrics, priorities
    )
    monthly = pl.DataFrame(
        list(months.order_by().values_list(*SIDE_TOTALS)), schema=SIDE_TOTALS, orient="row"
    )
    period_schema = {k: v for k, v in SIDE_TOTALS.items() if k != "month"}
    if run.side_totals or not monthly.height:
        period = pl.DataFrame(run.side_totals, schema=period_schema).filter(
            pl.col("metric").is_in(metrics or list(Metric.values)),
            pl.col("priority").is_in(priorities or list(Priority.values)),
        )
    else:
        clocks = parity_clocks(run, metrics=metrics, priorities=priorities)
        period = parity_engine.side_totals(clocks, ("metric", "priority"))
    return monthly, period


def _chosen(
    rows: QuerySet[Any], metrics: list[str] | None, priorities: list[str] | None
) -> QuerySet[Any]:
    if metrics:
        rows = rows.filter(metric__in=metrics)
    if priorities:
        rows = rows.filter(priority__in=priorities)
    return rows


def verdict(row: dict[str, Any]) -> str:
    """The row's p-value in plain words."""
    if row.get("p_value") is None:
        missing = "client team" if not row.get("client_count") else "vendor"
        return f"not comparable: no {missing} clocks"
    p = p_text(row["p_value"])
    if not row.get("significant"):
        return f"no significant difference ({p})"
    worse = row["gap"] < 0
    return f"vendor significantly {'worse' if worse else 'better'} ({p})"


def p_text(p_value: float | None) -> str:
    if p_value is None:
        return "—"
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}"


def _with_words(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add what a page shows: percentages, the gap in points, medians, p and the verdict."""
    for row in rows:
        gap = row["gap"]
        row["verdict"] = verdict(row)
        row["gap_points"] = None if gap is None else gap * 100
        row["gap_text"] = "—" if gap is None else f"{gap * 100:+.1f} pts"
        row["p_text"] = p_text(row["p_value"])
        for side in ("client", "vendor"):
            row[f"{side}_attainment_text"] = percent(row[f"{side}_attainment"])
            row[f"{side}_median_text"] = duration(row[f"{side}_median_seconds"])
        if row.get("significant"):
            row["verdict_class"] = "significant-worse" if gap < 0 else "significant-better"
        else:
            row["verdict_class"] = ""
    return rows


@dataclass
class ParityReport:
    run: SlaRun
    alpha: float
    months: list[dict[str, Any]]
    period: list[dict[str, Any]]
    unmapped_clocks: int
    unmapped_groups: int


def parity_report(
    run: SlaRun,
    *,
    metrics: list[str] | None = None,
    priorities: list[str] | None = None,
    alpha: float = parity_engine.ALPHA,
) -> ParityReport:
    """Per month × metric × priority and for the whole period: both sides, the gap in points,
    the p-value, the test and a verdict in words; plus what the unmapped groups left out."""
    monthly, period = parity_totals(run, metrics=metrics, priorities=priorities)
    unmapped = _chosen(
        SlaAggregate.objects.filter(run=run, side=MeasuredSide.UNMAPPED), metrics, priorities
    )
    clocks = unmapped.filter(level=AggregateLevel.SIDE).aggregate(total=Sum("count"))["total"]
    groups = unmapped.filter(level=AggregateLevel.GROUP).order_by().values("assignment_group")
    return ParityReport(
        run=run,
        alpha=alpha,
        months=_with_words(parity_engine.compare_sides(monthly, alpha=alpha).to_dicts()),
        period=_with_words(parity_engine.compare_sides(period, alpha=alpha).to_dicts()),
        unmapped_clocks=clocks or 0,
        unmapped_groups=groups.distinct().count(),
    )


def as_utc(value: datetime | None) -> str:
    """An instant in ISO 8601 UTC ("2025-04-01T01:00:00+00:00"), or ""."""
    return value.astimezone(ZoneInfo("UTC")).isoformat() if value else ""
