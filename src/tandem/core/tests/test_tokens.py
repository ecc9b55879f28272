"""API tokens: hashed, named, expiring, revocable, several per person, shown once, audited.

Through ``tandem.core.tokens`` itself, the API (``/api/v1/core/tokens/`` and ``token/``) and
the "API tokens" page. MFA rules for administrators' tokens: ``test_mfa.py``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tandem.core import tokens
from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import ApiToken, ChangeLog

pytestmark = pytest.mark.django_db

LIST = "/api/v1/core/tokens/"
PROBE = "/api/v1/core/engagements/"


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_records(action: str) -> list[ChangeLog]:
    return list(
        ChangeLog.objects.filter(
            content_type=ContentType.objects.get_for_model(ApiToken), action=action
        ).order_by("pk")
    )


# --- the module -----------------------------------------------------------------------------


def test_a_key_is_returned_once_and_only_its_digest_is_stored(world) -> None:
    token, key = tokens.issue_token(world.it_lead, name="  nightly export ")
    prefix, secret = key.split("_", 2)[1:]
    assert key == f"tdm_{token.prefix}_{secret}" and prefix == token.prefix
    assert len(secret) >= 40, "32 random bytes"
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert stored["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert not any(secret in str(value) for value in stored.values())
    assert token.name == "nightly export" and not token.mfa_verified and token.expires is None
    assert tokens.authenticate_key(key) == token
    assert tokens.authenticate_key(f"  {key}\n") == token, "surrounding blanks are forgiven"


def test_several_tokens_per_person_each_with_its_own_key(world) -> None:
    keys = {tokens.issue_token(world.it_lead, name=f"script {n}")[1] for n in range(3)}
    assert len(keys) == 3
    assert {tokens.authenticate_key(k).user for k in keys} == {world.it_lead}
    assert ApiToken.objects.filter(user=world.it_lead).count() == 3


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # another secret
        lambda key: key.replace("tdm_", "xyz_"),
        lambda key: key.split("_", 2)[2],  # the secret alone
        lambda key: "tdm_" + "0" * 12 + "_" + key.split("_", 2)[2],  # another prefix
        lambda key: "",
        lambda key: "tdm_" + "a" * 17 + "_x",  # a prefix longer than any
        lambda key: key.replace("tdm_", "tdm_\x00"),  # characters no key holds
        lambda key: key.upper(),
        lambda key: key + "\u00e9",
    ],
)
def test_a_wrong_key_finds_nothing(world, tamper) -> None:
    _, key = tokens.issue_token(world.it_lead, name="x")
    assert tokens.authenticate_key(tamper(key)) is None


def test_revoked_expired_or_inactive_tokens_do_not_authenticate(world) -> None:
    revoked, revoked_key = tokens.issue_token(world.it_lead, name="revoked")
    assert tokens.revoke_token(revoked) is True
    assert tokens.revoke_token(revoked) is False, "revoking twice changes nothing"
    assert tokens.authenticate_key(revoked_key) is None
    soon = timezone.now() + timedelta(hours=1)
    _, expiring_key = tokens.issue_token(world.it_lead, name="expiring", expires=soon)
    assert tokens.authenticate_key(expiring_key) is not None
    with time_machine.travel(soon + timedelta(seconds=1)):
        assert tokens.authenticate_key(expiring_key) is None
    _, staff_key = tokens.issue_token(world.it_staff, name="leaver")
    world.it_staff.is_active = False
    world.it_staff.save()
    assert tokens.authenticate_key(staff_key) is None


def test_bad_names_and_past_expiry_are_refused_and_nothing_is_written(world) -> None:
    for kwargs, message in [
        ({"name": "  "}, "needs a name"),
        ({"name": "x", "expires": timezone.now() - timedelta(minutes=1)}, "in the future"),
        ({"name": "x" * 101}, "at most 100 characters"),
    ]:
        with pytest.raises(ValueError, match=message):
            tokens.issue_token(world.it_lead, **kwargs)
    assert not ApiToken.objects.exists()


def test_last_used_is_written_at_most_once_a_minute(world, django_assert_num_queries) -> None:
    token, key = tokens.issue_token(world.it_lead, name="reads")
    assert token.last_used is None
    with time_machine.travel("2026-04-01 10:00:00Z", tick=False):
        with django_assert_num_queries(2):  # find + one UPDATE
            tokens.authenticate_key(key)
        with django_assert_num_queries(1):  # find only: no write for every read
            tokens.authenticate_key(key)
    with time_machine.travel("2026-04-01 10:00:59Z", tick=False):
        tokens.authenticate_key(key)
    token.refresh_from_db()
    assert token.last_used.isoformat() == "2026-04-01T10:00:00+00:00"
    with time_machine.travel("2026-04-01 10:01:00Z", tick=False):
        tokens.authenticate_key(key)
    token.refresh_from_db()
    assert token.last_used.isoformat() == "2026-04-01T10:01:00+00:00"


def test_issue_and_revocation_are_audited_without_the_key_or_digest(world) -> None:
    token, key = tokens.issue_token(world.it_lead, name="audited")
    tokens.revoke_token(token)
    (created,) = token_records(AuditAction.CREATE)
    (revoked,) = token_records(AuditAction.DELETE)
    assert created.object_id == revoked.object_id == str(token.pk)
    assert created.message == "API token issued" and revoked.message == "API token revoked"
    assert created.postchange_data["name"] == "audited"
    assert revoked.prechange_data["revoked"] is None and revoked.postchange_data["revoked"]
    assert created.owner_organization_id == world.it_lead.organization_id
    for record in (created, revoked):
        text = f"{record.prechange_data} {record.postchange_data} {record.message}"
        assert key not in text and token.digest not in text and key.split("_", 2)[2] not in text


# --- the API --------------------------------------------------------------------------------


def test_the_api_issues_lists_and_revokes_your_own_tokens(world, client_for) -> None:
    session = client_for(world.it_lead)
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = session.post(
        LIST, {"name": "CI", "expires": expires.isoformat()}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    issued = response.json()
    key = issued.pop("key")
    token = ApiToken.objects.get(pk=issued["id"])
    assert issued["name"] == "CI" and issued["prefix"] == token.prefix
    assert token.expires == expires
    assert key.startswith(f"tdm_{token.prefix}_")

    listed = session.get(LIST).json()["results"]
    assert [row["id"] for row in listed] == [token.pk]
    assert set(listed[0]) == {
        "id",
        "name",
        "prefix",
        "mfa_verified",
        "created",
        "expires",
        "last_used",
        "revoked",
    }, "never the key"
    assert key not in session.get(LIST).content.decode()
    assert key not in session.get(f"{LIST}{token.pk}/").content.decode()

    script = token_client(key)
    assert script.get(PROBE).status_code == 200
    assert script.get(LIST).json()["results"][0]["last_used"] is not None

    # Someone else's token is not there for anyone else: not listed, not found, not revoked.
    other = client_for(world.sponsor)
    assert other.get(LIST).json()["results"] == []
    assert other.get(f"{LIST}{token.pk}/").status_code == 404
    assert other.delete(f"{LIST}{token.pk}/").status_code == 404
    assert other.post(f"{LIST}{token.pk}/revoke/").status_code == 404
    assert script.get(PROBE).status_code == 200

    assert session.delete(f"{LIST}{token.pk}/").status_code == 204
    refused = script.get(PROBE)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "This token has been revoked."
    assert refused["WWW-Authenticate"] == "Token"
    assert session.get(LIST).json()["results"][0]["revoked"] is not None, "still listed"
    assert [r.source for r in token_records(AuditAction.CREATE)] == [AuditSource.API]
    assert [r.user for r in token_records(AuditAction.DELETE)] == [world.it_lead]


def test_revoke_action_and_revoking_twice(world, api_for) -> None:
    token, key = tokens.issue_token(world.it_lead, name="x")
    api = api_for(world.it_lead)
    first = api.post(f"{LIST}{token.pk}/revoke/")
    assert first.status_code == 200 and first.json()["revoked"] is not None
    again = api.post(f"{LIST}{token.pk}/revoke/")
    assert again.status_code == 200 and again.json()["revoked"] == first.json()["revoked"]
    assert len(token_records(AuditAction.DELETE)) == 1
    assert token_client(key).get(PROBE).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "name", "required"),
        ({"name": ""}, "name", "may not be blank"),
        ({"name": "   "}, "name", "may not be blank"),
        ({"name": 12}, "name", "Not a valid string"),
        ({"name": "x" * 101}, "name", "no more than 100"),
        ({"name": "x", "expires": "soon"}, "expires", "Datetime has wrong format"),
        ({"name": "x", "expires": "2001-01-01T00:00:00Z"}, "expires", "in the future"),
        ({"name": "x", "expires": 5}, "expires", "Datetime has wrong format"),
    ],
)
def test_bad_token_requests_are_400_naming_the_field(world, api_for, payload, field, message):
    response = api_for(world.it_lead).post(LIST, payload, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])
    assert not ApiToken.objects.exists()


def test_expired_and_inactive_tokens_answer_401_saying_why(world) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    _, key = tokens.issue_token(world.it_lead, name="short", expires=soon)
    with time_machine.travel(soon + timedelta(seconds=1)):
        response = token_client(key).get(PROBE)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired."
    _, staff_key = tokens.issue_token(world.it_staff, name="leaver")
    world.it_staff.is_active = False
    world.it_staff.save()
    response = token_client(staff_key).get(PROBE)
    assert (response.status_code, response.json()["detail"]) == (401, "User inactive or deleted.")


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token tdm_nope_nope", "Token \u00e9t\u00e9"],
)
def test_malformed_token_headers_are_401(world, header) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("latin-1").decode("latin-1"))
    response = client.get(PROBE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_endpoint_issues_a_new_named_token_each_time(world, client_for) -> None:
    session = client_for(world.it_lead)
    first = session.post(reverse("core-api:token"))
    second = session.post(reverse("core-api:token"), {"name": "backup job"})
    assert first.status_code == second.status_code == 201
    assert first.json()["name"] == "API token" and second.json()["name"] == "backup job"
    assert first.json()["token"] != second.json()["token"]
    assert token_client(first.json()["token"]).get(PROBE).status_code == 200
    assert token_client(second.json()["token"]).get(PROBE).status_code == 200
    blank = session.post(reverse("core-api:token"), {"name": 7}, content_type="application/json")
    assert blank.status_code == 400 and "name" in blank.json()


# --- the page -------------------------------------------------------------------------------


def test_the_page_lists_issues_once_and_revokes(world, client_for) -> None:
    page = reverse("core:apitoken_list")
    browser = client_for(world.it_lead)
    assert browser.get(reverse("core:user_detail", args=[world.it_lead.pk])).status_code == 200
    assert page in browser.get("/").content.decode(), "reachable from the user menu"
    response = browser.post(page, {"name": "Reporting", "valid_until": ""})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=world.it_lead)
    key = response.context["key"]
    assert key in response.content.decode() and key.startswith(f"tdm_{token.prefix}_")
    assert "no-store" in response["Cache-Control"]
    assert token.expires is None
    shown_again = browser.get(page).content.decode()
    assert key not in shown_again and token.prefix in shown_again and "Reporting" in shown_again
    assert token_client(key).get(PROBE).status_code == 200

    # A second token, valid until a day: it expires at the end of that day (UTC).
    day = (timezone.now() + timedelta(days=3)).date()
    browser.post(page, {"name": "Quarterly", "valid_until": day.isoformat()})
    quarterly = ApiToken.objects.get(name="Quarterly")
    assert quarterly.expires.date() == day and quarterly.expires.hour == 23
    assert tokens.is_usable(quarterly)

    # Someone else cannot revoke it; its owner can.
    revoke = reverse("core:apitoken_revoke", args=[token.pk])
    assert client_for(world.sponsor).post(revoke).status_code == 404
    assert browser.get(revoke).status_code == 405
    assert browser.post(revoke).status_code == 302
    token.refresh_from_db()
    assert token.revoked is not None
    assert token_client(key).get(PROBE).status_code == 401
    assert "Revoked" in browser.get(page).content.decode()
    assert len(token_records(AuditAction.DELETE)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "x", "valid_until": "2001-01-01"}, "today or later"),
        ({"name": "x", "valid_until": "tomorrow"}, "Enter a valid date."),
        ({"name": "x" * 101}, "at most 100 characters"),
    ],
)
def test_the_page_refuses_bad_input_and_writes_nothing(world, client_for, data, message):
    response = client_for(world.it_lead).post(reverse("core:apitoken_list"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "key" not in response.context or response.context["key"] is None
    assert not ApiToken.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get(reverse("core:apitoken_list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


# --- the old table --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_drf_clear_text_token_table() -> None:
    """Old DRF tokens (keys in clear) must not stay in the database: the table goes."""
    migration = import_module("tandem.core.migrations.0006_drop_authtoken_token")
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY)')
        cursor.execute("INSERT INTO authtoken_token VALUES ('0123456789abcdef')")
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001', %s)",
            [timezone.now()],
        )
    with connection.schema_editor() as editor:
        migration.drop_authtoken(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0
    assert not ContentType.objects.filter(app_label="authtoken").exists()
    with connection.schema_editor() as editor:  # a database that never had it: no error
        migration.drop_authtoken(apps, editor)


def test_the_browsable_api_offers_the_issue_form_without_keys(world, client_for) -> None:
    tokens.issue_token(world.it_lead, name="listed")
    response = client_for(world.it_lead).get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name"' in html and 'name="expires"' in html and "listed" in html
    assert ApiToken.objects.get().digest not in html
