"""Who must use a second factor, and whether a session or a token has passed one.

Platform administrators (``is_staff``) must, while ``TANDEM_REQUIRE_ADMIN_MFA`` is on. A
session has passed a second factor when allauth recorded an ``"mfa"`` authentication in it
(``allauth.account.authentication.get_authentication_records``: a TOTP or recovery code at
sign-in, a re-authentication with one, or activating TOTP, which proves the code too). Having
an authenticator is not enough: a session signed in with the password alone (an old session,
``force_login``) has not passed it. A token has, when it was issued from such a session
(``ApiToken.mfa_verified``) and its owner still has TOTP.
"""

from __future__ import annotations

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.core import context as allauth_context
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

MFA_REQUIRED_MESSAGE = (
    "Platform administrators must use two-factor authentication: set up two-factor "
    "authentication (an authenticator app) and sign in with it."
)
MFA_TOKEN_MESSAGE = (
    "Platform administrators must use two-factor authentication: set up two-factor "
    "authentication, sign in with it and re-issue this token (tokens issued without it "
    "do not work for administrators)."
)


def requires_mfa(user: Any) -> bool:
    """Whether ``user`` must use a second factor."""
    return bool(
        settings.TANDEM_REQUIRE_ADMIN_MFA
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_staff", False)
    )


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def session_passed_mfa(request: HttpRequest, user: Any | None = None) -> bool:
    """Whether this request's session holds allauth's record of a passed second factor for
    ``user`` (the request's user by default)."""
    user = user if user is not None else getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(request, "session", None) is None:
        return False
    records = get_authentication_records(request, user)
    return any(isinstance(r, dict) and r.get("method") == "mfa" for r in records)


def token_passed_mfa(token: Any) -> bool:
    """Whether ``token`` was issued from a session that passed a second factor, and its
    owner still has TOTP (removing it disables every token)."""
    return bool(token.mfa_verified) and has_totp(token.user)


@receiver(post_save, sender=Authenticator)
def _record_activation(
    sender: Any, instance: Authenticator, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Activating TOTP means typing a valid code from it: the session that did it has passed
    the second factor, as allauth records after a sign-in with one (otherwise a newly
    protected administrator would be asked at once for the code they have just typed).

    On the save, not on allauth's ``authenticator_added`` (sent after the commit, possibly
    after the session was written): the request is allauth's current one, and only a person
    creating their own TOTP authenticator in their own session counts."""
    if raw or not created or instance.type != Authenticator.Type.TOTP:
        return
    request = allauth_context.request
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return
    if user.pk == instance.user_id and getattr(request, "session", None) is not None:
        record_authentication(request, user, "mfa", id=instance.pk, type="totp")
