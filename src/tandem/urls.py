"""Top-level routes: the UI, the API under /api/v1/, accounts, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("tandem.core.urls")),
    path("", include("tandem.service.urls")),
    path("progress/", include("tandem.core.progress_urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/core/", include("tandem.core.api.urls")),
    path("api/v1/service/", include("tandem.service.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "tandem.core.errors.bad_request"
handler403 = "tandem.core.errors.permission_denied"
handler404 = "tandem.core.errors.page_not_found"
handler500 = "tandem.core.errors.server_error"
