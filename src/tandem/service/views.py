"""Pages of the service app: imported tickets and holds (read-only), the imports that wrote
them, and the assignment-group sides (edited like any engagement record)."""

from __future__ import annotations

from typing import Any

from tandem.core.access import can_add
from tandem.core.choices import Action
from tandem.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)
from tandem.service.filtersets import (
    AssignmentGroupSideFilterSet,
    ImportBatchFilterSet,
    TicketFilterSet,
    TicketHoldFilterSet,
)
from tandem.service.forms import AssignmentGroupSideForm
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold
from tandem.service.tables import (
    AssignmentGroupSideTable,
    ImportBatchTable,
    TicketHoldTable,
    TicketTable,
)

# Tickets ------------------------------------------------------------------------------------


class TicketListView(ObjectListView):
    queryset = Ticket.objects.all()
    table_class = TicketTable
    filterset_class = TicketFilterSet
    template_name = "service/ticket_list.html"
    title = "Tickets"
    per_page = 50


class TicketDetailView(ObjectDetailView):
    queryset = Ticket.objects.select_related("engagement", "batch", "batch__imported_by")
    template_name = "service/ticket_detail.html"

    def get_extra_context(self, obj: Ticket) -> dict[str, Any]:
        side = (
            AssignmentGroupSide.objects.restrict(self.request.user, Action.VIEW)
            .filter(engagement_id=obj.engagement_id, assignment_group=obj.assignment_group)
            .select_related("vendor")
            .first()
        )
        return {"holds": obj.holds.all(), "group_side": side}


class TicketHoldListView(ObjectListView):
    queryset = TicketHold.objects.select_related("ticket")
    table_class = TicketHoldTable
    filterset_class = TicketHoldFilterSet
    title = "Ticket holds"
    per_page = 50


class TicketHoldDetailView(ObjectDetailView):
    queryset = TicketHold.objects.select_related("engagement", "ticket")
    template_name = "service/tickethold_detail.html"


# Imports ------------------------------------------------------------------------------------


class ImportBatchListView(ObjectListView):
    queryset = ImportBatch.objects.select_related("imported_by")
    table_class = ImportBatchTable
    filterset_class = ImportBatchFilterSet
    template_name = "service/importbatch_list.html"
    title = "Ticket imports"

    def get_extra_context(self) -> dict[str, Any]:
        engagement = self.get_engagement()
        allowed = engagement is not None and can_add(self.request.user, ImportBatch, engagement)
        return {"import_allowed": allowed}


class ImportBatchDetailView(ObjectDetailView):
    queryset = ImportBatch.objects.select_related("engagement", "imported_by")
    template_name = "service/importbatch_detail.html"


# Assignment-group sides -----------------------------------------------------------------


class AssignmentGroupSideListView(ObjectListView):
    queryset = AssignmentGroupSide.objects.select_related("vendor")
    table_class = AssignmentGroupSideTable
    filterset_class = AssignmentGroupSideFilterSet
    template_name = "service/assignmentgroupside_list.html"
    title = "Assignment groups"
    add_url_name = "service:assignmentgroupside_add"


class AssignmentGroupSideDetailView(ObjectDetailView):
    queryset = AssignmentGroupSide.objects.select_related("engagement", "vendor")
    template_name = "service/assignmentgroupside_detail.html"


class AssignmentGroupSideEditView(ObjectEditView):
    queryset = AssignmentGroupSide.objects.select_related("engagement", "vendor")
    form_class = AssignmentGroupSideForm


class AssignmentGroupSideDeleteView(ObjectDeleteView):
    queryset = AssignmentGroupSide.objects.select_related("engagement")
