"""The service-level pages an executive reads: the dashboard (attainment by month and priority
against goal), internal-vs-vendor parity, and credits by month. Each reads the engagement's
latest finished SLA run; every number links to the clocks behind it (``views_results``).
"""

from __future__ import annotations

import importlib.resources
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from tandem.core.views.generic import EngagementMixin
from tandem.service import charts, results
from tandem.service.choices import MeasuredSide, Metric, Priority
from tandem.service.models import ServiceCredit, SlaMeasurement, SlaRun
from tandem.service.views_results import credit_tickets_query

# plotly.js, from the installed ``plotly`` package (never a CDN) --------------------------------


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def plotly_js(request: HttpRequest) -> FileResponse:
    """The plotly.js bundle that ships inside the ``plotly`` Python package."""
    bundle = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
    return FileResponse(bundle.open("rb"), content_type="text/javascript; charset=utf-8")  # type: ignore[arg-type]


# Shared pieces -----------------------------------------------------------------------------


class ResultFilterForm(forms.Form):
    """The filter bar of the dashboard and parity pages (GET; empty means "all")."""

    metric = forms.MultipleChoiceField(
        choices=Metric.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    side = forms.MultipleChoiceField(
        choices=MeasuredSide.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class RunPageView(LoginRequiredMixin, EngagementMixin, View):
    """A page about the engagement's latest finished run, with a clear empty state."""

    template_name = ""
    title = ""
    sides_filter = True

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        engagement = self.get_engagement()
        run = SlaRun.latest_for(engagement.pk)
        form = ResultFilterForm(request.GET)
        if not self.sides_filter:
            del form.fields["side"]
        filters = form.cleaned_data if form.is_valid() else {}
        context: dict[str, Any] = {
            "engagement": engagement,
            "run": run,
            "title": self.title,
            "form": form,
            "filtered": any(filters.values()),
            "runs_url": _url_or_empty("service:slarun_list", engagement.pk),
            "policies_url": _url_or_empty("service:slapolicy_list", engagement.pk),
        }
        if run is not None:
            context.update(self.get_run_context(run, filters))
        return render(request, self.template_name, context)

    def get_run_context(self, run: SlaRun, filters: dict[str, Any]) -> dict[str, Any]:
        return {}


def _url_or_empty(name: str, engagement_pk: int) -> str:
    """A page another part of the app provides, if it is there yet."""
    try:
        return reverse(name, args=[engagement_pk])
    except NoReverseMatch:
        return ""


def _query(**values: Any) -> str:
    query = QueryDict(mutable=True)
    for key, value in values.items():
        if isinstance(value, list | tuple):
            query.setlist(key, [str(v) for v in value])
        elif value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


# The dashboard -----------------------------------------------------------------------------


class SlaDashboardView(RunPageView):
    template_name = "service/dashboard.html"
    title = "Service levels"

    def get_run_context(self, run: SlaRun, filters: dict[str, Any]) -> dict[str, Any]:
        metrics, priorities = filters.get("metric"), filters.get("priority")
        sides = filters.get("side")
        matrices = results.attainment_matrices(
            run, metrics=metrics, priorities=priorities, sides=sides
        )
        this_month, last_month, running = results.run_months(run)
        sections = []
        for matrix in matrices:
            rows = []
            for month, cells in matrix.rows:
                row_cells = []
                for cell in cells:
                    query = _query(
                        run_id=run.pk,
                        month=f"{month:%Y-%m}",
                        metric=matrix.metric,
                        priority=cell.priority,
                        side=sides or None,
                    )
                    row_cells.append({"cell": cell, "query": query})
                rows.append({"month": month, "cells": row_cells})
            sections.append(
                {
                    "matrix": matrix,
                    "rows": rows,
                    "figure": charts.attainment_figure(matrix),
                    "figure_id": f"chart-{matrix.metric}",
                    "data_id": f"chart-{matrix.metric}-data",
                }
            )
        measurements = SlaMeasurement.objects.filter(run=run)
        if metrics:
            measurements = measurements.filter(metric__in=metrics)
        if priorities:
            measurements = measurements.filter(priority__in=priorities)
        if sides:
            measurements = measurements.filter(side__in=sides)
        at_risk, critical = results.at_risk_counts(measurements)
        return {
            "sections": sections,
            "tiles": results.headline_tiles(
                matrices, this_month, minimum=results.HEADLINE_MIN_TICKETS
            ),
            "headline_minimum": results.HEADLINE_MIN_TICKETS,
            "this_month": this_month,
            "month_running": running,
            "last_month": last_month,
            "breaches": results.breaches(measurements).count(),
            "at_risk": at_risk,
            "at_risk_critical": critical,
            "credits_due": results.credits_due(run),
            "list_query": _query(
                run_id=run.pk, metric=metrics or None, priority=priorities or None, side=sides
            ),
        }


# Parity --------------------------------------------------------------------------------------


class SlaParityView(RunPageView):
    template_name = "service/parity.html"
    title = "Internal vs vendor parity"
    sides_filter = False

    def get_run_context(self, run: SlaRun, filters: dict[str, Any]) -> dict[str, Any]:
        report = results.parity_report(
            run, metrics=filters.get("metric"), priorities=filters.get("priority")
        )
        for row in [*report.months, *report.period]:
            month = f"{row['month']:%Y-%m}" if row.get("month") else None
            base = {
                "run_id": run.pk,
                "month": month,
                "metric": row["metric"],
                "priority": row["priority"],
                "open": "false",
            }
            row["client_query"] = _query(**base, side="client")
            row["vendor_query"] = _query(**base, side="vendor")
        sections = []
        for metric in Metric:
            months = [r for r in report.months if r["metric"] == metric.value]
            period = [r for r in report.period if r["metric"] == metric.value]
            if not months and not period:
                continue
            sections.append(
                {
                    "label": metric.label,
                    "months": months,
                    "period": period,
                    "significant": sum(1 for r in months if r["significant"]),
                    "figure": charts.parity_figure(str(metric.label), months),
                    "figure_id": f"parity-{metric.value}",
                    "data_id": f"parity-{metric.value}-data",
                }
            )
        return {
            "report": report,
            "sections": sections,
            "alpha": report.alpha,
            "groups_url": reverse("service:assignmentgroupside_list", args=[run.engagement_id]),
        }


# Credits -----------------------------------------------------------------------------------


class SlaCreditsView(RunPageView):
    template_name = "service/credits.html"
    title = "Service credits"
    sides_filter = False

    def get_run_context(self, run: SlaRun, filters: dict[str, Any]) -> dict[str, Any]:
        lines = ServiceCredit.objects.filter(run=run).order_by("month", "priority", "metric")
        if filters.get("metric"):
            lines = lines.filter(metric__in=filters["metric"])
        if filters.get("priority"):
            lines = lines.filter(priority__in=filters["priority"])
        lines = list(lines)
        notes = results.earn_back_notes(run, lines)
        months: dict[Any, dict[str, Any]] = {}
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for line in lines:
            line.earn_back_note = notes.get(line.pk)  # type: ignore[attr-defined]
            month = months.setdefault(
                line.month,
                {"month": line.month, "lines": [], "due": defaultdict(Decimal), "credit": 0},
            )
            line.tickets_query = credit_tickets_query(line)  # type: ignore[attr-defined]
            line.attainment_text = results.percent(  # type: ignore[attr-defined]
                line.met / line.count if line.count else None
            )
            line.goal_text = results.percent(float(line.goal))  # type: ignore[attr-defined]
            month["lines"].append(line)
            month["due"][line.currency] += line.due
            totals[line.currency] += line.due
        for month in months.values():
            month["due"] = dict(month["due"])
            month["missed"] = sum(1 for line in month["lines"] if line.missed)
        return {
            "months": list(months.values()),
            "totals": dict(totals),
            "lines_query": _query(run_id=run.pk),
        }
