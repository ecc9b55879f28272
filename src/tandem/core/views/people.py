"""People pages: colleagues and the people one shares an engagement with.

Platform administrators create people (with an organization and an initial password) and
change anyone; everyone else may change only their own profile.
"""

from __future__ import annotations

from typing import Any

from tandem.core.filtersets import UserFilterSet
from tandem.core.forms import PersonForm
from tandem.core.models import RoleAssignment, User
from tandem.core.tables import PersonTable
from tandem.core.views.generic import ObjectDetailView, ObjectEditView, ObjectListView


class PersonListView(ObjectListView):
    queryset = User.objects.select_related("organization")
    table_class = PersonTable
    filterset_class = UserFilterSet
    template_name = "generic/object_list.html"
    add_url_name = "core:user_add"


class PersonDetailView(ObjectDetailView):
    """A person and their roles in the engagements the viewer can see."""

    queryset = User.objects.select_related("organization")
    template_name = "core/user_detail.html"

    def get_extra_context(self, obj: User) -> dict[str, Any]:
        return {
            "roles": RoleAssignment.objects.restrict(self.request.user)
            .filter(user=obj)
            .select_related("engagement", "engagement__client")
            .order_by("engagement__name", "role")
        }


class PersonEditView(ObjectEditView):
    queryset = User.objects.select_related("organization")
    form_class = PersonForm
    template_name = "generic/object_edit.html"
