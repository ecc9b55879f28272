"""UI routes of the core app (written by hand: grep finds every route)."""

from django.urls import path

from tandem.core import views
from tandem.core.views import notifications, tokens

app_name = "core"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    # Engagements
    path("engagements/", views.EngagementListView.as_view(), name="engagement_list"),
    path("engagements/add/", views.EngagementEditView.as_view(), name="engagement_add"),
    path("engagements/<int:pk>/", views.EngagementDetailView.as_view(), name="engagement_detail"),
    path("engagements/<int:pk>/edit/", views.EngagementEditView.as_view(), name="engagement_edit"),
    path(
        "engagements/<int:pk>/delete/",
        views.EngagementDeleteView.as_view(),
        name="engagement_delete",
    ),
    path(
        "engagements/<int:pk>/history/",
        views.EngagementDetailView.as_view(tab="history"),
        name="engagement_history",
    ),
    # Parties
    path(
        "engagements/<int:engagement_pk>/parties/",
        views.EngagementPartyListView.as_view(),
        name="engagementparty_list",
    ),
    path(
        "engagements/<int:engagement_pk>/parties/add/",
        views.EngagementPartyEditView.as_view(),
        name="engagementparty_add",
    ),
    path(
        "parties/<int:pk>/",
        views.EngagementPartyDetailView.as_view(),
        name="engagementparty_detail",
    ),
    path(
        "parties/<int:pk>/edit/",
        views.EngagementPartyEditView.as_view(),
        name="engagementparty_edit",
    ),
    path(
        "parties/<int:pk>/delete/",
        views.EngagementPartyDeleteView.as_view(),
        name="engagementparty_delete",
    ),
    path(
        "parties/<int:pk>/history/",
        views.EngagementPartyDetailView.as_view(tab="history"),
        name="engagementparty_history",
    ),
    # Roles
    path(
        "engagements/<int:engagement_pk>/roles/",
        views.RoleAssignmentListView.as_view(),
        name="roleassignment_list",
    ),
    path(
        "engagements/<int:engagement_pk>/roles/add/",
        views.RoleAssignmentEditView.as_view(),
        name="roleassignment_add",
    ),
    path("roles/<int:pk>/", views.RoleAssignmentDetailView.as_view(), name="roleassignment_detail"),
    path(
        "roles/<int:pk>/edit/", views.RoleAssignmentEditView.as_view(), name="roleassignment_edit"
    ),
    path(
        "roles/<int:pk>/delete/",
        views.RoleAssignmentDeleteView.as_view(),
        name="roleassignment_delete",
    ),
    path(
        "roles/<int:pk>/history/",
        views.RoleAssignmentDetailView.as_view(tab="history"),
        name="roleassignment_history",
    ),
    # Organizations
    path("organizations/", views.OrganizationListView.as_view(), name="organization_list"),
    path("organizations/add/", views.OrganizationEditView.as_view(), name="organization_add"),
    path(
        "organizations/<int:pk>/",
        views.OrganizationDetailView.as_view(),
        name="organization_detail",
    ),
    path(
        "organizations/<int:pk>/edit/",
        views.OrganizationEditView.as_view(),
        name="organization_edit",
    ),
    path(
        "organizations/<int:pk>/delete/",
        views.OrganizationDeleteView.as_view(),
        name="organization_delete",
    ),
    path(
        "organizations/<int:pk>/history/",
        views.OrganizationDetailView.as_view(tab="history"),
        name="organization_history",
    ),
    # People
    path("people/", views.PersonListView.as_view(), name="user_list"),
    path("people/add/", views.PersonEditView.as_view(), name="user_add"),
    path("people/<int:pk>/", views.PersonDetailView.as_view(), name="user_detail"),
    # Your own API tokens (only ever your own: no id of a person in the path)
    path("people/me/api-tokens/", tokens.token_list, name="apitoken_list"),
    path("people/me/api-tokens/<int:pk>/revoke/", tokens.token_revoke, name="apitoken_revoke"),
    # Your own calendar feed, and the feed itself (its secret token is the credential)
    path(
        "people/me/calendar/",
        notifications.calendar_feed_page,
        name="calendar_feed_settings",
    ),
    path("calendar/<str:token>.ics", notifications.calendar_feed_ics, name="calendar_feed"),
    path("people/<int:pk>/edit/", views.PersonEditView.as_view(), name="user_edit"),
    path(
        "people/<int:pk>/history/",
        views.PersonDetailView.as_view(tab="history"),
        name="user_history",
    ),
    # Your notifications
    path("notifications/", notifications.notification_list, name="notification_list"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification_read_all",
    ),
    path(
        "notifications/<int:pk>/",
        notifications.notification_open,
        name="notification_open",
    ),
    # Audit trail
    path("audit/", views.ChangeLogListView.as_view(), name="changelog_list"),
    path(
        "engagements/<int:engagement_pk>/audit/",
        views.ChangeLogListView.as_view(),
        name="engagement_audit",
    ),
    path("audit/<int:pk>/", views.ChangeLogDetailView.as_view(), name="changelog_detail"),
]
