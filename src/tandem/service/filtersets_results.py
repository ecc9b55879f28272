"""FilterSets of what SLA runs stored, shared by the UI lists, their exports and the API."""

from __future__ import annotations

from datetime import date

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field

from tandem.core.filtersets import AnyYesNo, IdFilter, SearchFilterSet
from tandem.service.choices import AggregateLevel, MeasuredSide, Metric, Priority
from tandem.service.filtersets import MonthField
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-03"})
class RunMonthFilter(django_filters.Filter):
    """``YYYY-MM``: the rows of that month (a ``month`` column holds its first day, already in
    the engagement's time zone, so no conversion happens here)."""

    field_class = MonthField

    def filter(self, qs: QuerySet, value: tuple[int, int] | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{self.field_name: date(value[0], value[1], 1)})


class SlaMeasurementFilterSet(SearchFilterSet):
    search_fields = ("ticket_number", "assignment_group")
    engagement_id = IdFilter(field_name="engagement_id")
    run_id = IdFilter(field_name="run_id")
    ticket_id = IdFilter(field_name="ticket_id")
    month = RunMonthFilter(field_name="month", label="Month")
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    side = django_filters.MultipleChoiceFilter(choices=MeasuredSide.choices)
    assignment_group = django_filters.CharFilter(label="Assignment group")
    met = django_filters.BooleanFilter(label="Met", widget=AnyYesNo)
    open = django_filters.BooleanFilter(
        field_name="month", lookup_expr="isnull", label="Open", widget=AnyYesNo
    )

    class Meta:
        model = SlaMeasurement
        fields = ["engagement_id", "run_id", "ticket_id", "metric", "priority", "side", "met"]


class SlaAggregateFilterSet(SearchFilterSet):
    search_fields = ("assignment_group",)
    engagement_id = IdFilter(field_name="engagement_id")
    run_id = IdFilter(field_name="run_id")
    level = django_filters.MultipleChoiceFilter(choices=AggregateLevel.choices)
    month = RunMonthFilter(field_name="month", label="Month")
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    side = django_filters.MultipleChoiceFilter(choices=MeasuredSide.choices)
    assignment_group = django_filters.CharFilter(label="Assignment group")

    class Meta:
        model = SlaAggregate
        fields = ["engagement_id", "run_id", "level", "metric", "priority", "side"]


class ServiceCreditFilterSet(django_filters.FilterSet):
    engagement_id = IdFilter(field_name="engagement_id")
    run_id = IdFilter(field_name="run_id")
    month = RunMonthFilter(field_name="month", label="Month")
    metric = django_filters.MultipleChoiceFilter(choices=Metric.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    missed = django_filters.BooleanFilter(label="Below goal", widget=AnyYesNo)
    due = django_filters.BooleanFilter(method="filter_due", label="Credit due", widget=AnyYesNo)

    class Meta:
        model = ServiceCredit
        fields = ["engagement_id", "run_id", "metric", "priority", "missed", "currency"]

    def filter_due(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(due__gt=0) if value else queryset.filter(due=0)
