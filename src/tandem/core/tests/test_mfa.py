"""Two-factor authentication for platform administrators at every entry point.

The rule (``tandem.core.mfa``, ``RequireAdminMFAMiddleware``): an administrator's session
counts only once it passed a second factor (allauth's authentication record, not merely an
authenticator on file), and an administrator's token only when issued from such a session.
Without: 403 JSON asking for two-factor authentication on every ``/api/`` path (walked from
the URL resolver, checked against the OpenAPI schema), a redirect on pages and ``/admin/``.
"""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tandem.core import tokens
from tandem.core.demo import load_demo
from tandem.core.demo.data import PEOPLE
from tandem.core.models import ApiToken, User
from tandem.core.testing.mfa import (
    activate_totp,
    confirm_password,
    sign_in,
    signed_in_with_new_totp,
    totp_code,
)

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
PROBE = "/api/v1/core/engagements/"
TOKENS = "/api/v1/core/tokens/"
_SAMPLES = {"format": "json", "path": "nowhere/"}


def api_paths() -> list[str]:
    """One concrete path for every URL pattern under /api/ (ids 1, format json)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            regex = prefix + pattern.pattern.regex.pattern.lstrip("^").removesuffix("\\Z")
            regex = regex.removesuffix("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, regex)
            else:
                found.append(regex)

    walk(get_resolver().url_patterns, "")
    paths = set()
    for regex in found:
        path = re.sub(
            r"\(\?P<(\w+)>[^)]*\)", lambda m: _SAMPLES.get(m.group(1), "1"), regex
        ).replace("\\.", ".")
        path = "/" + path.replace("/?", "/")
        if path.startswith("/api/"):
            resolve(path)  # a real route
            paths.add(path)
    return sorted(paths)


def answers_mfa_required(response, *, token: bool = False) -> bool:
    detail = response.json().get("detail", "") if response.status_code == 403 else ""
    wanted = "re-issue this token" if token else "set up two-factor authentication"
    return "two-factor authentication" in detail and wanted in detail


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_walk_covers_every_path_of_the_schema() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    walked = set(api_paths())
    for path in schema["paths"]:
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        assert concrete in walked, f"{path} is not reached by the URL walk"
    assert {"/api/schema/", "/api/docs/", "/api/v1/core/token/"} <= walked


def test_the_demo_administrator_gets_403_from_every_api_entry_point(settings) -> None:
    """Done-when of issue 11: the demo's administrator, without a second factor, is refused
    everywhere in the API, with a password session and with a token alike."""
    settings.TANDEM_REQUIRE_ADMIN_MFA = True
    load_demo()
    (spec,) = [person for person in PEOPLE if person.platform_admin]
    admin = User.objects.get(email=spec.email)
    assert admin.is_staff and not Authenticator.objects.filter(user=admin).exists()
    session = Client()
    session.force_login(admin)
    _, key = tokens.issue_token(admin, name="issued before MFA")
    by_token = token_client(key)
    refused = []
    paths = api_paths()
    assert len(paths) > 30
    for path in paths:
        for method in METHODS:
            if not answers_mfa_required(getattr(session, method)(path)):
                refused.append(f"session {method.upper()} {path}")
            if not answers_mfa_required(getattr(by_token, method)(path), token=True):
                refused.append(f"token {method.upper()} {path}")
    assert not refused, "not refused with the two-factor message:\n" + "\n".join(refused)
    assert not ApiToken.objects.filter(user=admin).exclude(name="issued before MFA").exists()
    assert ApiToken.objects.get(user=admin).last_used is None, "a refused token was not used"


def test_an_administrator_without_totp_is_sent_to_set_it_up_on_pages_and_admin(world) -> None:
    browser = Client()
    browser.force_login(world.admin)
    for path in ["/", "/engagements/", "/admin/", "/people/me/api-tokens/"]:
        response = browser.get(path)
        assert (response.status_code, response["Location"]) == (302, "/accounts/2fa/totp/activate/")
    response = browser.post("/people/me/api-tokens/", {"name": "sneaky"})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_a_password_only_session_of_an_administrator_with_totp_is_stopped(world) -> None:
    """Having TOTP is not enough: the session must have passed it (an old session, a
    sign-in that stopped after the password, ``force_login``)."""
    first = Client()
    sign_in(first, world.admin.email)
    secret = activate_totp(first)
    browser = Client()
    browser.force_login(world.admin)
    assert answers_mfa_required(browser.get(PROBE))
    assert answers_mfa_required(browser.post(TOKENS, {"name": "x"}))
    for path in ["/engagements/", "/admin/"]:
        response = browser.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next=")
    # Passing the code in this session lets it through, to the page it was going to.
    response = browser.post(
        "/accounts/2fa/reauthenticate/?next=/admin/", {"code": totp_code(secret)}
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert browser.get("/admin/").status_code == 200
    assert browser.get(PROBE).status_code == 200
    # Signing in stops at the second step until the code is given.
    half = Client()
    response = sign_in(half, world.admin.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert half.get(PROBE).status_code in {401, 403}


def test_an_administrator_signed_in_with_totp_issues_tokens_that_work(world) -> None:
    _, old_key = tokens.issue_token(world.admin, name="from before")
    browser, _secret = signed_in_with_new_totp(world.admin.email)
    assert browser.get(PROBE).status_code == 200
    response = browser.post(TOKENS, {"name": "admin script"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["mfa_verified"] is True
    new_key = response.json()["key"]
    assert token_client(new_key).get(PROBE).status_code == 200
    # The token issued without the second factor keeps failing, saying to re-issue it.
    assert answers_mfa_required(token_client(old_key).get(PROBE), token=True)
    # The page issues verified tokens too.
    page = browser.post("/people/me/api-tokens/", {"name": "from the page"})
    assert page.status_code == 200 and page.context["issued"].mfa_verified
    assert token_client(page.context["key"]).get(PROBE).status_code == 200
    # An administrator's token cannot issue more tokens: only a verified session can.
    refused = token_client(new_key).post(TOKENS, {"name": "chain"}, format="json")
    assert refused.status_code == 403 and "session" in refused.json()["detail"]
    refused = token_client(new_key).post("/api/v1/core/token/")
    assert refused.status_code == 403
    # Losing TOTP (an administrator reset it) disables every token until re-issued, and
    # sends the session back to set it up again.
    Authenticator.objects.filter(user=world.admin).delete()
    assert answers_mfa_required(token_client(new_key).get(PROBE), token=True)
    assert answers_mfa_required(browser.get(PROBE))
    assert browser.get("/engagements/")["Location"] == "/accounts/2fa/totp/activate/"


def test_tokens_issued_before_mfa_was_required_stop_working(world, client_for) -> None:
    key = client_for(world.it_lead).post("/api/v1/core/token/").json()["token"]
    assert token_client(key).get(PROBE).status_code == 200  # a second factor is optional
    assert ApiToken.objects.get().mfa_verified is False
    world.it_lead.is_staff = True  # made a platform administrator
    world.it_lead.save()
    assert answers_mfa_required(token_client(key).get(PROBE), token=True)
    browser, _ = signed_in_with_new_totp(world.it_lead.email)
    reissued = browser.post("/api/v1/core/token/").json()["token"]
    assert token_client(reissued).get(PROBE).status_code == 200
    assert answers_mfa_required(token_client(key).get(PROBE), token=True)


def test_the_requirement_can_be_switched_off_for_a_lab(world, settings) -> None:
    settings.TANDEM_REQUIRE_ADMIN_MFA = False
    browser = Client()
    browser.force_login(world.admin)
    assert browser.get(PROBE).status_code == 200
    assert browser.get("/engagements/").status_code == 200
    _, key = tokens.issue_token(world.admin, name="lab")
    assert token_client(key).get(PROBE).status_code == 200


def test_people_who_need_no_second_factor_are_not_stopped(world) -> None:
    browser = Client()
    browser.force_login(world.it_lead)
    assert browser.get(PROBE).status_code == 200
    assert browser.get("/engagements/").status_code == 200
    _, key = tokens.issue_token(world.it_lead, name="script")
    assert token_client(key).get(PROBE).status_code == 200


def test_a_bad_token_is_still_a_401_for_anyone(world) -> None:
    response = token_client("tdm_0123456789ab_wrong").get(PROBE)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_an_administrator_cannot_turn_totp_off(world) -> None:
    browser, _ = signed_in_with_new_totp(world.admin.email)
    confirm_password(browser)
    response = browser.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 200  # the form again, with the refusal
    assert "You cannot deactivate two-factor authentication." in response.content.decode()
    assert Authenticator.objects.filter(user=world.admin, type="totp").exists()
