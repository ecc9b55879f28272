"""The service API's viewsets (three attributes each), all scoped by ``restrict()``."""

from __future__ import annotations

from tandem.core.api.viewsets import ScopedModelViewSet
from tandem.service import filtersets
from tandem.service.api import serializers
from tandem.service.api.group_sides import GroupSidesBulkMixin
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold


class ReadOnlyScopedViewSet(ScopedModelViewSet):
    """The scoped base, reads only: bulk data and import records are written by the import
    service, never through the API (writes answer 405)."""

    http_method_names = ["get", "head", "options"]


class TicketViewSet(ReadOnlyScopedViewSet):
    """Imported service-desk tickets, in UTC. Written only by imports (read-only here)."""

    queryset = Ticket.objects.all()
    serializer_class = serializers.TicketSerializer
    filterset_class = filtersets.TicketFilterSet


class TicketHoldViewSet(ReadOnlyScopedViewSet):
    """Hold intervals of imported tickets (an empty `end`: still on hold). Read-only."""

    queryset = TicketHold.objects.select_related("ticket")
    serializer_class = serializers.TicketHoldSerializer
    filterset_class = filtersets.TicketHoldFilterSet


class ImportBatchViewSet(ReadOnlyScopedViewSet):
    """Ticket imports: file, format, mapping, counts, warnings, who and when. Read-only."""

    queryset = ImportBatch.objects.all()
    serializer_class = serializers.ImportBatchSerializer
    filterset_class = filtersets.ImportBatchFilterSet


class AssignmentGroupSideViewSet(GroupSidesBulkMixin, ScopedModelViewSet):
    """Which side works each assignment group: the client's own team or a vendor."""

    queryset = AssignmentGroupSide.objects.all()
    serializer_class = serializers.AssignmentGroupSideSerializer
    filterset_class = filtersets.AssignmentGroupSideFilterSet
