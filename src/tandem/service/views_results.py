"""Lists and detail pages of what SLA runs stored: measurements (with the breach and at-risk
lists), aggregates and credit lines, each exportable as CSV or XLSX.

A list shows one run: the engagement's latest finished run, or the one ``?run_id=`` names. The
dashboard, parity and credit pages (``views_dashboard``) link here to show the clocks behind a
number: the list then says which cell it explains and how many clocks are behind it.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render

from tandem.core.choices import Action
from tandem.core.htmx import htmx_partial
from tandem.core.views.filterbar import tidy_filter_form
from tandem.core.views.generic import ObjectDetailView, ObjectListView, page_number
from tandem.service import exports, results
from tandem.service.choices import AggregateLevel, Metric
from tandem.service.filtersets_results import (
    ServiceCreditFilterSet,
    SlaAggregateFilterSet,
    SlaMeasurementFilterSet,
)
from tandem.service.models import (
    ServiceCredit,
    SlaAggregate,
    SlaMeasurement,
    SlaPolicy,
    SlaRun,
    TicketHold,
)
from tandem.service.tables_results import (
    AtRiskTable,
    ServiceCreditTable,
    SlaAggregateTable,
    SlaMeasurementTable,
)


class RunRowsListView(ObjectListView):
    """One run's rows (the latest finished run unless ``?run_id=``), filterable, sortable,
    paginated, exported as ``?export=csv`` or ``?export=xlsx`` with the same filters."""

    template_name = "service/slameasurement_list.html"
    per_page = 50
    intro = ""
    # Filters that say nothing on this list (every breach is missed): not in its filter bar.
    hidden_filters: tuple[str, ...] = ()
    table_exclude: tuple[str, ...] = ()

    def get_run(self) -> SlaRun | None:
        if not hasattr(self, "_run"):
            engagement = self.get_engagement()
            runs = SlaRun.objects.restrict(self.request.user, Action.VIEW).filter(
                engagement=engagement
            )
            run_id = self.request.GET.get("run_id", "")
            if run_id.isdigit():
                self._run = runs.filter(pk=int(run_id)).first()
            else:
                self._run = SlaRun.latest_for(engagement.pk) if engagement else None
        return self._run

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        run = self.get_run()
        return queryset.filter(run=run) if run is not None else queryset.none()

    def get_table(self, queryset: QuerySet[Any]) -> Any:
        exclude = (
            *self.table_class.Meta.__dict__.get("exclude", ()),
            *self.table_exclude,
            *self.engagement_exclude,
        )
        return self.table_class(queryset, request=self.request, exclude=exclude)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse | StreamingHttpResponse:
        queryset = self.get_queryset()
        filterset = self.filterset_class(request.GET, queryset=queryset, request=request)
        for name in self.hidden_filters:
            filterset.form.fields.pop(name, None)
        tidy_filter_form(filterset.form)
        queryset = filterset.qs if filterset.is_valid() else queryset.none()
        fmt = request.GET.get("export")
        if fmt in exports.FORMATS:
            engagement = self.get_engagement()
            return self.export_in_background(queryset, fmt) or exports.export_response(
                queryset, fmt=fmt, engagement=engagement, run=self.get_run()
            )
        table = self.get_table(queryset)
        try:
            table.paginate(page=page_number(request), per_page=self.per_page)
        except EmptyPage:
            table.paginate(page=table.paginator.num_pages, per_page=self.per_page)
        context = {
            "table": table,
            "filterset": filterset,
            "title": self.title,
            "intro": self.intro,
            "engagement": self.get_engagement(),
            "model": self.queryset.model,
            "run": self.get_run(),
            "add_allowed": False,
        }
        context.update(self.get_extra_context())
        return render(request, htmx_partial(request, self.template_name, list_page=True), context)


# Measurements: the drill-down, breaches, at risk -----------------------------------------------


_MEASUREMENT_ORDER = ("ticket_number", "metric")


class SlaMeasurementListView(RunRowsListView):
    queryset = SlaMeasurement.objects.order_by(*_MEASUREMENT_ORDER)
    table_class = SlaMeasurementTable
    filterset_class = SlaMeasurementFilterSet
    title = "SLA measurements"

    def get_extra_context(self) -> dict[str, Any]:
        return {"behind": self.behind()}

    def behind(self) -> dict[str, Any] | None:
        """When the filters name one month × metric × priority (and maybe a side or a group),
        the aggregate that counts these clocks: the list says "these N clocks are behind"."""
        get = self.request.GET
        month, metric, priorities = get.get("month"), get.getlist("metric"), get.getlist("priority")
        run = self.get_run()
        if not (run and month and len(metric) == 1 and len(priorities) == 1):
            return None
        sides, group = get.getlist("side"), get.get("assignment_group", "")
        filterset = SlaAggregateFilterSet(
            {"month": month, "metric": metric, "priority": priorities},
            queryset=SlaAggregate.objects.filter(run=run),
        )
        if not filterset.is_valid():
            return None
        rows = filterset.qs
        if group:
            rows = rows.filter(level=AggregateLevel.GROUP, assignment_group=group)
            if sides:
                rows = rows.filter(side__in=sides)
        elif sides:
            rows = rows.filter(level=AggregateLevel.SIDE, side__in=sides)
        else:
            rows = rows.filter(level=AggregateLevel.PRIORITY)
        cells = list(rows)
        if not cells:
            return None
        count, met = sum(c.count for c in cells), sum(c.met for c in cells)
        label = f"{cells[0].month:%B %Y} · {cells[0].priority} {Metric(metric[0]).label.lower()}"
        if group:
            label += f" · {group}"
        if sides:
            label += " · " + ", ".join(sorted(sides))
        return {
            "label": label,
            "count": count,
            "met": met,
            "attainment": results.percent(met / count if count else None),
            "aggregate": cells[0] if len(cells) == 1 else None,
            "goal": cells[0].goal,
        }


class SlaBreachListView(SlaMeasurementListView):
    queryset = results.breaches(SlaMeasurement.objects.all()).order_by(
        F("month").desc(nulls_first=True), *_MEASUREMENT_ORDER
    )
    title = "Breaches"
    template_name = "service/breaches.html"
    hidden_filters = ("met",)
    table_exclude = ("met",)
    intro = (
        "Clocks that ran past their target: stopped late, or still open and already over. "
        "Open ones first."
    )


class SlaAtRiskListView(SlaMeasurementListView):
    queryset = (
        results.at_risk(SlaMeasurement.objects.all())
        .alias(used_permille=F("elapsed_seconds") * 1000 / F("target_seconds"))
        .order_by("-used_permille", *_MEASUREMENT_ORDER)
    )
    table_class = AtRiskTable
    title = "At risk"
    template_name = "service/at_risk.html"
    hidden_filters = ("met", "open", "month")
    intro = (
        "Open clocks still within target that have used at least 75 % of it (flagged again "
        "at 90 %), measured up to the run's as-of instant. Most used first."
    )


class SlaMeasurementDetailView(ObjectDetailView):
    """One clock explained: when it started and stopped, the holds, elapsed against target."""

    queryset = SlaMeasurement.objects.select_related("engagement", "run", "ticket")
    template_name = "service/slameasurement_detail.html"

    def get_extra_context(self, obj: SlaMeasurement) -> dict[str, Any]:
        ticket = obj.ticket
        stop = None
        if not obj.is_open:  # the clock's stop as the run saw it (a later import may differ)
            stop = ticket.responded_at if obj.metric == Metric.RESPONSE else ticket.resolved_at
        holds = TicketHold.objects.filter(ticket=ticket).order_by("start")
        policy = (
            SlaPolicy.objects.restrict(self.request.user, Action.VIEW)
            .filter(engagement_id=obj.engagement_id, version=obj.policy_version)
            .first()
        )
        target = None
        if policy is not None:
            try:
                target = next(
                    t
                    for t in policy.parsed().targets
                    if t.priority == obj.priority and t.metric == obj.metric
                )
            except (StopIteration, ValueError):
                target = None
        used = obj.elapsed_seconds / obj.target_seconds if obj.target_seconds else None
        return {
            "ticket": ticket,
            "stop": stop,
            "holds": holds,
            "policy": policy,
            "target": target,
            "goal_text": results.percent(target.goal if target else None),
            "used": results.percent(used),
            "elapsed": results.duration(obj.elapsed_seconds),
            "target_text": results.duration(obj.target_seconds),
            "overrun": obj.overrun_seconds,
            "overrun_text": results.duration(abs(obj.overrun_seconds)),
        }


# Aggregates and credit lines ---------------------------------------------------------------


class SlaAggregateListView(RunRowsListView):
    queryset = SlaAggregate.objects.order_by("level", "month", "metric", "priority", "side")
    table_class = SlaAggregateTable
    filterset_class = SlaAggregateFilterSet
    title = "SLA aggregates"
    template_name = "service/slaaggregate_list.html"
    intro = (
        "Count, met, median and p90 of the stopped clocks of each month × metric × priority, "
        "and the same per side and per assignment group."
    )


class SlaAggregateDetailView(ObjectDetailView):
    queryset = SlaAggregate.objects.select_related("engagement", "run")
    template_name = "service/slaaggregate_detail.html"

    def get_extra_context(self, obj: SlaAggregate) -> dict[str, Any]:
        return {
            "attainment": results.percent(obj.attainment),
            "goal": results.percent(float(obj.goal)) if obj.goal is not None else "—",
            "median": results.duration(obj.median_seconds),
            "p90": results.duration(obj.p90_seconds),
            "drill_down": drill_down_query(obj),
        }


def drill_down_query(obj: SlaAggregate) -> str:
    """The measurement list's query string for the clocks an aggregate counts."""
    query = QueryDict(mutable=True)
    query["run_id"] = str(obj.run_id)
    query["month"] = f"{obj.month:%Y-%m}"
    query["metric"] = obj.metric
    query["priority"] = obj.priority
    if obj.level in (AggregateLevel.SIDE, AggregateLevel.GROUP) and obj.side:
        query["side"] = obj.side
    if obj.level == AggregateLevel.GROUP:
        query["assignment_group"] = obj.assignment_group
    return query.urlencode()


class ServiceCreditListView(RunRowsListView):
    queryset = ServiceCredit.objects.order_by("month", "priority", "metric")
    table_class = ServiceCreditTable
    filterset_class = ServiceCreditFilterSet
    title = "Service credit lines"
    template_name = "service/servicecredit_list.html"
    intro = "Every month × target of the run with its credit (zero when the goal was met)."


class ServiceCreditDetailView(ObjectDetailView):
    queryset = ServiceCredit.objects.select_related("engagement", "run")
    template_name = "service/servicecredit_detail.html"

    def get_extra_context(self, obj: ServiceCredit) -> dict[str, Any]:
        return {
            "attainment": results.percent(obj.met / obj.count if obj.count else None),
            "goal": results.percent(float(obj.goal)),
            "tickets_query": credit_tickets_query(obj),
            "earn_back": results.earn_back_notes(obj.run, [obj]).get(obj.pk),
        }


def credit_tickets_query(line: ServiceCredit) -> str:
    """The measurement list's query string for a credit line's clocks (stopped ones only)."""
    query = QueryDict(mutable=True)
    query["run_id"] = str(line.run_id)
    query["month"] = f"{line.month:%Y-%m}"
    query["metric"] = line.metric
    query["priority"] = line.priority
    query["open"] = "false"
    return query.urlencode()
