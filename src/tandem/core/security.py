"""Security headers on every response: Content-Security-Policy, Permissions-Policy, and
``Cache-Control: no-store`` wherever a signed-in person's data or a download goes out.

Django 6.0 ships a CSP middleware, but Tandem also runs on Django 5.2 (Python 3.11), which has
none; this one small middleware behaves the same on both. The policy comes from
``settings.TANDEM_CONTENT_SECURITY_POLICY`` (directive -> sources):

- no inline script anywhere: every script is a file served by Tandem itself (htmx from
  django-htmx, plotly.js from the plotly package, the pages' own ``static/``), and data for
  scripts travels in ``<script type="application/json">`` blocks (``json_script``), which a
  browser never runs;
- inline *styles* are allowed (``style-src 'unsafe-inline'``): plotly.js writes its own
  ``<style>`` rules and ``style`` attributes as it draws, as htmx does for its indicator, and
  styles cannot run code;
- the Swagger UI page (``/api/docs/``) needs no exception either: it is drf-spectacular's
  "split" view, whose start-up script is a separate file instead of an inline block.

A view that needs a different policy sets the ``Content-Security-Policy`` header on its
response itself; the middleware leaves a header it finds alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

CSP_HEADER = "Content-Security-Policy"
PERMISSIONS_HEADER = "Permissions-Policy"


def policy_header(policy: Mapping[str, Sequence[str]]) -> str:
    """``{"default-src": ["'self'"], ...}`` as a header value: ``default-src 'self'; ...``."""
    return "; ".join(
        " ".join([directive, *sources]) if sources else directive
        for directive, sources in policy.items()
    )


def permissions_header(features: Sequence[str]) -> str:
    """Every feature named turned off for the page and anything it embeds: ``camera=()``."""
    return ", ".join(f"{feature}=()" for feature in features)


class SecurityHeadersMiddleware:
    """Adds the policy headers and keeps private responses out of every cache.

    ``Cache-Control: no-store`` goes on every response to a signed-in person (a session or an
    API token) and on every download (``Content-Disposition: attachment``), whoever asks;
    not on static files, nor on a response that declares itself ``public`` (plotly.js,
    the same for everyone).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.csp = policy_header(settings.TANDEM_CONTENT_SECURITY_POLICY)
        self.permissions = permissions_header(settings.TANDEM_PERMISSIONS_POLICY)
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        # Django's debug error page runs inline scripts of its own; it never shows in
        # production (DEBUG off) and must keep working for developers.
        if CSP_HEADER not in response and not (settings.DEBUG and response.status_code >= 500):
            response[CSP_HEADER] = self.csp
        if PERMISSIONS_HEADER not in response:
            response[PERMISSIONS_HEADER] = self.permissions
        if self._private(request, response):
            add_never_cache_headers(response)
        return response

    def _private(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        if response.get("Content-Disposition", "").lower().startswith("attachment"):
            return True
        if request.path.startswith(self.static_prefix):
            return False
        if "public" in response.get("Cache-Control", "").lower():
            return False
        user = getattr(request, "user", None)  # set late by DRF for token requests
        return bool(user is not None and user.is_authenticated)
