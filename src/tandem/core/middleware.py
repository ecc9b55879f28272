"""Request-wide middleware: the audit context, and MFA for platform administrators."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, as the audit trail and the sign-in rate limits see it.

    Behind ``TANDEM_TRUSTED_PROXIES`` reverse proxies (each appending the address it received
    the request from to ``X-Forwarded-For``), the client is the Nth address from the right of
    that header: whatever a client puts further left is its own claim and is ignored. With 0
    proxies (the default) the header is ignored altogether. A header too short for the
    configured count, or an entry that is not an IP address, falls back to the address of the
    connection (``REMOTE_ADDR``); ``None`` when that is no IP address either (a Unix socket).
    """
    proxies: int = getattr(settings, "TANDEM_TRUSTED_PROXIES", 0)
    if proxies > 0:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        if len(hops) >= proxies:
            forwarded = _ip_address(hops[-proxies])
            if forwarded is not None:
                return forwarded
    return _ip_address(request.META.get("REMOTE_ADDR", ""))


def _ip_address(value: object) -> str | None:
    """``value`` as a normalized IP address (a port or IPv6 brackets removed), else None."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    if text.startswith("["):  # "[2001:db8::1]" or "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:443"
        text = text.partition(":")[0]
    try:  # a zone ("fe80::1%eth0") means nothing to anyone else: dropped
        return str(ipaddress.ip_address(text.partition("%")[0]))
    except ValueError:
        return None


def request_source(path: str) -> str:
    if path.startswith("/api/"):
        return AuditSource.API
    if path.startswith("/admin/"):
        return AuditSource.ADMIN
    return AuditSource.WEB


class AuditContextMiddleware:
    """Open an audit context per request; the actor is read lazily (API tokens resolve late)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(
            source=request_source(request.path),
            request=request,
            client_address=client_address(request),
        ) as context:
            request.request_id = context.request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = str(context.request_id)
        return response


# Sign-in, sign-out and setting up or passing the second factor live under /accounts/.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/")


class RequireAdminMFAMiddleware:
    """Platform administrators work only with a verified second factor, at every entry point.

    - The API (``/api/``, session or token): 403 JSON saying to set up two-factor
      authentication, unless the session passed a second factor or the token was issued from
      one that had (``tandem.core.mfa``). Every path, DRF view or not, schema included.
    - Pages and ``/admin/``: without TOTP, a redirect to its activation; with TOTP but a
      session that did not pass it (signed in before it was required, ``force_login``), a
      redirect to allauth's two-factor re-authentication, back to the page afterwards.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.TANDEM_REQUIRE_ADMIN_MFA or request.path.startswith(_MFA_EXEMPT_PREFIXES):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            refusal = _api_refusal(request)
            return refusal if refusal is not None else self.get_response(request)
        user = getattr(request, "user", None)
        from tandem.core import mfa

        if user is not None and mfa.requires_mfa(user):
            if not _has_totp(user):  # never set up, or removed (reset) since
                return redirect("mfa_activate_totp")
            if not mfa.session_passed_mfa(request):
                target = reverse("mfa_reauthenticate")
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{target}?{query}")
        return self.get_response(request)


def _api_refusal(request: HttpRequest) -> HttpResponse | None:
    """The 403 for an API caller who must use a second factor and has not; else None.

    The token of an ``Authorization: Token`` header wins over the session, as in DRF; a bad
    key is left to DRF (401)."""
    from rest_framework.exceptions import AuthenticationFailed

    from tandem.core import mfa
    from tandem.core.api.authentication import token_of

    try:
        token = token_of(request)
    except AuthenticationFailed:
        return None
    if token is not None:
        if mfa.requires_mfa(token.user) and not mfa.token_passed_mfa(token):
            return JsonResponse({"detail": mfa.MFA_TOKEN_MESSAGE}, status=403)
        return None
    user = getattr(request, "user", None)
    if (
        user is not None
        and mfa.requires_mfa(user)
        and not (mfa.session_passed_mfa(request) and _has_totp(user))
    ):
        return JsonResponse({"detail": mfa.MFA_REQUIRED_MESSAGE}, status=403)
    return None


def _has_totp(user: object) -> bool:
    from tandem.core import mfa

    return mfa.has_totp(user)
