"""The service-level headline cards of the engagement home and the home page
(``tandem.core.headlines``): per engagement, its latest finished SLA run's current attainment
(the latest month with enough tickets, as the dashboard's KPI cards choose it), breaches, at
risk and credits due.

Bounded reads: the home page's card costs five queries however many engagements it lists
(latest runs, their monthly totals, the headline months' priorities, credits due), the
engagement home's the same five for one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, Subquery, Sum

from tandem.core.choices import Action
from tandem.core.headlines import Headline
from tandem.service import results
from tandem.service.choices import AggregateLevel, Metric, RunStatus
from tandem.service.models import ServiceCredit, SlaAggregate, SlaRun

#: The metrics a headline shows, in this order (the contract's usual emphasis).
METRICS = (Metric.RESOLUTION, Metric.RESPONSE)


@dataclass
class MetricHeadline:
    """One metric's current attainment: the latest month with enough tickets."""

    metric: str
    month: date | None
    count: int = 0
    met: int = 0
    below: int = 0
    priorities: int = 0
    skipped: list[date] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(Metric(self.metric).label)

    @property
    def attainment_text(self) -> str:
        return results.percent(self.met / self.count if self.count else None)


@dataclass
class RunHeadline:
    """What one engagement's card (or row of the home card) shows."""

    engagement: Any
    run: SlaRun
    metrics: list[MetricHeadline]
    credits_due: dict[str, Decimal]

    @property
    def below(self) -> int:
        return sum(m.below for m in self.metrics)

    @property
    def by_metric(self) -> list[MetricHeadline]:
        """One per ``METRICS``, in order: an empty one (no month) where nothing stopped."""
        found = {m.metric: m for m in self.metrics}
        return [found.get(metric) or MetricHeadline(metric, None) for metric in METRICS]


def latest_runs(user: Any, engagement_ids: list[int]) -> dict[int, SlaRun]:
    """The latest finished run of each engagement the user may see runs of (one query)."""
    latest = (
        SlaRun.objects.filter(engagement_id=OuterRef("engagement_id"), status=RunStatus.DONE)
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    runs = (
        SlaRun.objects.restrict(user, Action.VIEW)
        .filter(engagement_id__in=engagement_ids, status=RunStatus.DONE, pk=Subquery(latest))
        .order_by()
    )
    return {run.engagement_id: run for run in runs}


def run_headlines(runs: dict[int, SlaRun], *, minimum: int | None = None) -> dict[int, RunHeadline]:
    """Per engagement, its run's headline: per metric the latest month (up to the run's
    as-of month) with at least ``minimum`` stopped clocks, how many priorities fell below
    goal then; and the credits due. Three queries for any number of runs."""
    if not runs:
        return {}
    minimum = results.HEADLINE_MIN_TICKETS if minimum is None else minimum
    by_run = {run.pk: run for run in runs.values()}
    volumes: dict[tuple[int, str], dict[date, tuple[int, int]]] = defaultdict(dict)
    monthly = (
        SlaAggregate.objects.filter(
            run_id__in=by_run, level=AggregateLevel.PRIORITY, metric__in=METRICS
        )
        .values("run_id", "metric", "month")
        .annotate(clocks=Sum("count"), hits=Sum("met"))
        .order_by()
    )
    for row in monthly:
        volumes[(row["run_id"], row["metric"])][row["month"]] = (row["clocks"], row["hits"])
    chosen: dict[tuple[int, str], MetricHeadline] = {}
    for run in by_run.values():
        local = run.as_of.astimezone(ZoneInfo(run.time_zone or "UTC"))
        up_to = date(local.year, local.month, 1)
        for metric in METRICS:
            months = volumes.get((run.pk, metric))
            if not months:
                continue
            month, skipped = results.headline_month(
                {m: clocks for m, (clocks, _) in months.items()}, minimum=minimum, up_to=up_to
            )
            count, met = months.get(month, (0, 0)) if month else (0, 0)
            chosen[(run.pk, metric)] = MetricHeadline(metric, month, count, met, skipped=skipped)
    _count_below(chosen)
    due = _credits_due(list(by_run))
    return {
        engagement_id: RunHeadline(
            engagement=run.engagement,
            run=run,
            metrics=[chosen[(run.pk, m)] for m in METRICS if (run.pk, m) in chosen],
            credits_due=due.get(run.pk, {}),
        )
        for engagement_id, run in runs.items()
    }


def _count_below(chosen: dict[tuple[int, str], MetricHeadline]) -> None:
    """Each headline month's priorities below their goal, exactly (one query)."""
    cells = [(run_id, h.metric, h.month) for (run_id, _), h in chosen.items() if h.month]
    if not cells:
        return
    which = reduce(or_, (Q(run_id=r, metric=m, month=month) for r, m, month in cells))
    rows = SlaAggregate.objects.filter(which, level=AggregateLevel.PRIORITY).only(
        "run_id", "metric", "count", "met", "goal"
    )
    for row in rows:
        headline = chosen[(row.run_id, row.metric)]
        headline.priorities += 1
        headline.below += row.missed_goal


def _credits_due(run_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    rows = (
        ServiceCredit.objects.filter(run_id__in=run_ids)
        .values("run_id", "currency")
        .annotate(total=Sum("due"))
        .order_by("run_id", "currency")
    )
    due: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        # SQLite sums decimals without their scale: put the cents back (results.credits_due).
        due[row["run_id"]][row["currency"]] = (row["total"] or Decimal(0)).quantize(Decimal("0.01"))
    return due


# The providers -------------------------------------------------------------------------------


def engagement_card(user: Any, engagement: Any) -> Headline | None:
    """The engagement home's service-level card, once a run has finished."""
    runs = latest_runs(user, [engagement.pk])
    if not runs:
        return None
    for run in runs.values():
        run.engagement = engagement  # known: no query for it
    headline = run_headlines(runs)[engagement.pk]
    return Headline(
        "service/_headline_engagement.html",
        {"headline": headline, "minimum": results.HEADLINE_MIN_TICKETS},
        order=10,
    )


def home_card(user: Any, engagements: Any) -> Headline | None:
    """The home page's card: one row per listed engagement with a finished run."""
    by_id = {engagement.pk: engagement for engagement in engagements}
    runs = latest_runs(user, list(by_id))
    if not runs:
        return None
    for engagement_id, run in runs.items():
        run.engagement = by_id[engagement_id]
    headlines = run_headlines(runs)
    rows = [headlines[e.pk] for e in engagements if e.pk in headlines]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        for currency, amount in row.credits_due.items():
            totals[currency] += amount
    return Headline(
        "service/_headline_home.html",
        {
            "rows": rows,
            "breaches": sum(row.run.breaches_count for row in rows),
            "credits_due": dict(totals),
            "minimum": results.HEADLINE_MIN_TICKETS,
        },
        order=10,
    )
