"""Error pages: JSON under /api/, the product's own pages elsewhere. Never a bare 500.

Also the log filter that keeps client errors to one line (settings.LOGGING).
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
from pathlib import Path, PurePosixPath
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


class OneLineClientErrors(logging.Filter):
    """A 4xx response is logged as one line, without the exception's traceback.

    Django logs a ``PermissionDenied`` raised in a view (``django.request``) and a suspicious
    request such as a bad ``Host`` (``django.security.*``) with the exception attached, so every
    page someone may not open printed a traceback into the log as if the server had failed.
    The line itself stays (status, path; a warning), as do tracebacks of server errors (5xx).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


def redact_paths(text: str) -> str:
    """``text`` with every path inside a server directory cut down to the file's own name.

    For messages people read (a task's failure, a form error) built from an exception whose
    text may name where Tandem keeps files: ``[Errno 2] No such file or directory:
    '/var/lib/tandem/media/imports/3f…/export.csv'`` becomes ``… directory: 'export.csv'``.
    The directories: Tandem's data directory (uploads, staged imports, the database), the
    system's temporary one, the installation and the Python environment, the home and working
    directories.
    """
    pattern = _server_paths()
    return pattern.sub(_last_part, text) if pattern is not None else text


def _last_part(match: re.Match[str]) -> str:
    return PurePosixPath(match.group(0)).name or "…"


def _server_paths() -> re.Pattern[str] | None:
    from django.conf import settings

    roots = {
        str(root)
        for root in (
            getattr(settings, "DATA_DIR", None),
            getattr(settings, "MEDIA_ROOT", None),
            getattr(settings, "STATIC_ROOT", None),
            Path(settings.BASE_DIR).parent if getattr(settings, "BASE_DIR", None) else None,
            tempfile.gettempdir(),
            sys.prefix,
            sys.base_prefix,
            Path.home(),
            _working_directory(),
        )
        if root
    }
    roots = {root.rstrip("/") for root in roots if len(root.rstrip("/")) > 1}
    if not roots:
        return None
    alternatives = "|".join(re.escape(root) for root in sorted(roots, key=len, reverse=True))
    # A root, then anything up to a quote, a space or a closing bracket.
    return re.compile(rf"(?:{alternatives})(?:/[^\s'\"<>()\[\]]*)?")


def _working_directory() -> str | None:
    try:
        return str(Path.cwd())
    except OSError:  # removed under us
        return None
