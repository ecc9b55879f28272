"""Two-factor authentication in tests, through allauth's real pages (no shortcut rows).

``sign_in_with_totp(client, email)`` gives a session that passed the second factor the way a
person's does: password, then TOTP code (setting TOTP up first when the person has none).
"""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tandem.core.testing.factories import PASSWORD


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def confirm_password(client: Client, password: str = PASSWORD) -> None:
    """allauth asks for the password again before two-factor settings change."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content[:500]


def activate_totp(client: Client, password: str = PASSWORD) -> str:
    """Turn TOTP on for the signed-in person with the activation form; its secret (base32).

    allauth creates the recovery codes with it."""
    confirm_password(client, password)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page
    secret: str = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[:2000]
    return secret


def sign_in(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def sign_in_with_totp(client: Client, email: str, secret: str, password: str = PASSWORD) -> None:
    """Password, then the TOTP code on allauth's second step."""
    response = sign_in(client, email, password)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[:2000]


def signed_in_with_new_totp(email: str, password: str = PASSWORD) -> tuple[Client, str]:
    """A client of ``email``, who signs in, sets up TOTP and signs in again with it."""
    client = Client()
    sign_in(client, email, password)
    secret = activate_totp(client, password)
    client.post(reverse("account_logout"))
    fresh = Client()
    sign_in_with_totp(fresh, email, secret, password)
    return fresh, secret


def forget_used_codes() -> None:
    """allauth refuses a code used a moment ago (replay); a test signing in twice within one
    TOTP period forgets that it was used."""
    cache.clear()
