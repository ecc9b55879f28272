"""Top-level routes: the UI, the API under /api/v1/, accounts, admin."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tandem.core.api.views import not_found

urlpatterns = [
    path("", include("tandem.core.urls")),
    path("", include("tandem.service.urls")),
    path("", include("tandem.contracts.urls")),
    path("progress/", include("tandem.core.progress_urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/core/", include("tandem.core.api.urls")),
    path("api/v1/service/", include("tandem.service.api.urls")),
    path("api/v1/contracts/", include("tandem.contracts.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The "split" Swagger UI: its start-up script is a file (?script), not an inline block,
    # so the page works under the Content-Security-Policy (tandem.core.security).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: any other path under /api/ (another version, another app, a typo) is a JSON 404,
    # whatever the method and credentials.
    re_path(r"^api/(?P<path>.*)$", not_found),
]

handler400 = "tandem.core.errors.bad_request"
handler403 = "tandem.core.errors.permission_denied"
handler404 = "tandem.core.errors.page_not_found"
handler500 = "tandem.core.errors.server_error"
