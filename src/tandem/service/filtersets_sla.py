"""FilterSets of SLA policy versions and runs, shared by their list pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from tandem.core.filtersets import IdFilter, SearchFilterSet, UtcDateTimeFilter
from tandem.service.choices import RunStatus
from tandem.service.models import SlaPolicy, SlaRun


class SlaPolicyFilterSet(SearchFilterSet):
    search_fields = ("name", "note")
    engagement_id = IdFilter(field_name="engagement_id")
    created_by_id = IdFilter(field_name="created_by_id")
    version = django_filters.NumberFilter(min_value=1, max_value=2**31 - 1)
    effective_from = django_filters.DateFilter()

    class Meta:
        model = SlaPolicy
        fields = ["engagement_id", "created_by_id", "version", "effective_from"]


class SlaRunFilterSet(SearchFilterSet):
    search_fields = ("error",)
    engagement_id = IdFilter(field_name="engagement_id")
    started_by_id = IdFilter(field_name="started_by_id")
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    version = django_filters.NumberFilter(
        method="used_version",
        min_value=1,
        max_value=2**31 - 1,
        label="Used policy version",
    )
    as_of_after = UtcDateTimeFilter(field_name="as_of", lookup_expr="gte", label="As of from")
    as_of_before = UtcDateTimeFilter(field_name="as_of", lookup_expr="lt", label="As of before")

    class Meta:
        model = SlaRun
        fields = ["engagement_id", "started_by_id", "status"]

    def used_version(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        """Runs that used policy version ``value`` (of their own engagement)."""
        if value is None:
            return queryset
        return queryset.filter(policies__version=value).distinct()
