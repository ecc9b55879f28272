"""Notifications: ``notify`` (rows in one insert, e-mail after commit to active people only,
a failing mail server losing nothing), the bell's count in one query, the list, opening and
marking read (the recipient only: anyone else, administrators included, gets a 404), the API.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tandem.core import notifications
from tandem.core.models import Notification
from tandem.core.notifications import notify

pytestmark = pytest.mark.django_db

API = "/api/v1/core/notifications/"


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # noqa: ANN001, ANN201
        raise ConnectionRefusedError("the mail server is down")


def test_notify_writes_one_row_per_active_person_in_one_insert(world) -> None:
    world.observer.is_active = False
    world.observer.save()
    with CaptureQueriesContext(connection) as queries:
        rows = notify(
            [world.sponsor, world.it_lead, world.sponsor, world.observer, None],
            title="  Escalation   opened ",
            body="Level 1 has two hours.",
            url="/engagements/1/",
            engagement=world.e1,
            kind="Escalation Opened",
        )
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1, "one bulk insert"
    assert {row.recipient for row in rows} == {world.sponsor, world.it_lead}
    stored = Notification.objects.get(recipient=world.sponsor)
    assert stored.title == "Escalation opened" and stored.kind == "escalation-opened"
    assert stored.read_at is None and stored.url == "/engagements/1/"
    assert not Notification.objects.filter(recipient=world.observer).exists()


def test_email_goes_after_commit_to_active_people_only(
    world, django_capture_on_commit_callbacks
) -> None:
    world.observer.is_active = False
    world.observer.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(
            [world.sponsor, world.observer, world.it_lead],
            title="Obligation due",
            body="<b>Monthly report</b> by the 5th.",
            url="/contracts/1/",
        )
        assert mail.outbox == [], "nothing is sent before the transaction commits"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.sponsor.email, world.it_lead.email]
    )
    message = mail.outbox[0]
    assert message.subject == "[Tandem] Obligation due"
    assert "<b>Monthly report</b> by the 5th." in message.body, "plain text, as written"
    assert "/contracts/1/" in message.body
    assert not getattr(message, "alternatives", []), "never an HTML part"
    assert world.observer.email not in {m.to[0] for m in mail.outbox}


def test_no_email_when_asked_not_to(world, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.sponsor], title="Quiet", email=False)
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=world.sponsor).count() == 1


def test_a_failing_mail_server_loses_no_notification(
    world, settings, django_capture_on_commit_callbacks, caplog
) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.sponsor, world.it_lead], title="Breach in March")
    assert Notification.objects.filter(title="Breach in March").count() == 2
    assert "failed" in caplog.text and "Breach in March" in caplog.text


@pytest.mark.parametrize(
    "url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "x/y", "/a\\b"]
)
def test_a_link_outside_tandem_is_refused(world, url) -> None:
    with pytest.raises(ValueError, match="starts with one"):
        notify([world.sponsor], title="Bad link", url=url)
    assert not Notification.objects.exists()


def test_an_empty_title_is_refused_and_long_text_is_cut(world) -> None:
    with pytest.raises(ValueError, match="title"):
        notify([world.sponsor], title="   ")
    (row,) = notify([world.sponsor], title="t" * 500, body="b" * 9000, email=False)
    row.refresh_from_db()
    assert len(row.title) == 200 and len(row.body) == 4000


# --- the bell, the list, opening --------------------------------------------------------------


def test_bell_shows_the_unread_count_in_one_query(
    world, client_for, django_assert_max_num_queries
) -> None:
    notify([world.sponsor], title="One", email=False)
    notify([world.sponsor], title="Two", email=False)
    notify([world.it_lead], title="Someone else's", email=False)
    (read,) = notify([world.sponsor], title="Read", email=False)
    notifications.mark_read(read)
    client = client_for(world.sponsor)
    response = client.get(reverse("core:apitoken_list"))
    assert 'aria-label="Notifications: 2 unread"' in response.content.decode()
    baseline = _queries(client, reverse("core:apitoken_list"))
    for index in range(30):
        notify([world.sponsor], title=f"More {index}", email=False)
    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("core:apitoken_list"))
    assert 'aria-label="Notifications: 32 unread"' in response.content.decode()
    assert ">32<" in response.content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries.captured_queries)


def test_the_count_is_asked_once_per_page(world, client_for) -> None:
    notify([world.sponsor], title="One", email=False)
    with CaptureQueriesContext(connection) as queries:
        client_for(world.sponsor).get(reverse("core:notification_list"))
    counts = [
        q
        for q in queries.captured_queries
        if "core_notification" in q["sql"] and "COUNT" in q["sql"].upper()
    ]
    # the bell, the "mark all read" button, and the list's paginator: one for the bell
    # and the button together, one for the paginator
    assert len(counts) <= 2


def test_anonymous_pages_ask_nothing_about_notifications(client) -> None:
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("account_login"))
    assert not [q for q in queries.captured_queries if "core_notification" in q["sql"]]


def test_list_is_newest_first_paginated_and_highlights_unread(world, client_for) -> None:
    for index in range(30):
        notify([world.sponsor], title=f"Notice {index:02d}", email=False)
    first = Notification.objects.filter(recipient=world.sponsor).order_by("pk").first()
    notifications.mark_read(first)
    client = client_for(world.sponsor)
    page1 = client.get(reverse("core:notification_list")).content.decode()
    assert page1.index("Notice 29") < page1.index("Notice 28")
    assert "Notice 00" not in page1 and "Page 1 of 2" in page1
    assert page1.count("notification-unread") == 25
    page2 = client.get(reverse("core:notification_list") + "?page=2").content.decode()
    assert "Notice 00" in page2 and page2.count("notification-unread") == 4
    assert client.get(reverse("core:notification_list") + "?page=zz").status_code == 200


def test_opening_marks_read_and_follows_the_link(world, client_for) -> None:
    (row,) = notify([world.sponsor], title="Go", url="/engagements/", email=False)
    response = client_for(world.sponsor).get(reverse("core:notification_open", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == "/engagements/"
    row.refresh_from_db()
    assert row.read_at is not None
    (bare,) = notify([world.sponsor], title="No link", email=False)
    response = client_for(world.sponsor).get(reverse("core:notification_open", args=[bare.pk]))
    assert response["Location"] == reverse("core:notification_list")


def test_someone_elses_notification_is_a_404_even_for_an_administrator(
    world, client_for, api_for, settings
) -> None:
    # The administrator's second factor is beside the point here (test_mfa.py covers it).
    settings.TANDEM_REQUIRE_ADMIN_MFA = False
    (row,) = notify([world.sponsor], title="Private", url="/engagements/", email=False)
    for person in (world.it_lead, world.admin, world.outsider):
        assert (
            client_for(person).get(reverse("core:notification_open", args=[row.pk])).status_code
            == 404
        )
        api = api_for(person)
        assert api.get(f"{API}{row.pk}/").status_code == 404
        assert api.post(f"{API}{row.pk}/read/").status_code == 404
        assert str(row.pk) not in {str(item["id"]) for item in api.get(API).json()["results"]}
        assert (
            "Private"
            not in client_for(person).get(reverse("core:notification_list")).content.decode()
        )
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read_is_a_post_and_touches_only_ones_own(world, client_for) -> None:
    notify([world.sponsor, world.it_lead], title="A", email=False)
    notify([world.sponsor], title="B", email=False)
    client = client_for(world.sponsor)
    assert client.get(reverse("core:notification_read_all")).status_code == 405
    response = client.post(reverse("core:notification_read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=world.sponsor, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=world.it_lead).read_at is None


def test_mark_all_read_needs_the_csrf_token(world) -> None:
    from django.test import Client

    notify([world.sponsor], title="A", email=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.sponsor)
    assert client.post(reverse("core:notification_read_all")).status_code == 403
    assert Notification.objects.get(recipient=world.sponsor).read_at is None


# --- the API --------------------------------------------------------------------------------


def test_api_lists_reads_and_marks(world, api_for) -> None:
    notify([world.sponsor], title="Old", email=False)
    notify([world.sponsor], title="New", kind="escalation", url="/engagements/", email=False)
    api = api_for(world.sponsor)
    body = api.get(API).json()
    assert [item["title"] for item in body["results"]] == ["New", "Old"]
    assert body["results"][0]["is_read"] is False
    assert [
        i["title"] for i in api.get(API, {"unread": "true", "kind": "escalation"}).json()["results"]
    ] == ["New"]
    pk = body["results"][0]["id"]
    marked = api.post(f"{API}{pk}/read/", {"junk": [1, 2]}, format="json")
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    assert api.post(f"{API}read-all/").json() == {"marked_read": 1}
    assert api.post(f"{API}read-all/").json() == {"marked_read": 0}
    assert api.get(API, {"unread": "true"}).json()["results"] == []


@pytest.mark.parametrize("query", [{"unread": "maybe"}, {"engagement": "x"}, {"kind": "x\x00"}])
def test_api_bad_queries_are_clear_errors_not_500(world, api_for, query) -> None:
    notify([world.sponsor], title="A", email=False)
    response = api_for(world.sponsor).get(API, query)
    assert response.status_code in {400, 404}, response.content
    assert response.json()


def test_api_has_no_writes(world, api_for) -> None:
    (row,) = notify([world.sponsor], title="A", email=False)
    api = api_for(world.sponsor)
    assert api.post(API, {"title": "forged"}).status_code == 405
    assert api.patch(f"{API}{row.pk}/", {"title": "x"}).status_code == 405
    assert api.delete(f"{API}{row.pk}/").status_code == 405


def test_api_needs_a_signed_in_person(world) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(API).status_code == 401


# --- settings: the console by default, SMTP from the environment -------------------------------

_READ_MAIL_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"MAILERS": getattr(settings, "MAILERS", None),
                  "FROM": settings.DEFAULT_FROM_EMAIL, "BASE": settings.TANDEM_BASE_URL}))
"""


def _mail_settings(tmp_path, **extra: str) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env |= {"TANDEM_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tandem.settings", **extra}
    result = subprocess.run(
        [sys.executable, "-c", _READ_MAIL_SETTINGS],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_mail_goes_to_the_console_by_default(tmp_path) -> None:
    values = _mail_settings(tmp_path)
    assert values["MAILERS"]["default"]["BACKEND"].endswith("console.EmailBackend")
    assert values["FROM"] == "Tandem <tandem@localhost>" and values["BASE"] == ""


def test_smtp_comes_from_the_environment(tmp_path) -> None:
    secret = tmp_path / "mail_password"
    secret.write_text("  s3cret\n")
    values = _mail_settings(
        tmp_path,
        TANDEM_EMAIL_HOST="smtp.example.org",
        TANDEM_EMAIL_PORT="2525",
        TANDEM_EMAIL_USER="tandem",
        TANDEM_EMAIL_PASSWORD="ignored",
        TANDEM_EMAIL_PASSWORD_FILE=str(secret),
        TANDEM_EMAIL_USE_TLS="0",
        TANDEM_EMAIL_FROM="Tandem <tandem@hospital.example.org>",
        TANDEM_BASE_URL="https://tandem.example.org/",
    )
    mailer = values["MAILERS"]["default"]
    assert mailer["BACKEND"].endswith("smtp.EmailBackend")
    assert mailer["OPTIONS"] == {
        "host": "smtp.example.org",
        "port": 2525,
        "username": "tandem",
        "password": "s3cret",
        "use_tls": False,
        "timeout": 10,
    }
    assert values["FROM"] == "Tandem <tandem@hospital.example.org>"
    assert values["BASE"] == "https://tandem.example.org"


def test_email_links_are_absolute_with_the_base_url(
    world, settings, django_capture_on_commit_callbacks
) -> None:
    settings.TANDEM_BASE_URL = "https://tandem.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.sponsor], title="Linked", url="/engagements/")
    assert "https://tandem.example.org/engagements/" in mail.outbox[0].body
