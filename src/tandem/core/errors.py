"""Error pages: JSON under /api/, the product's own pages elsewhere. Never a bare 500."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    500: "Something went wrong on our side. The error was logged; nothing was saved.",
}


def _answer(request: HttpRequest, status: int, template: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _MESSAGES[status]}, status=status)
    return render(
        request, template, {"status": status, "message": _MESSAGES[status]}, status=status
    )


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _answer(request, 400, "errors/error.html")


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _answer(request, 403, "errors/error.html")


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _answer(request, 404, "errors/error.html")


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _MESSAGES[500]}, status=500)
    # No context processors, no database: the page must render whatever broke.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A missing or wrong CSRF token: JSON for the API, a plain explanation elsewhere."""
    message = "The form's security token is missing or expired. Reload the page and try again."
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": f"CSRF check failed ({reason}). Use token authentication for scripts."},
            status=403,
        )
    return render(request, "errors/error.html", {"status": 403, "message": message}, status=403)
