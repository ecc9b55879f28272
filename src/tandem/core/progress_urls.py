"""Routes for background work: the progress page htmx polls, its JSON, the file it made, and
"Try again" for failed work."""

from django.urls import path

from tandem.core.views import progress as views

app_name = "progress"

urlpatterns = [
    path("export-audit/<int:engagement_pk>/", views.export_audit, name="export_audit"),
    path("<uuid:pk>/", views.progress_detail, name="detail"),
    path("<uuid:pk>.json", views.progress_json, name="json"),
    path("<uuid:pk>/download/", views.progress_download, name="download"),
    path("<uuid:pk>/retry/", views.progress_retry, name="retry"),
]
