"""The personal calendar feed: a secret address, stored as a digest only, rotatable (the old
address then answers 404), audited without the token; events from registered providers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from icalendar import Calendar

from tandem.core import calendar_feed
from tandem.core.calendar_feed import Deadline
from tandem.core.models import CalendarFeed, ChangeLog

pytestmark = pytest.mark.django_db


def _deadlines(user):  # noqa: ANN001, ANN202
    if user.email.startswith("sponsor"):
        yield Deadline(
            "notice-1@tandem",
            "Renewal notice due",
            date(2027, 3, 1),
            "/contracts/1/",
            "Tell the vendor.",
        )
        yield (
            "review-2@tandem",
            "Quarterly review",
            datetime(2027, 4, 2, 14, 0, tzinfo=UTC),
            "",
            "",
        )


@pytest.fixture
def provider():
    calendar_feed.register_deadlines(_deadlines)
    yield _deadlines
    calendar_feed.unregister_deadlines(_deadlines)


def _url(token: str) -> str:
    return reverse("core:calendar_feed", kwargs={"token": token})


def test_a_valid_token_returns_the_persons_deadlines(world, client, provider) -> None:
    world.sponsor.email = "sponsor@alpha.example"
    world.sponsor.save()
    _feed, token = calendar_feed.issue_feed(world.sponsor)
    response = client.get(_url(token))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"notice-1@tandem", "review-2@tandem"}
    notice = events["notice-1@tandem"]
    assert str(notice["summary"]) == "Renewal notice due"
    assert notice.decoded("dtstart") == date(2027, 3, 1)
    assert str(notice["url"]).endswith("/contracts/1/") and str(notice["url"]).startswith("http")
    assert "VCALENDAR" in response.content.decode()


def test_someone_elses_deadlines_are_not_in_my_feed(world, client, provider) -> None:
    _feed, token = calendar_feed.issue_feed(world.it_lead)
    calendar = Calendar.from_ical(client.get(_url(token)).content)
    assert list(calendar.walk("VEVENT")) == []


def test_rotating_invalidates_the_old_address(world, client, provider) -> None:
    _feed, old = calendar_feed.issue_feed(world.sponsor)
    feed, new = calendar_feed.issue_feed(world.sponsor)
    assert old != new and CalendarFeed.objects.filter(user=world.sponsor).count() == 1
    assert client.get(_url(old)).status_code == 404
    assert client.get(_url(new)).status_code == 200
    calendar_feed.delete_feed(world.sponsor)
    assert client.get(_url(new)).status_code == 404


@pytest.mark.parametrize(
    "token",
    ["nope", "cal_000000000000_" + "a" * 43, "cal_zz_x", "../etc/passwd", "cal_" + "a" * 300],
)
def test_unknown_tokens_are_404(world, client, token) -> None:
    calendar_feed.issue_feed(world.sponsor)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_an_inactive_persons_feed_is_404(world, client) -> None:
    _feed, token = calendar_feed.issue_feed(world.sponsor)
    world.sponsor.is_active = False
    world.sponsor.save()
    assert client.get(_url(token)).status_code == 404


def test_the_token_is_never_stored_in_clear(world) -> None:
    feed, token = calendar_feed.issue_feed(world.sponsor)
    secret = token.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {CalendarFeed._meta.db_table}")
        rows = cursor.fetchall()
        cursor.execute(f"SELECT * FROM {ChangeLog._meta.db_table}")
        rows += cursor.fetchall()
    assert rows and not any(secret in str(value) for row in rows for value in row)
    assert feed.digest not in str(list(ChangeLog.objects.values()))


def test_create_rotate_delete_are_audited(world) -> None:
    calendar_feed.issue_feed(world.sponsor)
    calendar_feed.issue_feed(world.sponsor)
    assert calendar_feed.delete_feed(world.sponsor) is True
    assert calendar_feed.delete_feed(world.sponsor) is False
    actions = list(
        ChangeLog.objects.filter(content_type=ContentType.objects.get_for_model(CalendarFeed))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_the_feed_is_bounded(world, client) -> None:
    def many(user):  # noqa: ANN001, ANN202
        for index in range(calendar_feed.MAX_EVENTS + 50):
            yield (f"e{index}@t", "x" * 5000, date(2027, 1, 1) + timedelta(days=index % 300))

    calendar_feed.register_deadlines(many)
    try:
        _feed, token = calendar_feed.issue_feed(world.sponsor)
        calendar = Calendar.from_ical(client.get(_url(token)).content)
    finally:
        calendar_feed.unregister_deadlines(many)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == calendar_feed.MAX_EVENTS
    assert len(str(events[0]["summary"])) == calendar_feed.MAX_TEXT


# --- the page under the profile --------------------------------------------------------------


def test_the_page_creates_shows_once_rotates_and_deletes(world, client_for, client) -> None:
    page = reverse("core:calendar_feed_settings")
    me = client_for(world.sponsor)
    assert "Create my feed" in me.get(page).content.decode()
    created = me.post(page, {"action": "create"}).content.decode()
    feed = CalendarFeed.objects.get(user=world.sponsor)
    start = created.index('id="calendar-feed-url"')
    address = created[created.index(">", start) + 1 : created.index("</code>", start)]
    assert f"/calendar/cal_{feed.prefix}_" in address
    assert client.get(address).status_code == 200
    assert address not in me.get(page).content.decode(), "shown once"
    me.post(page, {"action": "rotate"})
    assert client.get(address).status_code == 404
    me.post(page, {"action": "delete"})
    assert not CalendarFeed.objects.filter(user=world.sponsor).exists()
    assert me.post(page, {"action": "bogus"}).status_code == 302
    assert me.post(page, {}).status_code == 302


def test_the_page_needs_a_signed_in_person(client) -> None:
    response = client.get(reverse("core:calendar_feed_settings"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_failing_provider_leaves_the_others(world, client, provider, caplog) -> None:
    world.sponsor.email = "sponsor@alpha.example"
    world.sponsor.save()

    def broken(user):  # noqa: ANN001, ANN202
        raise RuntimeError("provider bug")

    calendar_feed.register_deadlines(broken)
    try:
        _feed, token = calendar_feed.issue_feed(world.sponsor)
        response = client.get(_url(token))
    finally:
        calendar_feed.unregister_deadlines(broken)
    assert response.status_code == 200
    assert len(list(Calendar.from_ical(response.content).walk("VEVENT"))) == 2
    assert "provider" in caplog.text


def test_reads_are_rate_limited(world, client, settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    _feed, token = calendar_feed.issue_feed(world.sponsor)
    answers = [
        client.get(_url(token)).status_code for _ in range(calendar_feed.MAX_READS_PER_MINUTE + 2)
    ]
    assert (
        answers[: calendar_feed.MAX_READS_PER_MINUTE] == [200] * calendar_feed.MAX_READS_PER_MINUTE
    )
    last = client.get(_url(token))
    assert last.status_code == 429 and last["Retry-After"] == "60"
