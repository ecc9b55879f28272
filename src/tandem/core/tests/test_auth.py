"""Signing in: e-mail logins through allauth, no self-service sign-up, MFA for admins."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.core.testing.factories import PASSWORD
from tandem.core.testing.mfa import activate_totp, totp_code

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_and_password(world, client) -> None:
    response = client.post(
        reverse("account_login"), {"login": "itlead@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == world.it_lead


def test_wrong_password_is_refused_without_saying_which_part(world, client) -> None:
    response = client.post(
        reverse("account_login"), {"login": "itlead@alpha.test", "password": "nope"}
    )
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_there_is_no_self_service_sign_up(client) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": "Sup3r-secret!", "password2": "Sup3r-secret!"},
    )
    from tandem.core.models import User

    assert not User.objects.filter(email="new@example.org").exists()
    assert response.status_code in {200, 403}


def test_pages_need_a_sign_in(client) -> None:
    response = client.get("/engagements/")
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_platform_admins_must_turn_on_two_factor(world, client, settings) -> None:
    settings.TANDEM_REQUIRE_ADMIN_MFA = True
    client.post(reverse("account_login"), {"login": "admin@tandem.test", "password": PASSWORD})
    response = client.get("/engagements/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The activation page itself stays reachable, after confirming the password once more.
    _reauthenticate(client)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    # Activating it (a valid code typed) counts as passing the second factor in this session.
    secret = activate_totp(client)
    assert client.get("/engagements/").status_code == 200
    # A session signed in with the password alone is sent to the code, and back.
    other = type(client)()
    other.force_login(world.admin)
    response = other.get("/engagements/?page=2")
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("mfa_reauthenticate") + "?next=%2Fengagements%2F%3Fpage%3D2"
    )
    response = other.post(response["Location"], {"code": totp_code(secret)})
    assert (response.status_code, response["Location"]) == (302, "/engagements/?page=2")
    assert other.get("/engagements/").status_code == 200


def test_other_people_may_use_two_factor_but_need_not(world, client) -> None:
    client.post(reverse("account_login"), {"login": "itlead@alpha.test", "password": PASSWORD})
    assert client.get("/engagements/").status_code == 200
    _reauthenticate(client)
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


def _reauthenticate(client) -> None:
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def test_failed_logins_are_rate_limited(world, client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip"}
    from django.core.cache import cache

    cache.clear()
    url = reverse("account_login")
    pages = [
        client.post(url, {"login": "itlead@alpha.test", "password": "wrong"}).content.decode()
        for _ in range(4)
    ]
    assert not any("Too many failed login attempts" in page for page in pages[:3])
    assert "Too many failed login attempts" in pages[3]
    # Even the right password is refused while the limit holds.
    response = client.post(url, {"login": "itlead@alpha.test", "password": PASSWORD})
    assert not response.wsgi_request.user.is_authenticated


def test_sign_ins_sign_outs_and_failures_are_in_the_audit_trail(world, client) -> None:
    from tandem.core.audit import history_of
    from tandem.core.choices import AuditAction

    url = reverse("account_login")
    client.post(url, {"login": "itlead@alpha.test", "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
    client.post(url, {"login": "itlead@alpha.test", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")
    client.post(reverse("account_logout"), REMOTE_ADDR="10.9.8.7")
    failed, signed_in, signed_out = (
        history_of(world.it_lead)
        .filter(action__in=[AuditAction.LOGIN_FAILED, AuditAction.LOGIN, AuditAction.LOGOUT])
        .order_by("pk")
    )
    assert failed.action == AuditAction.LOGIN_FAILED
    assert failed.user is None and "itlead@alpha.test" in failed.user_name
    assert signed_in.action == AuditAction.LOGIN and signed_in.user == world.it_lead
    assert signed_out.action == AuditAction.LOGOUT
    assert {failed.client_address, signed_in.client_address} == {"10.9.8.7"}
