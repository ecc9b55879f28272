"""Pages of the service app: render for members, 404 for outsiders, times in the engagement's
zone, filters that slice by the engagement's months."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tandem.core.choices import AuditAction
from tandem.service.choices import GroupSide
from tandem.service.models import AssignmentGroupSide
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ImportBatchFactory,
    TicketFactory,
    TicketHoldFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(world):
    batch = ImportBatchFactory(engagement=world.e1, file_name="march.csv", mapping={"a": "b"})
    march = TicketFactory(
        engagement=world.e1,
        batch=batch,
        ticket_id="INC-MARCH",
        priority="P1",
        # 22:30 on March 31 in Chicago (CDT, UTC-5): a March ticket there.
        opened_at=datetime(2025, 4, 1, 3, 30, tzinfo=UTC),
        responded_at=None,
        resolved_at=None,
    )
    april = TicketFactory(
        engagement=world.e1,
        batch=batch,
        ticket_id="INC-APRIL",
        priority="P3",
        assignment_group="Acme Desk",
        opened_at=datetime(2025, 4, 2, 15, 0, tzinfo=UTC),
        responded_at=None,
        resolved_at=datetime(2025, 4, 2, 18, 0, tzinfo=UTC),
    )
    hold = TicketHoldFactory(ticket=march, start=datetime(2025, 4, 1, 4, 0, tzinfo=UTC), end=None)
    side = AssignmentGroupSideFactory(
        engagement=world.e1, assignment_group="Acme Desk", side=GroupSide.VENDOR, vendor=world.acme
    )
    return {"batch": batch, "march": march, "april": april, "hold": hold, "side": side}


def test_member_pages_render_and_outsiders_get_404(world, data, client_for) -> None:
    e1 = world.e1.pk
    pages = [
        reverse("service:ticket_list", args=[e1]),
        reverse("service:ticket_detail", args=[data["march"].pk]),
        reverse("service:tickethold_list", args=[e1]),
        reverse("service:tickethold_detail", args=[data["hold"].pk]),
        reverse("service:importbatch_list", args=[e1]),
        reverse("service:importbatch_detail", args=[data["batch"].pk]),
        reverse("service:importbatch_history", args=[data["batch"].pk]),
        reverse("service:assignmentgroupside_list", args=[e1]),
        reverse("service:assignmentgroupside_add", args=[e1]),
        reverse("service:assignmentgroupside_detail", args=[data["side"].pk]),
        reverse("service:assignmentgroupside_edit", args=[data["side"].pk]),
        reverse("service:assignmentgroupside_delete", args=[data["side"].pk]),
        reverse("service:assignmentgroupside_history", args=[data["side"].pk]),
    ]
    member, outsider = client_for(world.it_lead), client_for(world.outsider)
    for url in pages:
        assert member.get(url).status_code == 200, url
        assert outsider.get(url).status_code == 404, url


def test_vendor_people_read_tickets_too(world, data, client_for) -> None:
    vendor = client_for(world.vendor_staff)
    assert vendor.get(reverse("service:ticket_list", args=[world.e1.pk])).status_code == 200
    assert vendor.get(data["march"].get_absolute_url()).status_code == 200


def test_ticket_detail_shows_times_in_the_engagement_zone(world, data, client_for) -> None:
    page = client_for(world.it_lead).get(data["march"].get_absolute_url()).content.decode()
    assert "2025-03-31 22:30:00 CDT" in page  # opened, in America/Chicago
    assert "still on hold" in page
    assert "march.csv" in page
    assert "Tickets</a>" in page and "Imports</a>" in page  # the engagement navigation


def test_the_engagement_navigation_links_tickets_and_imports(world, client_for) -> None:
    page = client_for(world.it_lead).get(world.e1.get_absolute_url()).content.decode()
    assert reverse("service:ticket_list", args=[world.e1.pk]) in page
    assert reverse("service:importbatch_list", args=[world.e1.pk]) in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"INC-MARCH", "INC-APRIL"}),
        ("opened_month=2025-03", {"INC-MARCH"}),  # March in Chicago, April in UTC
        ("opened_month=2025-04", {"INC-APRIL"}),
        ("priority=P1", {"INC-MARCH"}),
        ("is_open=true", {"INC-MARCH"}),
        ("is_open=false", {"INC-APRIL"}),
        ("assignment_group=Acme+Desk", {"INC-APRIL"}),
        ("q=april", {"INC-APRIL"}),
        ("sort=-priority", {"INC-MARCH", "INC-APRIL"}),
    ],
)
def test_ticket_list_filters(world, data, client_for, query, expected) -> None:
    url = reverse("service:ticket_list", args=[world.e1.pk]) + "?" + query
    response = client_for(world.it_lead).get(url)
    assert response.status_code == 200
    shown = {t.ticket_id for t in response.context["table"].data}
    assert shown == expected


def test_a_bad_month_is_a_form_error_not_a_500(world, data, client_for) -> None:
    url = reverse("service:ticket_list", args=[world.e1.pk]) + "?opened_month=2025-13"
    response = client_for(world.it_lead).get(url)
    assert response.status_code == 200
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_ticket_csv_export_has_utc_instants(world, data, client_for) -> None:
    url = reverse("service:ticket_list", args=[world.e1.pk]) + "?export=csv&priority=P1"
    response = client_for(world.it_lead).get(url)
    body = b"".join(response.streaming_content).decode()
    header, row, *rest = body.strip().splitlines()
    assert header.startswith("Ticket,Priority,Kind,Opened")
    assert row.startswith("INC-MARCH,P1,Incident,2025-04-01T03:30:00+00:00")
    assert rest == []


def test_bulk_data_has_no_write_pages(world, data, client_for) -> None:
    page = client_for(world.it_lead).get(data["march"].get_absolute_url()).content.decode()
    assert ">Edit<" not in page and ">Delete<" not in page
    imports = client_for(world.it_lead).get(reverse("service:importbatch_list", args=[world.e1.pk]))
    assert "Add ticket import" not in imports.content.decode()


def test_group_sides_are_edited_with_an_audit_trail(world, client_for) -> None:
    client = client_for(world.it_lead)
    add = reverse("service:assignmentgroupside_add", args=[world.e1.pk])
    response = client.post(
        add, {"assignment_group": "Desk", "side": "vendor", "vendor": world.acme.pk}
    )
    assert response.status_code == 302
    side = AssignmentGroupSide.objects.get(engagement=world.e1, assignment_group="Desk")
    assert side.vendor == world.acme
    history = client.get(reverse("service:assignmentgroupside_history", args=[side.pk]))
    assert history.context["history"].get().action == AuditAction.CREATE
    again = client.post(add, {"assignment_group": "Desk", "side": "client"})
    assert again.status_code == 422
    assert "Desk already has a side." in again.content.decode()


def test_a_group_side_vendor_must_be_a_vendor_party(world, client_for) -> None:
    add = reverse("service:assignmentgroupside_add", args=[world.e1.pk])
    client = client_for(world.it_lead)
    # Bolt is a vendor, but not in this engagement: not even offered.
    response = client.post(
        add, {"assignment_group": "X", "side": "vendor", "vendor": world.bolt.pk}
    )
    assert response.status_code == 422
    assert "vendor" in response.context["form"].errors
    # A client-team group names no vendor.
    response = client.post(
        add, {"assignment_group": "X", "side": "client", "vendor": world.acme.pk}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["vendor"] == [
        "Name a vendor only for a group the vendor works."
    ]
