"""UI routes of SLA policies and runs (included by ``tandem.service.urls``)."""

from django.urls import path

from tandem.service import views_policy_editor as editor
from tandem.service import views_sla as views

urlpatterns = [
    # Policy versions: edited until a run uses them, then frozen.
    path(
        "engagements/<int:engagement_pk>/sla-policies/",
        views.SlaPolicyListView.as_view(),
        name="slapolicy_list",
    ),
    # The editor (a form of calendars, targets and credit terms) and, beside it, the TOML.
    path(
        "engagements/<int:engagement_pk>/sla-policies/add/",
        editor.PolicyEditorView.as_view(),
        name="slapolicy_add",
    ),
    path(
        "engagements/<int:engagement_pk>/sla-policies/add/toml/",
        views.SlaPolicyEditView.as_view(),
        name="slapolicy_add_toml",
    ),
    path(
        "engagements/<int:engagement_pk>/sla-policies/upload/",
        views.SlaPolicyUploadView.as_view(),
        name="slapolicy_upload",
    ),
    path("sla-policies/<int:pk>/", views.SlaPolicyDetailView.as_view(), name="slapolicy_detail"),
    path("sla-policies/<int:pk>/edit/", editor.PolicyEditorView.as_view(), name="slapolicy_edit"),
    path(
        "sla-policies/<int:pk>/edit/toml/",
        views.SlaPolicyEditView.as_view(),
        name="slapolicy_edit_toml",
    ),
    path(
        "sla-policies/<int:pk>/delete/",
        views.SlaPolicyDeleteView.as_view(),
        name="slapolicy_delete",
    ),
    path(
        "sla-policies/<int:pk>/history/",
        views.SlaPolicyDetailView.as_view(tab="history"),
        name="slapolicy_history",
    ),
    path(
        "sla-policies/<int:pk>/download/",
        views.slapolicy_download,
        name="slapolicy_download",
    ),
    # Runs: records of what happened (no edit, no delete).
    path(
        "engagements/<int:engagement_pk>/sla-runs/",
        views.SlaRunListView.as_view(),
        name="slarun_list",
    ),
    path(
        "engagements/<int:engagement_pk>/sla-runs/start/",
        views.slarun_start,
        name="slarun_start",
    ),
    path("sla-runs/<int:pk>/", views.SlaRunDetailView.as_view(), name="slarun_detail"),
    path("sla-runs/<int:pk>/progress/", views.slarun_progress, name="slarun_progress"),
    path(
        "sla-runs/<int:pk>/history/",
        views.SlaRunDetailView.as_view(tab="history"),
        name="slarun_history",
    ),
]
