"""django-tables2 tables of the service app: sortable, linked, plain values for CSV export.

Times render in the current time zone (the engagement's, set by the list template) and
export as ISO 8601 UTC instants.
"""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html

from tandem.core.tables import BaseTable, badge
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold


class InstantColumn(tables.Column):
    """An instant shown in the engagement's time zone; exported in UTC."""

    def render(self, value: Any) -> str:
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}">{}</time>', value.isoformat(), local.strftime("%Y-%m-%d %H:%M")
        )

    def value(self, value: Any) -> str:
        return value.isoformat() if value else ""


class TicketTable(BaseTable):
    ticket_id = tables.Column(linkify=True, verbose_name="Ticket")
    priority = tables.Column()
    kind = tables.Column()
    opened_at = InstantColumn(verbose_name="Opened")
    responded_at = InstantColumn(verbose_name="Responded")
    resolved_at = InstantColumn(verbose_name="Resolved")
    assignment_group = tables.Column(verbose_name="Group")
    category = tables.Column()
    reassignment_count = tables.Column(verbose_name="Reassigned")
    reopen_count = tables.Column(verbose_name="Reopened")

    class Meta(BaseTable.Meta):
        model = Ticket
        fields = (
            "ticket_id",
            "priority",
            "kind",
            "opened_at",
            "responded_at",
            "resolved_at",
            "assignment_group",
            "category",
            "reassignment_count",
            "reopen_count",
        )
        empty_text = "No tickets imported yet."

    def render_priority(self, record: Ticket, value: str) -> str:
        return badge("priority", value.lower(), value)

    def value_priority(self, value: str) -> str:
        return value


class TicketHoldTable(BaseTable):
    ticket = tables.Column(linkify=True, order_by="ticket__ticket_id")
    start = InstantColumn()
    end = InstantColumn(default="still on hold")
    details = tables.LinkColumn(
        "service:tickethold_detail",
        args=[tables.A("pk")],
        text="Open",
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(BaseTable.Meta):
        model = TicketHold
        fields = ("ticket", "start", "end")
        empty_text = "No holds."


class ImportBatchTable(BaseTable):
    file_name = tables.Column(linkify=True, verbose_name="File")
    format = tables.Column()
    status = tables.Column()
    started_at = InstantColumn(verbose_name="Started")
    imported_by = tables.Column(verbose_name="By", order_by="imported_by__full_name")
    rows_read = tables.Column(verbose_name="Rows")
    tickets_created = tables.Column(verbose_name="New")
    tickets_updated = tables.Column(verbose_name="Updated")
    holds_imported = tables.Column(verbose_name="Holds")

    class Meta(BaseTable.Meta):
        model = ImportBatch
        fields = (
            "file_name",
            "format",
            "status",
            "started_at",
            "imported_by",
            "rows_read",
            "tickets_created",
            "tickets_updated",
            "holds_imported",
        )
        empty_text = "No imports yet."

    def render_status(self, record: ImportBatch, value: str) -> str:
        return badge("status", record.status, value)

    def value_status(self, record: ImportBatch) -> str:
        return record.status


class AssignmentGroupSideTable(BaseTable):
    assignment_group = tables.Column(linkify=True, verbose_name="Assignment group")
    side = tables.Column()
    vendor = tables.Column(linkify=True, order_by="vendor__name")

    class Meta(BaseTable.Meta):
        model = AssignmentGroupSide
        fields = ("assignment_group", "side", "vendor")
        empty_text = "No groups mapped yet: parity needs each group's side."

    def render_side(self, record: AssignmentGroupSide, value: str) -> str:
        return badge("side", record.side, value)

    def value_side(self, record: AssignmentGroupSide) -> str:
        return record.side
