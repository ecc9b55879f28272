"""API authentication with hashed tokens: ``Authorization: Token <key>``.

Replaces DRF's ``TokenAuthentication`` (whose table held every key in clear). The header
and the 401 with ``WWW-Authenticate: Token`` stay the same. A key is refused when unknown,
revoked, expired or its owner is inactive (401), and when its owner must use a second factor
and the token was not issued from a session that passed one (403, saying what to do).

The result is kept on the Django request, so that ``RequireAdminMFAMiddleware`` (which
checks every ``/api/`` path, DRF view or not) and this class look the key up only once.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from tandem.core import mfa, tokens
from tandem.core.models import ApiToken

KEYWORD = "Token"
_CACHE_ATTRIBUTE = "_tandem_api_token"


def _key_from_header(request: HttpRequest | Request) -> str | None:
    """The key of an ``Authorization: Token <key>`` header; None without such a header."""
    auth = get_authorization_header(request).split()
    if not auth or auth[0].lower() != KEYWORD.lower().encode():
        return None
    if len(auth) == 1:
        raise exceptions.AuthenticationFailed("Invalid token header. No credentials provided.")
    if len(auth) > 2:
        raise exceptions.AuthenticationFailed(
            "Invalid token header. Token string should not contain spaces."
        )
    try:
        return auth[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed(
            "Invalid token header. Token string should not contain invalid characters."
        ) from None


def _check(key: str) -> ApiToken:
    token = tokens.find_key(key)
    if token is None:
        raise exceptions.AuthenticationFailed("Invalid token.")
    now = timezone.now()
    if token.revoked is not None:
        raise exceptions.AuthenticationFailed("This token has been revoked.")
    if token.expires is not None and token.expires <= now:
        raise exceptions.AuthenticationFailed("This token has expired.")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("User inactive or deleted.")
    return token


def token_of(request: HttpRequest) -> ApiToken | None:
    """The token this request authenticates with (not yet checked against the MFA rule, nor
    marked used); None without a token header.

    Raises ``AuthenticationFailed`` for a malformed header or an unusable key (the answer is
    cached on the request, like the token)."""
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        try:
            key = _key_from_header(request)
            cached = _check(key) if key is not None else False
        except exceptions.AuthenticationFailed as exc:
            cached = exc
        setattr(request, _CACHE_ATTRIBUTE, cached)
    if isinstance(cached, exceptions.AuthenticationFailed):
        raise cached
    return cached or None


class TokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` with a hashed, named, expiring, revocable token."""

    keyword = KEYWORD

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        token = token_of(request._request)
        if token is None:
            return None
        if mfa.requires_mfa(token.user) and not mfa.token_passed_mfa(token):
            raise exceptions.PermissionDenied(mfa.MFA_TOKEN_MESSAGE)
        tokens.touch(token)  # only a token that is let in counts as used
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme for ``TokenAuthentication``: as DRF's token scheme."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> Any:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=KEYWORD
        )
