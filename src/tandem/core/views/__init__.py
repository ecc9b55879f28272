"""The core app's pages, one module per aggregate, re-exported here for ``urls.py``."""

from tandem.core.views.audit import ChangeLogDetailView, ChangeLogListView
from tandem.core.views.engagements import (
    EngagementDeleteView,
    EngagementDetailView,
    EngagementEditView,
    EngagementListView,
    HomeView,
)
from tandem.core.views.organizations import (
    OrganizationDeleteView,
    OrganizationDetailView,
    OrganizationEditView,
    OrganizationListView,
)
from tandem.core.views.parties import (
    EngagementPartyDeleteView,
    EngagementPartyDetailView,
    EngagementPartyEditView,
    EngagementPartyListView,
    RoleAssignmentDeleteView,
    RoleAssignmentDetailView,
    RoleAssignmentEditView,
    RoleAssignmentListView,
)
from tandem.core.views.people import PersonDetailView, PersonEditView, PersonListView

__all__ = [
    "ChangeLogDetailView",
    "ChangeLogListView",
    "EngagementDeleteView",
    "EngagementDetailView",
    "EngagementEditView",
    "EngagementListView",
    "EngagementPartyDeleteView",
    "EngagementPartyDetailView",
    "EngagementPartyEditView",
    "EngagementPartyListView",
    "HomeView",
    "OrganizationDeleteView",
    "OrganizationDetailView",
    "OrganizationEditView",
    "OrganizationListView",
    "PersonDetailView",
    "PersonEditView",
    "PersonListView",
    "RoleAssignmentDeleteView",
    "RoleAssignmentDetailView",
    "RoleAssignmentEditView",
    "RoleAssignmentListView",
]
