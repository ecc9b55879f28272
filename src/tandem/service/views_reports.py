"""Printed reports of the service app: the SLA monthly report (PDF).

The report reads the engagement's latest finished SLA run through the same functions as the
dashboard and the credits page (``tandem.service.results``), so the PDF and the pages always
show the same numbers. Whoever may see the engagement may download it (every party sees its
runs); anyone else gets a 404 (``EngagementMixin``: ``restrict()``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View

from tandem.core import reports, svg_charts
from tandem.core.exports import file_slug
from tandem.core.models import EngagementParty
from tandem.core.views.generic import EngagementMixin
from tandem.service import results
from tandem.service.choices import Metric, Priority
from tandem.service.models import ServiceCredit, SlaMeasurement, SlaRun

TEMPLATE = "service/reports/sla_monthly.html"


def attainment_chart(matrix: results.Matrix) -> str:
    """A static SVG line chart of one metric: attainment per priority by month, goal lines."""
    categories = [f"{month:%b %Y}" for month in matrix.months]
    series = []
    for index, priority in enumerate(matrix.priorities):
        values = tuple(cells[index].attainment for _month, cells in matrix.rows)
        series.append(svg_charts.Series(str(Priority(priority).label), values))
    goals = [
        svg_charts.Goal(float(goal), str(Priority(priority).label))
        for priority, goal in matrix.goals.items()
        if goal is not None
    ]
    low = min([0.5, *(v for s in series for v in s.values if v is not None)])
    low = min(0.5, (int(low * 10) / 10))  # a round lower edge: 0.5, 0.4, ... 0
    return svg_charts.line_chart(
        categories,
        series,
        title=f"{matrix.label}: attainment vs goal",
        goals=goals,
        low=low,
        high=1.0,
        ticks=5,
    )


def report_context(run: SlaRun) -> dict[str, Any]:
    """Everything the SLA monthly report shows, from the run's stored rows."""
    engagement = run.engagement
    zone = ZoneInfo(engagement.time_zone)
    sections = [
        {"matrix": matrix, "chart": mark_safe(attainment_chart(matrix))}  # noqa: S308 - escaped
        for matrix in results.attainment_matrices(run)
    ]
    lines = list(
        ServiceCredit.objects.filter(run=run).order_by("month", "metric", "priority", "pk")
    )
    notes = results.earn_back_notes(run, lines)
    parties = list(
        EngagementParty.objects.filter(engagement=engagement).select_related("organization")
    )
    credit_rows = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        totals[line.currency] += line.due
        note = notes.get(line.pk)
        if not (line.missed or line.due or note):
            continue  # a met month with nothing owed: the attainment table shows it
        credit_rows.append(
            {
                "line": line,
                "metric": Metric(line.metric).label,
                "attainment": results.percent(line.met / line.count if line.count else None),
                "goal": results.percent(float(line.goal)),
                "note": note.text if note else "",
            }
        )
    return {
        "engagement": engagement,
        "run": run,
        "zone": zone.key,
        "as_of": timezone.localtime(run.as_of, zone),
        "finished_at": timezone.localtime(run.finished_at, zone) if run.finished_at else None,
        "generated": timezone.localtime(timezone.now(), zone),
        "parties": parties,
        "client_listed": any(p.organization_id == engagement.client_id for p in parties),
        "sections": sections,
        "breaches": results.breaches(SlaMeasurement.objects.filter(run=run)).count(),
        "below_goal": sum(
            1
            for section in sections
            for _month, cells in section["matrix"].rows
            for cell in cells
            if cell.below_goal
        ),
        "credits_due": results.credits_due(run),
        "credit_rows": credit_rows,
        "credit_totals": dict(totals),
    }


class SlaReportPdfView(LoginRequiredMixin, EngagementMixin, View):
    """``GET``: the latest finished run's monthly report as a PDF download."""

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        engagement = self.get_engagement()
        assert engagement is not None  # the URL has engagement_pk
        run = SlaRun.latest_for(engagement.pk)
        if run is None:  # nothing to report: the dashboard says how to get a run
            return redirect("service:sla_dashboard", engagement.pk)
        name = f"{file_slug(engagement.name, 'engagement')}-sla-report-run-{run.number}.pdf"
        return reports.pdf_response(request, TEMPLATE, report_context(run), filename=name)
