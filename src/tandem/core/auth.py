"""django-allauth glue: Tandem has no self-service sign-up; administrators create people."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> Any:
        return super().get_login_redirect_url(request)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address the sign-in rate limits count per: the audit trail's, so both honour
        ``TANDEM_TRUSTED_PROXIES`` alike (and a malformed ``X-Forwarded-For`` is no 500)."""
        from tandem.core.middleware import client_address

        address = client_address(request)
        if address is None:
            raise PermissionDenied("Unable to determine the client's address.")
        return address

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The "key" of the ``login_failed`` rate limit: the account *and* the client address.

        allauth's own key is the account alone, so failures from anywhere would lock its owner
        out; with the address in it, each address has its own allowance per account and the
        owner, signing in from elsewhere, is never locked out by someone else's guesses.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}@{self.get_client_ip(request)}"
