"""UI routes of the service app (written by hand: grep finds every route)."""

from django.urls import include, path

from tandem.service import (
    urls_results,
    urls_sla,
    views,
    views_groups,
    views_import,
    views_reports,
)

app_name = "service"

urlpatterns = [
    # Tickets and their holds: read-only, written by imports.
    path(
        "engagements/<int:engagement_pk>/tickets/",
        views.TicketListView.as_view(),
        name="ticket_list",
    ),
    path("tickets/<int:pk>/", views.TicketDetailView.as_view(), name="ticket_detail"),
    path(
        "engagements/<int:engagement_pk>/ticket-holds/",
        views.TicketHoldListView.as_view(),
        name="tickethold_list",
    ),
    path("ticket-holds/<int:pk>/", views.TicketHoldDetailView.as_view(), name="tickethold_detail"),
    # Imports
    path(
        "engagements/<int:engagement_pk>/imports/",
        views.ImportBatchListView.as_view(),
        name="importbatch_list",
    ),
    path("imports/<int:pk>/", views.ImportBatchDetailView.as_view(), name="importbatch_detail"),
    # The import wizard: upload, preview (staged files, their uploader only), confirm.
    path(
        "engagements/<int:engagement_pk>/imports/new/",
        views_import.ImportUploadView.as_view(),
        name="import_upload",
    ),
    path("imports/staged/<uuid:staged_id>/", views_import.import_preview, name="import_preview"),
    path(
        "imports/staged/<uuid:staged_id>/confirm/",
        views_import.import_confirm,
        name="import_confirm",
    ),
    path(
        "imports/staged/<uuid:staged_id>/discard/",
        views_import.import_discard,
        name="import_discard",
    ),
    path("imports/progress/<uuid:pk>/", views_import.import_progress, name="import_progress"),
    path(
        "imports/<int:pk>/history/",
        views.ImportBatchDetailView.as_view(tab="history"),
        name="importbatch_history",
    ),
    # Assignment-group sides
    path(
        "engagements/<int:engagement_pk>/assignment-groups/",
        views.AssignmentGroupSideListView.as_view(),
        name="assignmentgroupside_list",
    ),
    path(
        "engagements/<int:engagement_pk>/assignment-groups/map/",
        views_groups.GroupMapView.as_view(),
        name="assignmentgroup_map",
    ),
    path(
        "engagements/<int:engagement_pk>/assignment-groups/add/",
        views.AssignmentGroupSideEditView.as_view(),
        name="assignmentgroupside_add",
    ),
    path(
        "assignment-groups/<int:pk>/",
        views.AssignmentGroupSideDetailView.as_view(),
        name="assignmentgroupside_detail",
    ),
    path(
        "assignment-groups/<int:pk>/edit/",
        views.AssignmentGroupSideEditView.as_view(),
        name="assignmentgroupside_edit",
    ),
    path(
        "assignment-groups/<int:pk>/delete/",
        views.AssignmentGroupSideDeleteView.as_view(),
        name="assignmentgroupside_delete",
    ),
    path(
        "assignment-groups/<int:pk>/history/",
        views.AssignmentGroupSideDetailView.as_view(tab="history"),
        name="assignmentgroupside_history",
    ),
    # The SLA monthly report of the latest finished run (PDF, tandem.core.reports).
    path(
        "engagements/<int:engagement_pk>/service-levels/report.pdf",
        views_reports.SlaReportPdfView.as_view(),
        name="sla_report_pdf",
    ),
    # SLA policies and runs; then what the runs found.
    path("", include(urls_sla)),
    path("", include(urls_results)),
]
