"""django-tables2 tables of the core app: sortable, linked, and plain values for CSV export."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from tandem.core.models import ChangeLog, Engagement, EngagementParty, Organization, RoleAssignment
from tandem.core.models import User as Person


def badge(kind: str, value: str, label: str) -> str:
    return format_html(
        '<span class="badge badge-{} badge-{}-{}">{}</span>', kind, kind, value, label
    )


class BaseTable(tables.Table):
    class Meta:
        attrs = {"class": "table"}
        empty_text = "Nothing here yet."


class EngagementTable(BaseTable):
    name = tables.Column(linkify=True)
    client = tables.Column(linkify=True, order_by="client__name")
    kind = tables.Column()
    phase = tables.Column()
    start_date = tables.DateColumn(verbose_name="Starts", format="M j, Y")
    end_date = tables.DateColumn(verbose_name="Ends", format="M j, Y")

    class Meta(BaseTable.Meta):
        model = Engagement
        fields = ("name", "client", "kind", "phase", "start_date", "end_date")

    def render_phase(self, record: Engagement, value: str) -> str:
        return badge("phase", record.phase, value)

    def value_phase(self, record: Engagement) -> str:
        return record.get_phase_display()


class EngagementPartyTable(BaseTable):
    organization = tables.Column(linkify=True, order_by="organization__name")
    engagement = tables.Column(linkify=True, order_by="engagement__name")
    side = tables.Column()
    scope_summary = tables.Column(verbose_name="Scope")
    details = tables.LinkColumn(
        "core:engagementparty_detail",
        args=[tables.A("pk")],
        text="Open",
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(BaseTable.Meta):
        model = EngagementParty
        fields = ("organization", "engagement", "side", "scope_summary")

    def render_side(self, record: EngagementParty, value: str) -> str:
        return badge("side", record.side, value)

    def value_side(self, record: EngagementParty) -> str:
        return record.get_side_display()


class RoleAssignmentTable(BaseTable):
    user = tables.Column(linkify=True, verbose_name="Person", order_by="user__full_name")
    organization = tables.Column(
        accessor="user__organization", linkify=True, order_by="user__organization__name"
    )
    engagement = tables.Column(linkify=True, order_by="engagement__name")
    role = tables.Column()
    note = tables.Column()
    details = tables.LinkColumn(
        "core:roleassignment_detail",
        args=[tables.A("pk")],
        text="Open",
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(BaseTable.Meta):
        model = RoleAssignment
        fields = ("user", "organization", "engagement", "role", "note")

    def render_role(self, record: RoleAssignment, value: str) -> str:
        return badge("role", record.role, value)

    def value_role(self, record: RoleAssignment) -> str:
        return record.get_role_display()


class OrganizationTable(BaseTable):
    name = tables.Column(linkify=True)
    kind = tables.Column()
    time_zone = tables.Column()
    size = tables.Column()

    class Meta(BaseTable.Meta):
        model = Organization
        fields = ("name", "kind", "time_zone", "size")

    def render_kind(self, record: Organization, value: str) -> str:
        return badge("kind", record.kind, value)

    def value_kind(self, record: Organization) -> str:
        return record.get_kind_display()

    def render_size(self, record: Organization, value: int) -> str:
        return f"{value:,} {record.get_size_unit_display().lower()}".strip()


class PersonTable(BaseTable):
    full_name = tables.Column(linkify=True, verbose_name="Name")
    email = tables.EmailColumn()
    organization = tables.Column(linkify=True, order_by="organization__name")
    job_title = tables.Column()
    is_staff = tables.BooleanColumn(verbose_name="Administrator")
    is_active = tables.BooleanColumn(verbose_name="Active")

    class Meta(BaseTable.Meta):
        model = Person
        fields = ("full_name", "email", "organization", "job_title", "is_staff", "is_active")


class ChangeLogTable(BaseTable):
    """Times render in the current time zone (the engagement's, set by the template)."""

    time = tables.Column()
    user_name = tables.Column(verbose_name="Who")
    action = tables.Column()
    object_type = tables.Column(
        accessor="content_type__model", verbose_name="Type", order_by="content_type__model"
    )
    object_repr = tables.Column(verbose_name="Object", linkify=True)
    source = tables.Column()
    changes = tables.Column(empty_values=(), orderable=False, verbose_name="Fields changed")

    class Meta(BaseTable.Meta):
        model = ChangeLog
        fields = ("time", "user_name", "action", "object_type", "object_repr", "source")
        order_by = ("-time",)
        empty_text = "No changes recorded."

    def render_time(self, value: Any) -> str:
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}">{}</time>', value.isoformat(), local.strftime("%Y-%m-%d %H:%M %Z")
        )

    def value_time(self, value: Any) -> str:
        return value.isoformat()

    def render_action(self, record: ChangeLog, value: str) -> str:
        return badge("action", record.action, value)

    def value_action(self, record: ChangeLog) -> str:
        return record.action

    def render_object_type(self, record: ChangeLog) -> str:
        return capfirst(str(record.content_type.model_class()._meta.verbose_name))  # type: ignore[union-attr]

    def render_changes(self, record: ChangeLog) -> str:
        names = [name for name, _before, _after in record.diff]
        shown = ", ".join(names[:4]) + (f" +{len(names) - 4}" if len(names) > 4 else "")
        return shown or "—"

    def value_changes(self, record: ChangeLog) -> str:
        return " ".join(name for name, _b, _a in record.diff)
