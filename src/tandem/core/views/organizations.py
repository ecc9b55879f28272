"""Organization pages. Everyone sees the organizations of their engagements; only platform
administrators create, change or delete them (the generic views answer 403 to others)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.core.filtersets import OrganizationFilterSet
from tandem.core.forms import OrganizationForm
from tandem.core.models import EngagementParty, Organization, User
from tandem.core.tables import OrganizationTable
from tandem.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)


class OrganizationListView(ObjectListView):
    queryset = Organization.objects.all()
    table_class = OrganizationTable
    filterset_class = OrganizationFilterSet
    template_name = "generic/object_list.html"
    add_url_name = "core:organization_add"


class OrganizationDetailView(ObjectDetailView):
    queryset = Organization.objects.all()
    template_name = "core/organization_detail.html"

    def get_extra_context(self, obj: Organization) -> dict[str, Any]:
        user = self.request.user
        return {
            "parties": EngagementParty.objects.restrict(user)
            .filter(organization=obj)
            .select_related("engagement", "engagement__client"),
            "people": User.objects.restrict(user).filter(organization=obj)[:100],
        }


class OrganizationEditView(ObjectEditView):
    queryset = Organization.objects.all()
    form_class = OrganizationForm
    template_name = "generic/object_edit.html"


class OrganizationDeleteView(ObjectDeleteView):
    queryset = Organization.objects.all()
    template_name = "generic/object_delete.html"

    def success_url(self, obj: Any) -> str:
        return reverse("core:organization_list")
