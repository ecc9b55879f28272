"""One FilterSet per model, shared by the UI tables and the API (explicit ``<fk>_id`` filters)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from tandem.core.filtersets import AnyYesNo, IdFilter, SearchFilterSet, UtcDateTimeFilter
from tandem.core.models import Engagement
from tandem.service.choices import GroupSide, ImportFormat, ImportStatus, Priority, TicketKind
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold


class MonthField(forms.CharField):
    """``YYYY-MM`` (what ``<input type="month">`` sends), as ``(year, month)``."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value: object) -> tuple[int, int] | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip()
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not match or not (1 <= int(match[2]) <= 12) or not (1 < int(match[1]) < 9999):
            raise forms.ValidationError("Enter a month as YYYY-MM, for example 2025-03.")
        return int(match[1]), int(match[2])


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2025-03"})
class MonthFilter(django_filters.Filter):
    """Tickets opened in a calendar month of their engagement's time zone.

    Month edges are local midnights, so they differ between engagements: the condition is
    built per time zone, each as a range on ``opened_at`` the (engagement, opened_at) index
    serves.
    """

    field_class = MonthField

    def filter(self, qs: QuerySet, value: tuple[int, int] | None) -> QuerySet:
        if not value:
            return qs
        year, month = value
        by_zone: dict[str, list[int]] = defaultdict(list)
        for pk, zone in Engagement.objects.values_list("pk", "time_zone"):
            by_zone[zone].append(pk)
        condition = Q(pk__in=[])
        for zone, engagement_ids in by_zone.items():
            tz = ZoneInfo(zone)
            start = datetime(year, month, 1, tzinfo=tz)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
            condition |= Q(
                engagement_id__in=engagement_ids, opened_at__gte=start, opened_at__lt=end
            )
        return qs.filter(condition)


class TicketFilterSet(SearchFilterSet):
    search_fields = ("ticket_id", "assignment_group", "category")
    engagement_id = IdFilter(field_name="engagement_id")
    batch_id = IdFilter(field_name="batch_id")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices)
    assignment_group = django_filters.CharFilter(label="Assignment group")
    category = django_filters.CharFilter()
    is_open = django_filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", label="Open", widget=AnyYesNo
    )
    opened_month = MonthFilter(label="Opened in month")
    opened_after = UtcDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = UtcDateTimeFilter(field_name="opened_at", lookup_expr="lt")

    class Meta:
        model = Ticket
        fields = ["ticket_id", "engagement_id", "batch_id", "priority", "kind"]


class TicketHoldFilterSet(SearchFilterSet):
    search_fields = ("ticket__ticket_id",)
    engagement_id = IdFilter(field_name="engagement_id")
    ticket_id = IdFilter(field_name="ticket_id")
    is_open = django_filters.BooleanFilter(
        field_name="end", lookup_expr="isnull", label="Still on hold", widget=AnyYesNo
    )
    start_after = UtcDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = UtcDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = TicketHold
        fields = ["engagement_id", "ticket_id"]


class ImportBatchFilterSet(SearchFilterSet):
    search_fields = ("file_name",)
    engagement_id = IdFilter(field_name="engagement_id")
    imported_by_id = IdFilter(field_name="imported_by_id")
    format = django_filters.MultipleChoiceFilter(choices=ImportFormat.choices)
    status = django_filters.MultipleChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportBatch
        fields = ["engagement_id", "imported_by_id", "format", "status"]


class AssignmentGroupSideFilterSet(SearchFilterSet):
    search_fields = ("assignment_group",)
    engagement_id = IdFilter(field_name="engagement_id")
    vendor_id = IdFilter(field_name="vendor_id")
    side = django_filters.MultipleChoiceFilter(choices=GroupSide.choices)

    class Meta:
        model = AssignmentGroupSide
        fields = ["engagement_id", "vendor_id", "side"]
