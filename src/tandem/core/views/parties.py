"""Parties to an engagement and the roles people hold in it."""

from __future__ import annotations

from typing import Any

from tandem.core.filtersets import EngagementPartyFilterSet, RoleAssignmentFilterSet
from tandem.core.forms import EngagementPartyForm, RoleAssignmentForm
from tandem.core.models import EngagementParty, RoleAssignment
from tandem.core.tables import EngagementPartyTable, RoleAssignmentTable
from tandem.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)


class EngagementPartyListView(ObjectListView):
    queryset = EngagementParty.objects.select_related("engagement", "organization")
    table_class = EngagementPartyTable
    filterset_class = EngagementPartyFilterSet
    template_name = "generic/object_list.html"
    title = "Parties"
    add_url_name = "core:engagementparty_add"


class EngagementPartyDetailView(ObjectDetailView):
    queryset = EngagementParty.objects.select_related("engagement", "organization")
    template_name = "core/engagementparty_detail.html"

    def get_extra_context(self, obj: EngagementParty) -> dict[str, Any]:
        people = (
            RoleAssignment.objects.restrict(self.request.user)
            .filter(engagement_id=obj.engagement_id, user__organization_id=obj.organization_id)
            .select_related("user")
        )
        return {"people": people}


class EngagementPartyEditView(ObjectEditView):
    queryset = EngagementParty.objects.select_related("engagement", "organization")
    form_class = EngagementPartyForm
    template_name = "generic/object_edit.html"


class EngagementPartyDeleteView(ObjectDeleteView):
    queryset = EngagementParty.objects.select_related("engagement", "organization")
    template_name = "generic/object_delete.html"


class RoleAssignmentListView(ObjectListView):
    queryset = RoleAssignment.objects.select_related("engagement", "user", "user__organization")
    table_class = RoleAssignmentTable
    filterset_class = RoleAssignmentFilterSet
    template_name = "generic/object_list.html"
    title = "People & roles"
    add_url_name = "core:roleassignment_add"


class RoleAssignmentDetailView(ObjectDetailView):
    queryset = RoleAssignment.objects.select_related("engagement", "user", "user__organization")
    template_name = "core/roleassignment_detail.html"


class RoleAssignmentEditView(ObjectEditView):
    queryset = RoleAssignment.objects.select_related("engagement", "user")
    form_class = RoleAssignmentForm
    template_name = "generic/object_edit.html"


class RoleAssignmentDeleteView(ObjectDeleteView):
    queryset = RoleAssignment.objects.select_related("engagement", "user")
    template_name = "generic/object_delete.html"
