"""Serializers of the service API. Tickets, holds and imports are read-only: only the import
service writes them."""

from __future__ import annotations

from tandem.core.api.serializers import ScopedModelSerializer
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold

TIMESTAMPS = ["created", "last_updated"]


class TicketSerializer(ScopedModelSerializer):
    class Meta:
        model = Ticket
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "ticket_id",
            "kind",
            "priority",
            "priority_raw",
            "opened_at",
            "responded_at",
            "resolved_at",
            "closed_at",
            "assignment_group",
            "category",
            "reassignment_count",
            "reopen_count",
            "short_description",
            "batch",
        ]
        read_only_fields = fields


class TicketHoldSerializer(ScopedModelSerializer):
    class Meta:
        model = TicketHold
        fields = ["id", "url", "display", "engagement", "ticket", "start", "end"]
        read_only_fields = fields


class ImportBatchSerializer(ScopedModelSerializer):
    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "file_name",
            "format",
            "time_zone",
            "mapping",
            "keep_text",
            "rows_read",
            "tickets_created",
            "tickets_updated",
            "holds_imported",
            "warnings",
            "status",
            "error",
            "imported_by",
            "started_at",
            "finished_at",
            *TIMESTAMPS,
        ]
        read_only_fields = fields


class AssignmentGroupSideSerializer(ScopedModelSerializer):
    class Meta:
        model = AssignmentGroupSide
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "assignment_group",
            "side",
            "vendor",
            *TIMESTAMPS,
        ]
