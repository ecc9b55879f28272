"""Pages of SLA policy versions and runs: forms, TOML errors named, frozen versions refused,
uploads checked, "Run now" and its progress, access."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tandem.core.choices import AuditAction
from tandem.core.models import ChangeLog
from tandem.core.views.generic import history_for
from tandem.service.choices import RunStatus
from tandem.service.models import SlaPolicy, SlaRun
from tandem.service.sla_policies import MAX_POLICY_BYTES
from tandem.service.tests.factories import (
    POLICY_TOML,
    SlaPolicyFactory,
    SlaRunFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

BAD_CALENDAR = POLICY_TOML.replace('calendar = "always"', 'calendar = "busines"', 1)


@pytest.fixture
def policy(world) -> SlaPolicy:
    return SlaPolicyFactory(
        engagement=world.e1, version=1, name="MSA schedule B", effective_from=date(2025, 1, 1)
    )


@pytest.fixture
def frozen(world, policy) -> SlaPolicy:
    run = SlaRunFactory(engagement=world.e1)
    run.policies.add(policy)
    return policy


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_pages_render_for_members_and_404_for_outsiders(world, policy, client_for) -> None:
    run = SlaRunFactory(engagement=world.e1)
    e1 = world.e1.pk
    pages = [
        reverse("service:slapolicy_list", args=[e1]),
        reverse("service:slapolicy_add", args=[e1]),
        reverse("service:slapolicy_add_toml", args=[e1]),
        reverse("service:slapolicy_upload", args=[e1]),
        reverse("service:slapolicy_detail", args=[policy.pk]),
        reverse("service:slapolicy_edit", args=[policy.pk]),
        reverse("service:slapolicy_edit_toml", args=[policy.pk]),
        reverse("service:slapolicy_delete", args=[policy.pk]),
        reverse("service:slapolicy_history", args=[policy.pk]),
        reverse("service:slapolicy_download", args=[policy.pk]),
        reverse("service:slarun_list", args=[e1]),
        reverse("service:slarun_detail", args=[run.pk]),
        reverse("service:slarun_history", args=[run.pk]),
    ]
    member, outsider = client_for(world.it_lead), client_for(world.outsider)
    for url in pages:
        assert member.get(url).status_code == 200, url
        assert outsider.get(url).status_code == 404, url
    progress = reverse("service:slarun_progress", args=[run.pk])
    assert outsider.get(progress).status_code == 404
    start = reverse("service:slarun_start", args=[e1])
    assert outsider.post(start).status_code == 404


def test_detail_shows_targets_calendars_credits_and_the_toml(world, policy, client_for) -> None:
    page = client_for(world.vendor_staff).get(policy.get_absolute_url()).content.decode()
    assert "<pre" in page and "[[targets]]" in page
    for shown in ("4 h", "15 min", "72 h", "95 %", "30 %", "50,000.00 USD", "24 × 7"):
        assert shown in page, shown
    assert "None yet: the version can still be edited" in page
    assert "In force now" in page  # the only version, from 2025


def test_list_says_which_version_is_in_force_and_which_are_frozen(
    world, frozen, client_for
) -> None:
    SlaPolicyFactory(engagement=world.e1, version=2, effective_from=date(2025, 6, 1))
    SlaPolicyFactory(engagement=world.e1, version=3, effective_from=date(2099, 1, 1))
    url = reverse("service:slapolicy_list", args=[world.e1.pk]) + "?export=csv"
    body = b"".join(client_for(world.it_lead).get(url).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:5] == ["Version", "Name", "Effective from", "In force now", "Frozen"]
    flags = {row[0]: (row[3], row[4]) for row in rows[1:]}
    assert flags == {"1": ("no", "yes"), "2": ("yes", "no"), "3": ("no", "no")}


def test_new_version_is_prefilled_from_the_latest_and_numbered_after_it(
    world, policy, client_for
) -> None:
    SlaPolicyFactory(
        engagement=world.e1, version=4, effective_from=date(2025, 2, 1), source=POLICY_TOML
    )
    client = client_for(world.it_lead)
    url = reverse("service:slapolicy_add_toml", args=[world.e1.pk])
    page = client.get(url).content.decode()
    assert "New version (v5)" in page and "Prefilled from v4" in page
    assert "[calendars.always]" in page
    response = client.post(
        url,
        {
            "name": "Amendment 1",
            "effective_from": "2025-03-01",
            "source": POLICY_TOML,
            "note": "Agreed at the March check-in",
        },
    )
    created = SlaPolicy.objects.get(engagement=world.e1, name="Amendment 1")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert (created.version, created.created_by) == (5, world.it_lead)
    [record] = history_for(created, world.it_lead)
    assert (record.action, record.user) == (AuditAction.CREATE, world.it_lead)


def test_toml_mistakes_are_shown_on_the_field_with_their_key(world, policy, client_for) -> None:
    url = reverse("service:slapolicy_add_toml", args=[world.e1.pk])
    response = client_for(world.it_lead).post(
        url, {"name": "Broken", "effective_from": "2025-03-15", "source": BAD_CALENDAR}
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "targets[0].calendar" in errors["source"][0] and "busines" in errors["source"][0]
    assert "first day of a month" in errors["effective_from"][0]
    assert not SlaPolicy.objects.filter(name="Broken").exists()


def test_a_start_month_already_taken_is_refused(world, policy, client_for) -> None:
    url = reverse("service:slapolicy_add_toml", args=[world.e1.pk])
    response = client_for(world.it_lead).post(
        url, {"name": "Again", "effective_from": "2025-01-01", "source": POLICY_TOML}
    )
    assert response.status_code == 422
    assert "Version 1 already takes effect" in response.context["form"].errors["effective_from"][0]


def test_an_unused_version_can_be_edited_and_deleted(world, policy, client_for) -> None:
    client = client_for(world.it_lead)
    edit = reverse("service:slapolicy_edit_toml", args=[policy.pk])
    response = client.post(
        edit,
        {"name": "Renamed", "effective_from": "2025-01-01", "source": POLICY_TOML, "note": ""},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Renamed" and policy.version == 1
    response = client.post(reverse("service:slapolicy_delete", args=[policy.pk]))
    assert response["Location"] == reverse("service:slapolicy_list", args=[world.e1.pk])
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_a_frozen_version_refuses_edit_and_delete_with_the_reason(
    world, frozen, client_for
) -> None:
    client = client_for(world.it_lead)
    detail = client.get(frozen.get_absolute_url()).content.decode()
    assert "This version is frozen" in detail
    assert reverse("service:slapolicy_edit", args=[frozen.pk]) not in detail
    edit = reverse("service:slapolicy_edit_toml", args=[frozen.pk])
    delete = reverse("service:slapolicy_delete", args=[frozen.pk])
    before = ChangeLog.objects.changes().count()
    for response in (
        client.get(edit),
        client.post(edit, {"name": "X", "effective_from": "2025-01-01", "source": POLICY_TOML}),
        client.get(delete),
        client.post(delete),
    ):
        assert response.status_code == 302
        assert response["Location"] == frozen.get_absolute_url()
        message = texts(response)[-1]
        assert "Version 1 is frozen" in message and "Add a new version" in message
    frozen.refresh_from_db()
    assert frozen.name == "MSA schedule B"
    assert ChangeLog.objects.changes().count() == before


def test_observers_may_not_add_upload_or_run(world, policy, client_for) -> None:
    client = client_for(world.observer)
    e1 = world.e1.pk
    assert client.get(reverse("service:slapolicy_add", args=[e1])).status_code == 403
    assert client.get(reverse("service:slapolicy_add_toml", args=[e1])).status_code == 403
    assert client.get(reverse("service:slapolicy_upload", args=[e1])).status_code == 403
    assert client.post(reverse("service:slapolicy_upload", args=[e1])).status_code == 403
    TicketFactory(engagement=world.e1)
    assert client.post(reverse("service:slarun_start", args=[e1])).status_code == 403
    assert not SlaRun.objects.exists()
    page = client.get(reverse("service:slarun_list", args=[e1])).content.decode()
    assert "Run now" not in page


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/toml")


def test_upload_creates_a_new_version(world, policy, client_for) -> None:
    url = reverse("service:slapolicy_upload", args=[world.e1.pk])
    response = client_for(world.it_lead).post(
        url,
        {
            "file": upload("schedule-b.toml", b"\xef\xbb\xbf" + POLICY_TOML.encode()),
            "name": "Schedule B v2",
            "effective_from": "2025-04-01",
        },
    )
    created = SlaPolicy.objects.get(name="Schedule B v2")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.version == 2 and created.source == POLICY_TOML  # byte-order mark dropped
    assert created.created_by == world.it_lead


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BAD_CALENDAR.encode(), "bad.toml: targets[0].calendar: unknown calendar"),
        ("name = 'Zürich'".encode("latin-1"), "bad.toml is not UTF-8 text"),
        (b"x" * (MAX_POLICY_BYTES + 1), "a policy file may be at most 256 KB"),
        (b"[calendars\n", "bad.toml: not valid TOML"),
    ],
)
def test_upload_refuses_bad_files_with_the_reason(
    world, policy, client_for, content, message
) -> None:
    url = reverse("service:slapolicy_upload", args=[world.e1.pk])
    response = client_for(world.it_lead).post(
        url,
        {"file": upload("bad.toml", content), "name": "Bad", "effective_from": "2025-04-01"},
    )
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors["file"])
    assert not SlaPolicy.objects.filter(name="Bad").exists()


def test_upload_refuses_an_oversized_request_before_reading_it(world, client_for) -> None:
    url = reverse("service:slapolicy_upload", args=[world.e1.pk])
    response = client_for(world.it_lead).post(
        url, {"name": "Huge"}, CONTENT_LENGTH=str(10 * MAX_POLICY_BYTES)
    )
    assert response.status_code == 413
    assert "at most 256 KB" in response.content.decode()


def test_download_is_the_toml_as_an_attachment(world, policy, client_for) -> None:
    response = client_for(world.observer).get(
        reverse("service:slapolicy_download", args=[policy.pk])
    )
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="sla-policy-alpha-managed-services-v1.toml"'
    )
    assert response.content.decode() == policy.source


def test_run_now_measures_as_of_a_local_time_and_shows_the_run(world, policy, client_for) -> None:
    TicketFactory(engagement=world.e1, priority="P1")
    client = client_for(world.it_lead)
    response = client.post(
        reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": "2025-03-11T02:00"}
    )
    run = SlaRun.objects.get(engagement=world.e1)
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    # 02:00 in Chicago on March 11, 2025 (CDT since March 9: UTC-5) is 07:00 UTC.
    assert run.as_of == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)
    assert run.status == RunStatus.DONE and run.started_by == world.it_lead
    page = client.get(run.get_absolute_url()).content.decode()
    assert "What it found" in page and "Latest finished run" in page
    assert policy.get_absolute_url() in page


def test_run_now_without_a_policy_explains_why(world, client_for) -> None:
    TicketFactory(engagement=world.e1)
    response = client_for(world.it_lead).post(reverse("service:slarun_start", args=[world.e1.pk]))
    assert response["Location"] == reverse("service:slarun_list", args=[world.e1.pk])
    [message] = texts(response)
    assert "no SLA policy version yet" in message
    assert not SlaRun.objects.exists()


def test_run_now_refuses_a_bad_as_of(world, policy, client_for) -> None:
    TicketFactory(engagement=world.e1)
    response = client_for(world.it_lead).post(
        reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": "yesterday"}
    )
    assert response.status_code == 302
    assert texts(response)[0].startswith("As of:")
    assert not SlaRun.objects.exists()


def test_progress_polls_until_the_run_ends_then_reloads_its_page(world, client_for) -> None:
    from tandem.core.models import Progress

    progress = Progress.objects.create(
        owner=world.it_lead, label="SLA run", kind="sla_run", engagement=world.e1
    )
    run = SlaRunFactory(
        engagement=world.e1, status=RunStatus.RUNNING, finished_at=None, progress=progress
    )
    client = client_for(world.vendor_staff)
    url = reverse("service:slarun_progress", args=[run.pk])
    bar = client.get(url, HTTP_HX_REQUEST="true")
    assert bar.status_code == 200 and b'hx-trigger="every 1s"' in bar.content
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'id="run-progress"' in page
    assert client.get(url).status_code == 302  # not htmx: the run's page
    SlaRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == run.get_absolute_url()


def test_run_list_exports_csv(world, client_for) -> None:
    SlaRunFactory(engagement=world.e1, breaches_count=7)
    url = reverse("service:slarun_list", args=[world.e1.pk]) + "?export=csv"
    body = b"".join(client_for(world.observer).get(url).streaming_content).decode()
    header, row = body.strip().splitlines()
    assert header.startswith("Run,Status,As of")
    assert ",done," in row and "2025-04-01T00:00:00+00:00" in row and ",120" in row
