"""The service API: scoped lists, read-only bulk data, group sides with their rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tandem.service.models import AssignmentGroupSide
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ImportBatchFactory,
    TicketFactory,
    TicketHoldFactory,
)

pytestmark = pytest.mark.django_db


def ids(response) -> set[str]:
    return {row["ticket_id"] for row in response.json()["results"]}


def test_ticket_list_is_scoped_and_filterable(world, api_for) -> None:
    TicketFactory(engagement=world.e1, ticket_id="E1-OPEN", resolved_at=None, priority="P1")
    TicketFactory(engagement=world.e1, ticket_id="E1-DONE")
    TicketFactory(engagement=world.e2, ticket_id="E2-ONE")
    url = reverse("service-api:ticket-list")
    assert ids(api_for(world.vendor_staff).get(url)) == {"E1-OPEN", "E1-DONE"}
    assert ids(api_for(world.outsider).get(url)) == {"E2-ONE"}
    assert ids(api_for(world.admin).get(url)) == {"E1-OPEN", "E1-DONE", "E2-ONE"}
    lead = api_for(world.it_lead)
    assert ids(lead.get(url + "?is_open=true")) == {"E1-OPEN"}
    assert ids(lead.get(url + "?priority=P1")) == {"E1-OPEN"}
    assert ids(lead.get(url + f"?engagement_id={world.e2.pk}")) == set()
    assert lead.get(url + "?opened_month=March").status_code == 400


def test_ticket_detail_carries_utc_instants(world, api_for) -> None:
    ticket = TicketFactory(engagement=world.e1, opened_at=datetime(2025, 3, 3, 14, tzinfo=UTC))
    body = api_for(world.it_lead).get(reverse("service-api:ticket-detail", args=[ticket.pk])).json()
    assert body["opened_at"] == "2025-03-03T14:00:00Z"
    assert body["batch"] == ticket.batch_id
    assert body["display"] == ticket.ticket_id


def test_bulk_data_is_read_only_even_for_a_lead(world, api_for) -> None:
    hold = TicketHoldFactory(ticket=TicketFactory(engagement=world.e1))
    lead = api_for(world.it_lead)
    payload = {"engagement": world.e1.pk, "ticket_id": "NEW", "opened_at": "2025-03-03T14:00:00Z"}
    assert lead.post(reverse("service-api:ticket-list"), payload).status_code == 405
    hold_url = reverse("service-api:tickethold-detail", args=[hold.pk])
    assert lead.patch(hold_url, {"end": None}).status_code == 405
    batch_url = reverse("service-api:importbatch-detail", args=[hold.ticket.batch_id])
    assert lead.delete(batch_url).status_code == 405


def test_holds_and_imports_are_listed_in_scope(world, api_for) -> None:
    mine = TicketHoldFactory(ticket=TicketFactory(engagement=world.e1))
    TicketHoldFactory(ticket=TicketFactory(engagement=world.e2))
    holds = api_for(world.it_lead).get(reverse("service-api:tickethold-list")).json()["results"]
    assert [row["id"] for row in holds] == [mine.pk]
    ImportBatchFactory(engagement=world.e2)
    batches = api_for(world.it_lead).get(reverse("service-api:importbatch-list")).json()
    assert [row["id"] for row in batches["results"]] == [mine.ticket.batch_id]


def test_group_sides_through_the_api(world, api_for) -> None:
    url = reverse("service-api:assignmentgroupside-list")
    lead = api_for(world.it_lead)
    created = lead.post(
        url,
        {
            "engagement": world.e1.pk,
            "assignment_group": "Desk",
            "side": "vendor",
            "vendor": world.acme.pk,
        },
    )
    assert created.status_code == 201, created.json()
    clash = lead.post(
        url, {"engagement": world.e1.pk, "assignment_group": "Desk", "side": "client"}
    )
    assert clash.status_code == 400
    not_a_party = lead.post(
        url,
        {
            "engagement": world.e1.pk,
            "assignment_group": "Other",
            "side": "vendor",
            "vendor": world.bolt.pk,
        },
    )
    assert not_a_party.status_code == 400
    assert "vendor" in not_a_party.json()
    assert AssignmentGroupSide.objects.count() == 1
    AssignmentGroupSideFactory(engagement=world.e2)
    listed = api_for(world.outsider).get(url).json()["results"]
    assert [row["engagement"] for row in listed] == [world.e2.pk]
