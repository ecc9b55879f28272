"""Request-wide middleware: the audit context, and MFA for platform administrators."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

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


_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/")


class RequireAdminMFAMiddleware:
    """Platform administrators must turn on TOTP before they can do anything else.

    The API is exempt from the redirect (it answers JSON); API access for administrators
    uses tokens that an administrator with MFA issues.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.TANDEM_REQUIRE_ADMIN_MFA
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and not _has_totp(user)
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_totp(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
