"""One FilterSet per model, shared by the UI tables and the API (explicit ``<fk>_id`` filters)."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.widgets import BooleanWidget

from tandem.core.choices import (
    AuditAction,
    AuditSource,
    EngagementKind,
    OrganizationKind,
    Phase,
    Role,
    Side,
)
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)


class IdFilter(django_filters.NumberFilter):
    """An ``<fk>_id`` filter: a whole number in the database's range (else a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, turned into UTC before it reaches the database.

    PostgreSQL refuses offsets beyond its range (``-16:13``) and dates near year 1 can
    overflow when shifted: both are a 400 naming the filter, not a 500.
    """

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            instant = parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date and time between years 2 and 9998.") from None
        if not (1 < instant.year < 9999):
            raise forms.ValidationError("Enter a date and time between years 2 and 9998.")
        return instant


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class SearchFilterSet(django_filters.FilterSet):
    """Adds ``q``: a case-insensitive search over ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class OrganizationFilterSet(SearchFilterSet):
    search_fields = ("name", "notes")
    kind = django_filters.MultipleChoiceFilter(choices=OrganizationKind.choices)

    class Meta:
        model = Organization
        fields = ["kind", "time_zone"]


class EngagementFilterSet(SearchFilterSet):
    search_fields = ("name", "client__name", "description")
    kind = django_filters.MultipleChoiceFilter(choices=EngagementKind.choices)
    phase = django_filters.MultipleChoiceFilter(choices=Phase.choices)
    client_id = IdFilter(field_name="client_id")

    class Meta:
        model = Engagement
        fields = ["kind", "phase", "client_id", "currency", "time_zone"]


class EngagementPartyFilterSet(SearchFilterSet):
    search_fields = ("organization__name", "scope_summary")
    side = django_filters.MultipleChoiceFilter(choices=Side.choices)
    engagement_id = IdFilter(field_name="engagement_id")
    organization_id = IdFilter(field_name="organization_id")

    class Meta:
        model = EngagementParty
        fields = ["side", "engagement_id", "organization_id"]


class RoleAssignmentFilterSet(SearchFilterSet):
    search_fields = ("user__full_name", "user__email", "note")
    role = django_filters.MultipleChoiceFilter(choices=Role.choices)
    engagement_id = IdFilter(field_name="engagement_id")
    user_id = IdFilter(field_name="user_id")
    organization_id = IdFilter(field_name="user__organization_id")

    class Meta:
        model = RoleAssignment
        fields = ["role", "engagement_id", "user_id", "organization_id"]


class AnyYesNo(BooleanWidget):
    """``true`` / ``false`` in the query string, shown as Any / Yes / No."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]


class UserFilterSet(SearchFilterSet):
    search_fields = ("full_name", "email", "job_title")
    organization_id = IdFilter(field_name="organization_id")
    is_active = django_filters.BooleanFilter(label="Active", widget=AnyYesNo)
    is_staff = django_filters.BooleanFilter(label="Platform administrator", widget=AnyYesNo)

    class Meta:
        model = User
        fields = ["organization_id", "is_active", "is_staff"]


class ChangeLogFilterSet(SearchFilterSet):
    search_fields = ("object_repr", "user_name", "message")
    action = django_filters.MultipleChoiceFilter(choices=AuditAction.choices)
    source = django_filters.MultipleChoiceFilter(choices=AuditSource.choices)
    engagement_id = IdFilter(field_name="engagement_id")
    user_id = IdFilter(field_name="user_id")
    object_type = django_filters.CharFilter(field_name="content_type__model", label="Object type")
    object_id = django_filters.CharFilter(field_name="object_id")
    request_id = django_filters.UUIDFilter(field_name="request_id")
    time_after = UtcDateTimeFilter(field_name="time", lookup_expr="gte")
    time_before = UtcDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = ChangeLog
        fields = ["action", "source", "engagement_id", "user_id", "request_id"]
