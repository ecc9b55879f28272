"""Request-wide middleware: the audit context, and MFA for platform administrators."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource


def client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


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
