"""PDF reports from the same Django templates as the pages (WeasyPrint), offline.

- :func:`render_pdf` renders a template (one that extends ``core/reports/base.html``, the
  print stylesheet: A4, the shipped DejaVu Sans, a running footer with page numbers) to PDF
  bytes. No browser, no network: every resource the document asks for goes through
  :class:`StaticOnlyFetcher`, which serves Tandem's own static files (found by the
  staticfiles finders, or in the collected storage) and small inline images, and refuses
  everything else (``http(s)://`` elsewhere, ``file://``, large ``data:``). A refused image
  is left out; the rest of the document still renders.
- :func:`pdf_response` is what a view returns: the PDF as a download, or, when WeasyPrint
  cannot load (no Pango on the machine), a page that says what to install (HTTP 503),
  never a 500.

Charts in PDFs are static SVG from :mod:`tandem.core.svg_charts`, inline in the template.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

PDF_TYPE = "application/pdf"
#: The base every relative URL of a report resolves against: a reserved name (RFC 2606)
#: that is never looked up; only :class:`StaticOnlyFetcher` answers for it.
BASE_URL = "https://tandem.invalid/"
#: Inline ``data:`` images up to this size (decoded) are allowed.
MAX_DATA_BYTES = 64 * 1024
DATA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")

PANGO_MESSAGE = (
    "PDF reports need the Pango library: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
    "(Debian, Ubuntu), then restart Tandem."
)
WEASYPRINT_MESSAGE = (
    "PDF reports need WeasyPrint: pip install 'weasyprint>=66' in Tandem's environment, "
    "then restart Tandem."
)


# WeasyPrint logs each layout step at INFO: nothing an operator needs in the server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library under it) cannot be loaded on this machine."""


class RefusedResource(ValueError):
    """A report asked for something that is not one of Tandem's static files."""


def _weasyprint() -> Any:
    """The ``weasyprint`` module, or :class:`PdfUnavailable` saying what to install."""
    try:
        import weasyprint  # noqa: PLC0415 - loaded on first use: it needs Pango, pages do not
        import weasyprint.text.fonts  # noqa: PLC0415
    except ModuleNotFoundError as error:
        if error.name == "weasyprint":
            raise PdfUnavailable(WEASYPRINT_MESSAGE) from error
        raise PdfUnavailable(PANGO_MESSAGE) from error
    except (ImportError, OSError) as error:  # cffi: "cannot load library 'libpango-1.0-0'"
        raise PdfUnavailable(PANGO_MESSAGE) from error
    return weasyprint


# Resources -----------------------------------------------------------------------------------


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and type of a static file named by ``url`` (``/static/...`` under
    :data:`BASE_URL`); :class:`RefusedResource` for anything else."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        raise RefusedResource(f"not a Tandem static file: {url[:200]}")
    prefix = urlsplit(settings.STATIC_URL).path
    path = unquote(parts.path)
    if not path.startswith(prefix):
        raise RefusedResource(f"not under {prefix}: {url[:200]}")
    name = path[len(prefix) :]
    if not name or ".." in name.split("/") or name.startswith("/") or "\\" in name:
        raise RefusedResource(f"not a static file name: {url[:200]}")
    found = finders.find(name)
    if isinstance(found, list):
        found = found[0] if found else None
    if found:
        data = Path(found).read_bytes()
    elif staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            data = handle.read()
    else:
        raise RefusedResource(f"no such static file: {name[:200]}")
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return data, kind


_DATA = re.compile(r"^data:(?P<type>[\w.+/-]+)(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,")


def data_image(url: str) -> tuple[bytes, str]:
    """A small inline image (``data:image/png;base64,...``); anything else is refused."""
    match = _DATA.match(url[:200])
    if match is None or match["type"].lower() not in DATA_TYPES:
        raise RefusedResource("only small inline images are allowed as data: URLs")
    payload = url[match.end() :]
    if len(payload) > MAX_DATA_BYTES * 2:
        raise RefusedResource(f"inline image over {MAX_DATA_BYTES // 1024} KiB")
    try:
        data = (
            base64.b64decode(payload, validate=True) if match["b64"] else unquote(payload).encode()
        )
    except ValueError as error:
        raise RefusedResource("inline image is not valid base64") from error
    if len(data) > MAX_DATA_BYTES:
        raise RefusedResource(f"inline image over {MAX_DATA_BYTES // 1024} KiB")
    return data, match["type"].lower()


def fetch_resource(url: str) -> tuple[bytes, str]:
    """What a report may load: Tandem's static files and small inline images, nothing else."""
    if url.lower().startswith("data:"):
        return data_image(url)
    return static_file(url)


def url_fetcher(weasyprint: Any) -> Any:
    """A WeasyPrint URL fetcher that only calls :func:`fetch_resource` (so it never opens a
    socket or a local path). WeasyPrint 68+ takes a ``URLFetcher`` object; 66-67 a function
    returning a dict."""
    urls = weasyprint.urls
    if hasattr(urls, "URLFetcherResponse"):

        class StaticOnlyFetcher(urls.URLFetcher):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__(allowed_protocols=(), allow_redirects=False)

            def fetch(self, url: str, headers: Any = None) -> Any:
                data, kind = fetch_resource(url)
                return urls.URLFetcherResponse(url, data, {"Content-Type": kind})

        return StaticOnlyFetcher()

    def fetch(url: str) -> dict[str, Any]:
        data, kind = fetch_resource(url)
        return {"string": data, "mime_type": kind, "redirected_url": url}

    return fetch


# Rendering -----------------------------------------------------------------------------------


def render_pdf(
    template_name: str, context: dict[str, Any], *, request: HttpRequest | None = None
) -> bytes:
    """The template rendered to PDF bytes (:class:`PdfUnavailable` without WeasyPrint)."""
    weasyprint = _weasyprint()
    html = render_to_string(template_name, context, request=request)
    fonts = weasyprint.text.fonts.FontConfiguration()
    fetcher = url_fetcher(weasyprint)
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(font_config=fonts)


def pdf_response(
    request: HttpRequest, template_name: str, context: dict[str, Any], *, filename: str
) -> HttpResponse:
    """The PDF as a download named ``filename``, or a 503 page naming what to install."""
    try:
        pdf = render_pdf(template_name, context, request=request)
    except PdfUnavailable as error:
        return render(
            request,
            "core/reports/unavailable.html",
            {"message": str(error)},
            status=503,
        )
    response = HttpResponse(pdf, content_type=PDF_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(pdf))
    return response
